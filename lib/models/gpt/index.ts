/**
 * nanoGPT's GPT in TensorFlow.js.
 *
 *   const model = new GPT({ vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0, bias: false }, { seed: 1337 });
 *   new GPT({ ...config, attnOnly: true })                  // attention-only blocks (TransformerLens's attn_only): no ln_2, no MLP
 *   const { logits, loss } = model.forward(x, y);          // x, y: (B, T) int32; logits (B, T, V); loss: mean cross-entropy
 *   model.forward(x, undefined, { lastPositionOnly: true }) // logits (B, 1, V), for sampling
 *   model.forward(x, y, { training: true, rng })            // dropout on, masks seeded by rng (an Rng)
 *   const cache = new KVCache(model.config); model.forward(next, undefined, { cache }) // idx: only the positions after the cached ones
 *   model.numParams()                                       // without position embeddings, as nanoGPT prints
 *   model.params["transformer.h.0.attn.c_attn.weight"]      // tf.Variable, nanoGPT names and PyTorch (out, in) shapes
 *   await saveGPT(model, "out/model.safetensors"); const same = loadGPT("out/model.safetensors");
 *
 * Exports: GPT, KVCache (per-layer keys/values for sampling: length, batchSize, keepSequences(rows), dispose()), GPTConfig, GPT2_SMALL, gptConfig(partial), ForwardOptions, ForwardResult, GPTOptions,
 * gptParamSpecs(config), initParamValues(config, rng), gptWeights(model) (async), setGPTWeights(model, weights),
 * saveGPT(model, path, metadata?) (async), loadGPT(path) (checks config, names, shapes, dtypes and finiteness
 * before building: FileFormatError), readGPTWeights(file, content), buildGPT(config, weights), and the layers: linear, layerNorm, gelu, geluTanh,
 * activationFunction(name), crossEntropy, dropout.
 *
 * GPT-2 from Hugging Face (config.activation "gelu_tanh"; GPT2_PRESETS gpt2 … gpt2-xl):
 *   const gpt2 = await GPT.fromPretrained("gpt2");     // = loadPretrainedGPT: preset, hub repo id or local folder
 *   await saveHuggingFace(gpt2, "out/gpt2-copy");       // config.json + model.safetensors that transformers loads
 * Also: hasPretrainedWeights(source) (no download needed?), hubFile(repo, file, options) (the HF cache, downloading when needed), cachedHubFile, pretrainedFiles,
 * configFromHuggingFace / configToHuggingFace, weightsFromHuggingFace(file, content, config), HubDownloadError,
 * GPT2_REPOS, and the options types HubOptions, PretrainedOptions.
 */
export * from "./config.js";
export * from "./params.js";
export * from "./layers.js";
export * from "./model.js";
export * from "./kv-cache.js";
export * from "./io.js";
export * from "./huggingface.js";
export * from "./pretrained.js";
