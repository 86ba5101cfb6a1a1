/**
 * A GPT's parameters by nanoGPT's state_dict names, with shapes as PyTorch stores them
 * (Linear weights are (out, in)), and their GPT-2 initialisation.
 */
import type { GPTConfig } from "./config.js";
import { Rng } from "../../util/random.js";

export interface ParamSpec {
  name: string;
  shape: number[];
  init: "normal" | "residual" | "ones" | "zeros";
}

/** Every parameter, in a fixed order. The LM head is tied to transformer.wte.weight and not listed. */
export function gptParamSpecs(config: GPTConfig): ParamSpec[] {
  const { vocabSize, blockSize, nLayer, nEmbd: C, bias, attnOnly } = config;
  const specs: ParamSpec[] = [
    { name: "transformer.wte.weight", shape: [vocabSize, C], init: "normal" },
    { name: "transformer.wpe.weight", shape: [blockSize, C], init: "normal" },
  ];
  const layerNorm = (name: string) => {
    specs.push({ name: `${name}.weight`, shape: [C], init: "ones" });
    if (bias) specs.push({ name: `${name}.bias`, shape: [C], init: "zeros" });
  };
  const linear = (name: string, inFeatures: number, outFeatures: number, init: ParamSpec["init"]) => {
    specs.push({ name: `${name}.weight`, shape: [outFeatures, inFeatures], init });
    if (bias) specs.push({ name: `${name}.bias`, shape: [outFeatures], init: "zeros" });
  };
  for (let i = 0; i < nLayer; i++) {
    const h = `transformer.h.${i}`;
    layerNorm(`${h}.ln_1`);
    linear(`${h}.attn.c_attn`, C, 3 * C, "normal");
    linear(`${h}.attn.c_proj`, C, C, "residual");
    if (attnOnly) continue;
    layerNorm(`${h}.ln_2`);
    linear(`${h}.mlp.c_fc`, C, 4 * C, "normal");
    linear(`${h}.mlp.c_proj`, 4 * C, C, "residual");
  }
  layerNorm("transformer.ln_f");
  return specs;
}

/**
 * GPT-2's initialisation: weights ~ N(0, 0.02²), the projections that write into the residual
 * stream ~ N(0, (0.02/√(2·nLayer))²) so the stream's variance does not grow with depth (√nLayer when
 * attention-only: one such projection per block, not two),
 * LayerNorm gains 1, biases 0. Values are drawn from `rng` in spec order, so a seed fixes them.
 */
export function initParamValues(config: GPTConfig, rng: Rng): Map<string, Float32Array> {
  const residualStd = 0.02 / Math.sqrt((config.attnOnly ? 1 : 2) * config.nLayer);
  const values = new Map<string, Float32Array>();
  for (const spec of gptParamSpecs(config)) {
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    if (spec.init === "ones") data.fill(1);
    if (spec.init === "normal" || spec.init === "residual") {
      const std = spec.init === "normal" ? 0.02 : residualStd;
      for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    }
    values.set(spec.name, data);
  }
  return values;
}
