/**
 * The course library: everything a notebook imports.
 *   import { useBackend, loadText, CharTokenizer, GPT, Trainer } from "./lib";
 */
export * from "./util/random.js";
export * from "./util/profile.js";
export * from "./util/paths.js";
export * from "./engine/index.js";
export * from "./data/index.js";
export * from "./display/index.js";
export * from "./models/index.js";
export * from "./tokenizers/index.js";
export * from "./train/index.js";
export * from "./sample/index.js";
export * from "./io/index.js";
export * from "./interp/index.js";
export * from "./scaling/index.js";
export * from "./evals/index.js";
export * from "./finetune/index.js";
export * from "./dictionary/index.js";
export { nativeThreads, nativeStatus } from "./native/index.js";
