/**
 * One interface for every model the evals talk to (after Evalugator's `execute(GetTextRequest |
 * GetProbsRequest)`): `getText` for a reply, `getProbs` for the next-token distribution where the
 * provider offers log-probs, and `chat` for function calling. What every provider shares lives
 * here: a concurrency limit, retries with exponential back-off on 429, 5xx and timeouts, and a tally
 * of requests, retries, tokens and (given prices) cost.
 */
import type { Message, RunTally } from "../structs.js";
import type { ChatTurn, ConversationItem, ToolSpec } from "../tools.js";

export interface GetTextRequest {
  prompt: Message[];
  temperature?: number;
  maxTokens?: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface GetTextResponse {
  model: string;
  text: string;
  /** Why generation stopped, as the API says it ("stop", "end_turn", "length", ...). */
  finishReason: string;
  usage: Usage;
}

export interface GetProbsRequest {
  prompt: Message[];
  /** At least this many of the most likely next tokens. */
  minTopN: number;
}

export interface GetProbsResponse {
  model: string;
  /** Next-token text → probability for the top tokens (an object: keys like "7" do not keep their order). */
  probs: Record<string, number>;
  usage: Usage;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface Provider {
  /** The model's name as the API knows it; EvalResult.completer. */
  readonly model: string;
  readonly tally: Tally;
  getText(request: GetTextRequest, options?: CallOptions): Promise<GetTextResponse>;
  /** Absent where the API offers no log-probs (Anthropic). */
  getProbs?(request: GetProbsRequest, options?: CallOptions): Promise<GetProbsResponse>;
  /** One model turn of a conversation with tools (see tools.ts); absent for models without tool calling. */
  chat?(conversation: ConversationItem[], tools: ToolSpec[], options?: CallOptions & { maxTokens?: number }): Promise<ChatTurn>;
}

/** A provider failure worth one line: a missing key, an unknown model, a request that kept failing. */
export class ProviderError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "ProviderError";
  }
}

/** Dollars per million tokens, for the cost line of the tally (prices change: pass your own). */
export interface Prices {
  inputPerMTok: number;
  outputPerMTok: number;
}

export class Tally {
  requests = 0;
  retries = 0;
  failures = 0;
  inputTokens = 0;
  outputTokens = 0;

  constructor(readonly prices?: Prices) {}

  add(usage: Usage): void {
    this.requests++;
    this.inputTokens += usage.inputTokens;
    this.outputTokens += usage.outputTokens;
  }

  /** Dollars spent, or null without prices. */
  get cost(): number | null {
    if (!this.prices) return null;
    return (this.inputTokens * this.prices.inputPerMTok + this.outputTokens * this.prices.outputPerMTok) / 1e6;
  }

  /** The tally so far, as an EvalResult stores it. */
  snapshot(): RunTally {
    return { requests: this.requests, retries: this.retries, failures: this.failures, input_tokens: this.inputTokens, output_tokens: this.outputTokens, cost_usd: this.cost };
  }

  summary(): string {
    const cost = this.cost === null ? "" : `, $${this.cost.toFixed(4)}`;
    return `${this.requests} requests, ${this.retries} retries, ${this.failures} failed, ${this.inputTokens} input + ${this.outputTokens} output tokens${cost}`;
  }
}

/** What `tally` counted since `start` (an earlier `tally.snapshot()`), with the cost of those tokens alone. */
export function tallySince(tally: Tally, start: RunTally): RunTally {
  const input = tally.inputTokens - start.input_tokens;
  const output = tally.outputTokens - start.output_tokens;
  const cost = tally.prices ? (input * tally.prices.inputPerMTok + output * tally.prices.outputPerMTok) / 1e6 : null;
  return { requests: tally.requests - start.requests, retries: tally.retries - start.retries, failures: tally.failures - start.failures, input_tokens: input, output_tokens: output, cost_usd: cost };
}

export interface RetryPolicy {
  /** Attempts after the first (default 5). */
  maxRetries?: number;
  /** First back-off in ms, doubled each retry, with jitter (default 500). */
  baseDelayMs?: number;
  /** Longest back-off in ms (default 30,000); a server's retry-after is honoured up to this. */
  maxDelayMs?: number;
}

/** At most `limit` calls at once; the others wait their turn in order. */
export class ConcurrencyLimit {
  private active = 0;
  private waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`concurrency must be an integer >= 1, got ${limit}`);
  }

  /** Run `task` when a slot is free; a call whose signal aborted while it waited throws instead of running. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (signal?.aborted) {
      this.waiting.shift()?.();
      throw signal.reason;
    }
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** What a failed attempt means: retry it (after how long, if the server said), or give up. */
export interface FailureVerdict {
  retry: boolean;
  retryAfterMs?: number;
}

/**
 * Call `attempt` until it succeeds, the error is not retryable, or the retries run out; each retry
 * is counted in the tally. The SDKs' own retries are off so that all providers retry the same way.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  classify: (error: unknown) => FailureVerdict,
  tally: Tally,
  policy: RetryPolicy = {},
  signal?: AbortSignal,
): Promise<T> {
  const maxRetries = policy.maxRetries ?? 5;
  const base = policy.baseDelayMs ?? 500;
  const maxDelay = policy.maxDelayMs ?? 30_000;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.retry || n >= maxRetries || signal?.aborted) {
        tally.failures++;
        throw error;
      }
      tally.retries++;
      const backoff = base * 2 ** n * (0.5 + Math.random() / 2);
      await sleep(Math.min(maxDelay, Math.max(verdict.retryAfterMs ?? 0, backoff)), signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Read an API key from the options or the environment, or fail with the line that says what to set. */
export function requireKey(given: string | undefined, envName: string, who: string): string {
  const key = given ?? process.env[envName];
  if (!key) throw new ProviderError(`${who}: ${envName} is not set (export it, or pass { apiKey })`);
  return key;
}

/** Milliseconds from a retry-after-ms or retry-after header (seconds or an HTTP date). */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get("retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
