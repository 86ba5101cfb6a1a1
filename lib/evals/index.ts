/**
 * Evals, after Evalugator: samples, eval specs and results (structs), running and resuming (run,
 * store), the arithmetic eval with exact rationals (arithmetic, rational, stats), providers for
 * OpenAI, Anthropic, OpenAI-compatible servers and the course's own GPTs (providers), function
 * calling with zod tools (tools), loopback fakes of both APIs (fakes) and a SAD loader (sad).
 *
 *   const spec = arithmeticEval({ n: 500, maxDepth: 6, seed: 1 });
 *   const result = await runEval(spec, openAIProvider({ model: "gpt-4o-mini" }), { runDir: "out/evals/arith" });
 *   showTable(accuracyBySplit(result, "depth")); showPlot(arithmeticHeatmap(result)); resultsFrame(result);
 *
 * Exports: Rational; Expr, evaluate, depth, operationCount, render, randomExpression, drawExpression,
 *   arithmeticProblems, lengthBucket, parseNumber, withinTolerance, arithmeticEval, topOperator, calculate (a calculator without eval);
 *   Sample (QASample | MCQuestionSample), Message, Batch, EvalSpec, SampleResult, EvalResult (Evalugator's JSON shape,
 *   plus our RunTally as `tally`), EvalCounts, contentId, qaSample, mcQuestion, makeBatch, countResults, requestError,
 *   evalResultFromJson, evalResultJson; runEval(spec, provider, { runDir, onProgress, signal }) → RunResult (RunSampleResult each);
 *   RunLog, readRunLog, addTallies; wilsonInterval, accuracyBySplit, arithmeticHeatmap; resultsFrame;
 *   Provider, GetTextRequest/Response, GetProbsRequest/Response, Tally, tallySince, ProviderError, ConcurrencyLimit, withRetries,
 *   openAIProvider, openAICompatibleProvider, anthropicProvider, courseModelProvider, courseCheckpointProvider, nextTokenProbs;
 *   defineTool, toolJsonSchema, openAITool, anthropicTool, runToolLoop, formatTranscript;
 *   startFakeApi, openAIReply, anthropicReply, apiError, unknownModel, calculatorModel;
 *   findSadTasks, loadSadTask, sadEval, orderChoices;
 *   HellaSwag as build-nanogpt scores it (hellaswag): loadHellaSwag(path?), parseHellaSwag, renderExample,
 *   scoreExample, evaluateHellaSwag(model, examples, encode, options) → { acc, accNorm, … }, formatHellaSwag,
 *   HELLASWAG_GPT2_ACC_NORM = 0.2945.
 */
export * from "./rational.js";
export * from "./structs.js";
export * from "./arithmetic.js";
export * from "./stats.js";
export * from "./store.js";
export * from "./run.js";
export * from "./frame.js";
export * from "./tools.js";
export * from "./fakes.js";
export * from "./sad.js";
export * from "./providers/index.js";
export * from "./hellaswag.js";
