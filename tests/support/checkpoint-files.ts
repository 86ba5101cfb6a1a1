// Helpers for tests that corrupt files on purpose: build a small real checkpoint, and rewrite a
// safetensors header as JSON while keeping the data bytes as they are (no checks of our own).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GPT, type GPTConfig } from "../../lib/models/gpt/index.js";
import { Trainer, type TrainConfig } from "../../lib/train/index.js";
import { Rng } from "../../lib/util/random.js";

export const tinyConfig: GPTConfig = { vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8, dropout: 0, bias: true };

export function tokens(n: number, seed: number): Uint16Array {
  const rng = new Rng(seed);
  return Uint16Array.from({ length: n }, () => rng.randint(0, tinyConfig.vocabSize));
}

/** Train a tiny GPT for a few steps and return its checkpoint's path (dir/ckpt.safetensors). */
export async function smallCheckpoint(dir: string, config: Partial<GPTConfig> = {}, train: Partial<TrainConfig> = {}): Promise<string> {
  const trainer = new Trainer(new GPT({ ...tinyConfig, ...config }, { seed: 3 }), { train: tokens(400, 1), val: tokens(100, 2) }, {
    batchSize: 2, maxIters: 3, evalInterval: 2, evalIters: 1, outDir: dir, ...train,
  });
  await trainer.run();
  trainer.dispose();
  trainer.model.dispose();
  return join(dir, "ckpt.safetensors");
}

export interface SplitFile {
  header: Record<string, any>;
  data: Uint8Array;
}

export function splitSafetensors(bytes: Uint8Array): SplitFile {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: new Uint8Array(bytes.subarray(8 + n)) }; // a copy with its own buffer (a Buffer's slice is a view)
}

export function joinSafetensors(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The file's bytes with its header changed by `edit` (metadata values are strings; JSON ones parsed for editing). */
export function editHeader(path: string, edit: (header: Record<string, any>) => void): Uint8Array {
  const { header, data } = splitSafetensors(readFileSync(path));
  edit(header);
  return joinSafetensors(header, data);
}

/** Edit one JSON-valued metadata entry (gpt_config, train_config, rng, evals). */
export function editMetadataJson(key: string, edit: (value: any) => any) {
  return (header: Record<string, any>) => {
    const value = JSON.parse(header.__metadata__[key]);
    const edited = edit(value);
    header.__metadata__[key] = JSON.stringify(edited === undefined ? value : edited);
  };
}
