/**
 * Hook-point names, as TransformerLens spells them, and its `utils.get_act_name` shorthand:
 *
 *   getActName("pattern", 0)       // "blocks.0.attn.hook_pattern"
 *   getActName("resid_pre", 3)     // "blocks.3.hook_resid_pre"
 *   getActName("q", 6, "a")        // "blocks.6.attn.hook_q"
 *   getActName("scale4ln1")        // "blocks.4.ln1.hook_scale"
 *   getActName("scale")            // "ln_final.hook_scale"
 */

const LAYER_TYPE_ALIAS: Record<string, string> = { a: "attn", m: "mlp", b: "", block: "", blocks: "", attention: "attn" };
const NAME_ALIAS: Record<string, string> = {
  attn: "pattern",
  attn_logits: "attn_scores",
  key: "k",
  query: "q",
  value: "v",
  mlp_pre: "pre",
  mlp_mid: "mid",
  mlp_post: "post",
};
const ATTENTION_NAMES = ["k", "v", "q", "z", "rot_k", "rot_q", "result", "pattern", "attn_scores"];
const MLP_NAMES = ["pre", "post", "mid", "pre_linear"];

/** The full hook name for a short one; a full name (with a "." or starting "hook_") is returned as it is. */
export function getActName(name: string, layer?: number, layerType?: string): string {
  if ((name.includes(".") || name.startsWith("hook_")) && layer === undefined && layerType === undefined) return name;
  let short = name;
  let where: string | number | undefined = layer;
  let type = layerType;
  // "k6" is ("k", 6); "scale4ln1" is ("scale", 4, "ln1"): the first run of digits is the layer.
  const packed = /^([a-z]+)(\d+)(.*)$/.exec(name);
  if (packed) [short, where, type] = [packed[1], Number(packed[2]), packed[3]];
  short = NAME_ALIAS[short] ?? short;
  let full = where === undefined ? "" : `blocks.${where}.`;
  if (ATTENTION_NAMES.includes(short)) type = "attn";
  else if (MLP_NAMES.includes(short)) type = "mlp";
  else if (type !== undefined && type in LAYER_TYPE_ALIAS) type = LAYER_TYPE_ALIAS[type];
  if (type) full += `${type}.`;
  full += `hook_${short}`;
  if ((short === "scale" || short === "normalized") && where === undefined) full = `ln_final.${full}`;
  return full;
}

/**
 * One block's hook points in the order they fire (hook_result only on request, as in TransformerLens).
 * An attention-only block (TransformerLens's attn_only) has no hook_resid_mid, ln2 or MLP points.
 */
export function blockHookNames(layer: number, withResult = false, attnOnly = false): string[] {
  const b = `blocks.${layer}`;
  const attn = ["hook_q", "hook_k", "hook_v", "hook_attn_scores", "hook_pattern", "hook_z", ...(withResult ? ["hook_result"] : [])];
  const mlp = [
    `${b}.hook_resid_mid`,
    `${b}.ln2.hook_scale`,
    `${b}.ln2.hook_normalized`,
    `${b}.mlp.hook_pre`,
    `${b}.mlp.hook_post`,
    `${b}.hook_mlp_out`,
  ];
  return [
    `${b}.hook_resid_pre`,
    `${b}.ln1.hook_scale`,
    `${b}.ln1.hook_normalized`,
    ...attn.map((name) => `${b}.attn.${name}`),
    `${b}.hook_attn_out`,
    ...(attnOnly ? [] : mlp),
    `${b}.hook_resid_post`,
  ];
}

/**
 * Every hook point of an nLayer model in firing order: 2 + 17·nLayer + 2 names (208 for GPT-2 small),
 * +nLayer with hook_result; 2 + 11·nLayer + 2 when attention-only.
 */
export function hookNames(nLayer: number, withResult = false, attnOnly = false): string[] {
  const names = ["hook_embed", "hook_pos_embed"];
  for (let layer = 0; layer < nLayer; layer++) names.push(...blockHookNames(layer, withResult, attnOnly));
  names.push("ln_final.hook_scale", "ln_final.hook_normalized");
  return names;
}
