// Providers against loopback fakes of the OpenAI and Anthropic APIs, driven through the real SDK
// clients: evals complete through 429s, 500s, 529s and slow replies, each retry counted; missing
// keys and unknown models fail in one line; concurrency, tokens and request shapes are checked, and
// a resumed run's tally is the sum of its parts, token for token as the fake server reported usage.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ProviderError,
  anthropicProvider,
  anthropicReply,
  apiError,
  arithmeticEval,
  evalResultFromJson,
  openAICompatibleProvider,
  openAIProvider,
  openAIReply,
  readRunLog,
  requestError,
  runEval,
  startFakeApi,
  unknownModel,
  type ApiKind,
  type FakeApi,
  type FakeRequest,
} from "../lib/evals/index.js";

const spec = arithmeticEval({ n: 24, maxDepth: 3, seed: 11 });
const answers = new Map(spec.samples.map((s) => [spec.render(s)[1].content, spec.correctOutput(s)]));
const fast = { baseDelayMs: 2, maxDelayMs: 20 };
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** The right answer for the question in a request, as each API carries it. */
function answerFor(kind: ApiKind, request: FakeRequest): string {
  const messages = request.body.messages as { role: string; content: string }[];
  const question = messages[messages.length - 1].content;
  return answers.get(question) ?? "unknown question";
}

let servers: FakeApi[] = [];
const saved = { openai: process.env.OPENAI_API_KEY, anthropic: process.env.ANTHROPIC_API_KEY };
beforeEach(() => {
  delete process.env.OPENAI_API_KEY;
  delete process.env.ANTHROPIC_API_KEY;
  delete process.env.OPENAI_BASE_URL;
  delete process.env.ANTHROPIC_BASE_URL;
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  if (saved.openai !== undefined) process.env.OPENAI_API_KEY = saved.openai;
  if (saved.anthropic !== undefined) process.env.ANTHROPIC_API_KEY = saved.anthropic;
});
async function fake(kind: ApiKind, respond: Parameters<typeof startFakeApi>[1]) {
  const server = await startFakeApi(kind, respond);
  servers.push(server);
  return server;
}

describe("OpenAI provider", () => {
  it("completes an eval through 429s and 500s, counting every retry", async () => {
    let injected = 0;
    const server = await fake("openai", (request, i) => {
      if (i % 3 === 0) {
        injected++;
        return i % 2 === 0 ? apiError("openai", 429, "Rate limit reached for gpt-fake", { "retry-after-ms": "3" }) : apiError("openai", 500, "The server had an error");
      }
      return openAIReply({ content: answerFor("openai", request), promptTokens: 20, completionTokens: 2 });
    });
    const provider = openAIProvider({ model: "gpt-fake", apiKey: "sk-test", baseURL: server.baseURL, concurrency: 4, ...fast });
    const result = await runEval(spec, provider);
    expect(result.counts).toEqual({ total_correct: 24, total_incorrect: 0, incorrect_and_unparsable: 0, incorrect_and_parsable: 0 });
    expect(provider.tally.retries).toBe(injected);
    expect(injected).toBeGreaterThan(5);
    expect(provider.tally.requests).toBe(24);
    expect(server.requests.length).toBe(24 + injected);
    expect(provider.tally.inputTokens).toBe(24 * 20);
    expect(provider.tally.outputTokens).toBe(24 * 2);
    // The request is a real Chat Completions body.
    const body = server.requests[1].body;
    expect(body.model).toBe("gpt-fake");
    expect(body.messages[0].role).toBe("system");
    expect(body.max_completion_tokens).toBe(spec.maxTokens);
    expect(body.temperature).toBe(0);
    expect(server.requests[1].headers.authorization).toBe("Bearer sk-test");
  });

  it("keeps the run's tally in the run folder, summed over a resumed run, token for token as the server reported", async () => {
    let injected = 0;
    const served: { prompt: number; completion: number }[] = [];
    const server = await fake("openai", (request, i) => {
      if (i % 5 === 2) {
        injected++;
        return apiError("openai", 500, "The server had an error");
      }
      const question = request.body.messages[request.body.messages.length - 1].content as string;
      const usage = { prompt: question.length, completion: answerFor("openai", request).length };
      served.push(usage);
      return openAIReply({ content: answerFor("openai", request), promptTokens: usage.prompt, completionTokens: usage.completion });
    });
    const dir = mkdtempSync(join(tmpdir(), "evals-tally-"));
    try {
      const prices = { inputPerMTok: 0.15, outputPerMTok: 0.6 };
      const make = () => openAIProvider({ model: "gpt-fake", apiKey: "k", baseURL: server.baseURL, concurrency: 2, prices, ...fast });
      // The first part asks 10 samples and stops; a fresh provider (as after a restart) resumes the run.
      const first = await runEval({ ...spec, samples: spec.samples.slice(0, 10) }, make(), { runDir: dir });
      const firstServed = served.length;
      const firstInjected = injected;
      expect(first.tally).toMatchObject({ requests: 10, retries: firstInjected, failures: 0, input_tokens: sum(served.map((u) => u.prompt)) });
      const result = await runEval(spec, make(), { runDir: dir });
      expect(served.length - firstServed).toBe(14);
      const input = sum(served.map((u) => u.prompt));
      const output = sum(served.map((u) => u.completion));
      expect(input).toBe(sum(spec.samples.map((s) => spec.render(s)[1].content.length))); // each sample answered once
      expect(result.tally).toEqual({ requests: 24, retries: injected, failures: 0, input_tokens: input, output_tokens: output, cost_usd: expect.any(Number) });
      expect(result.tally.cost_usd).toBeCloseTo((input * 0.15 + output * 0.6) / 1e6, 15);
      expect(injected).toBeGreaterThan(firstInjected);
      expect(server.requests.length).toBe(24 + injected);
      expect(evalResultFromJson(readFileSync(join(dir, "eval_result.json"), "utf8")).tally).toEqual(result.tally);
      expect(readRunLog(join(dir, "results.jsonl")).parts).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("retries a reply slower than the timeout", async () => {
    const server = await fake("openai", (request, i) => ({ ...openAIReply({ content: answerFor("openai", request) }), delayMs: i === 0 ? 3000 : 0 }));
    const provider = openAIProvider({ model: "gpt-fake", apiKey: "k", baseURL: server.baseURL, timeoutMs: 600, concurrency: 1, ...fast });
    const result = await runEval({ ...spec, samples: spec.samples.slice(0, 2) }, provider);
    expect(result.accuracy).toBe(1);
    // The slow first attempt timed out and was retried (on a loaded machine another may time out too).
    expect(provider.tally.retries).toBeGreaterThanOrEqual(1);
    expect(server.requests.length).toBe(2 + provider.tally.retries);
  });

  it("records a request that keeps failing, or stops the run with one line", async () => {
    const server = await fake("openai", () => apiError("openai", 500, "The server had an error\nwhile processing"));
    const provider = openAIProvider({ model: "gpt-fake", apiKey: "k", baseURL: server.baseURL, maxRetries: 2, ...fast });
    const one = { ...spec, samples: spec.samples.slice(0, 1) };
    const result = await runEval(one, provider);
    expect(result.sample_results[0].score).toBe(0);
    expect(requestError(result.sample_results[0])).toMatch(/^gpt-fake at http:\/\/127\.0\.0\.1:\d+\/v1: HTTP 500: The server had an error while processing$/);
    expect(provider.tally.retries).toBe(2);
    expect(provider.tally.failures).toBe(1);
    await expect(runEval(one, provider, { onRequestError: "throw" })).rejects.toThrow(ProviderError);
  });

  it("fails in one line for a missing key and an unknown model (no retries)", async () => {
    expect(() => openAIProvider({ model: "gpt-4o-mini" })).toThrow(/^openAIProvider: OPENAI_API_KEY is not set \(export it, or pass \{ apiKey \}\)$/);
    const server = await fake("openai", (request) => unknownModel("openai", request.body.model));
    const provider = openAIProvider({ model: "gpt-nope", apiKey: "k", baseURL: server.baseURL, ...fast });
    const error = await provider.getText({ prompt: [{ role: "user", content: "hi" }] }).catch((e) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toMatch(/^unknown model "gpt-nope" at http:\/\/127\.0\.0\.1:\d+\/v1: The model `gpt-nope` does not exist or you do not have access to it\.$/);
    expect(server.requests.length).toBe(1);
    expect(provider.tally.retries).toBe(0);
  });

  it("reads the key from OPENAI_API_KEY and the next-token probabilities from logprobs", async () => {
    process.env.OPENAI_API_KEY = "sk-env";
    const server = await fake("openai", () =>
      openAIReply({ content: "A", logprobs: [{ token: "A", logprob: Math.log(0.7) }, { token: "B", logprob: Math.log(0.2) }] }),
    );
    const provider = openAIProvider({ model: "gpt-fake", baseURL: server.baseURL });
    const { probs } = await provider.getProbs({ prompt: [{ role: "user", content: "A or B?" }], minTopN: 2 });
    expect(probs.A).toBeCloseTo(0.7, 12);
    expect(probs.B).toBeCloseTo(0.2, 12);
    const body = server.requests[0].body;
    expect(body).toMatchObject({ logprobs: true, top_logprobs: 2, max_completion_tokens: 1 });
    expect(server.requests[0].headers.authorization).toBe("Bearer sk-env");
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const server = await fake("openai", async (request) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return openAIReply({ content: answerFor("openai", request) });
    });
    const provider = openAIProvider({ model: "gpt-fake", apiKey: "k", baseURL: server.baseURL, concurrency: 3 });
    await runEval(spec, provider);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
  });
});

describe("OpenAI-compatible servers", () => {
  it("use the same client with a base URL, max_tokens and no key needed", async () => {
    const server = await fake("openai", (request) => openAIReply({ content: `  ${answerFor("openai", request)}\n`, model: "qwen2.5:0.5b" }));
    const provider = openAICompatibleProvider({ model: "qwen2.5:0.5b", baseURL: server.baseURL });
    const result = await runEval({ ...spec, samples: spec.samples.slice(0, 5) }, provider);
    expect(result.accuracy).toBe(1);
    expect(result.completer).toBe("qwen2.5:0.5b");
    const body = server.requests[0].body;
    expect(body.max_tokens).toBe(spec.maxTokens);
    expect(body.max_completion_tokens).toBeUndefined();
    expect(server.requests[0].headers.authorization).toBe("Bearer none");
  });

  it("say which server cannot be reached", async () => {
    const provider = openAICompatibleProvider({ model: "m", baseURL: "http://127.0.0.1:9/v1", maxRetries: 1, ...fast });
    await expect(provider.getText({ prompt: [{ role: "user", content: "hi" }] })).rejects.toThrow(/^m: cannot reach http:\/\/127\.0\.0\.1:9\/v1: /);
    expect(provider.tally.retries).toBe(1);
  });
});

describe("Anthropic provider", () => {
  it("completes an eval through 429s and 529s, the system prompt apart", async () => {
    let injected = 0;
    const server = await fake("anthropic", (request, i) => {
      if (i % 4 === 1) {
        injected++;
        return i % 8 === 1 ? apiError("anthropic", 529, "Overloaded") : apiError("anthropic", 429, "rate limited", { "retry-after": "0" });
      }
      return anthropicReply({ text: answerFor("anthropic", request), inputTokens: 30, outputTokens: 4 });
    });
    const provider = anthropicProvider({ model: "claude-fake", apiKey: "ak", baseURL: server.baseURL, concurrency: 2, ...fast });
    const result = await runEval(spec, provider);
    expect(result.accuracy).toBe(1);
    expect(provider.tally.retries).toBe(injected);
    expect(injected).toBeGreaterThan(3);
    expect(provider.tally.inputTokens).toBe(24 * 30);
    const body = server.requests[0].body;
    expect(body.system).toMatch(/calculator/);
    expect(body.messages.map((m: { role: string }) => m.role)).toEqual(["user"]);
    expect(body.max_tokens).toBe(spec.maxTokens);
    const headers = server.requests[0].headers;
    expect(headers["x-api-key"] ?? headers.authorization).toMatch(/^(Bearer )?ak$/); // this SDK version sends the key as a bearer token
    expect(server.requests[0].headers["anthropic-version"]).toBeTruthy();
  });

  it("fails in one line for a missing key and an unknown model, and offers no getProbs", async () => {
    expect(() => anthropicProvider({ model: "claude-x" })).toThrow(/^anthropicProvider: ANTHROPIC_API_KEY is not set/);
    const server = await fake("anthropic", (request) => unknownModel("anthropic", request.body.model));
    const provider = anthropicProvider({ model: "claude-nope", apiKey: "ak", baseURL: server.baseURL, ...fast });
    await expect(provider.getText({ prompt: [{ role: "user", content: "hi" }] })).rejects.toThrow(/^unknown model "claude-nope" at http:\/\/127\.0\.0\.1:\d+: model: claude-nope$/);
    expect(server.requests.length).toBe(1);
    expect((provider as { getProbs?: unknown }).getProbs).toBeUndefined();
  });

  it("prices the tally when given prices", async () => {
    const server = await fake("anthropic", () => anthropicReply({ text: "1", inputTokens: 1_000_000, outputTokens: 500_000 }));
    const provider = anthropicProvider({ model: "claude-fake", apiKey: "ak", baseURL: server.baseURL, prices: { inputPerMTok: 1, outputPerMTok: 5 } });
    await provider.getText({ prompt: [{ role: "user", content: "1?" }] });
    expect(provider.tally.cost).toBeCloseTo(3.5, 12);
    expect(provider.tally.summary()).toBe("1 requests, 0 retries, 0 failed, 1000000 input + 500000 output tokens, $3.5000");
  });
});
