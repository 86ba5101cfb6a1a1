/**
 * Evaluations of a trained model beyond its loss.
 *
 *   loadHellaSwag(path?) → HellaSwagExample[]   (default: the registry's "hellaswag-val", data/hellaswag_val.jsonl)
 *   parseHellaSwag(text, file)                  one-line FileFormatError naming the file and line for a bad line
 *   renderExample(example, encode) → { contextTokens, endingTokens, label }
 *   scoreExample(model, rendered) → { sumLoss, meanLoss, pred, predNorm }
 *   evaluateHellaSwag(model, examples, encode, { limit?, onExample?, shouldStop? }) → { total, acc, accNorm, scores, … }
 *   formatHellaSwag(result); HELLASWAG_GPT2_ACC_NORM = 0.2945 (GPT-2 124M, build-nanogpt)
 */
export * from "./hellaswag.js";
