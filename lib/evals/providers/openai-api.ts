/**
 * (The file is not named openai.ts: tslab resolves `import "openai"` inside a file of that name to the file itself.)
 * OpenAI's Chat Completions through the official SDK, and any OpenAI-compatible server (vLLM,
 * llama.cpp's llama-server, Ollama's /v1) through the same client with another base URL.
 *
 *   const gpt = openAIProvider({ model: "gpt-4o-mini" });                          // OPENAI_API_KEY
 *   const local = openAICompatibleProvider({ model: "qwen2.5", baseURL: "http://127.0.0.1:11434/v1" });
 */
import { APIConnectionError, APIError, APIUserAbortError, NotFoundError, OpenAI } from "openai";
import type { Message } from "../structs.js";
import type { ChatTurn, ConversationItem, ToolSpec } from "../tools.js";
import { openAITool } from "../tools.js";
import {
  ConcurrencyLimit,
  ProviderError,
  Tally,
  requireKey,
  type CallOptions,
  type GetProbsRequest,
  type GetProbsResponse,
  type GetTextRequest,
  type GetTextResponse,
  type Prices,
  type Provider,
  type RetryPolicy,
  type Usage,
} from "./provider.js";
import { callSdk, type SdkContext, type SdkErrors } from "./sdk.js";

export interface OpenAIProviderOptions extends RetryPolicy {
  model: string;
  /** Default: OPENAI_API_KEY. */
  apiKey?: string;
  /** Default: OPENAI_BASE_URL or https://api.openai.com/v1. */
  baseURL?: string;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Per-attempt timeout in ms (default 60,000); a timed-out attempt is retried. */
  timeoutMs?: number;
  prices?: Prices;
  /** "max_completion_tokens" (OpenAI, default) or "max_tokens" (what most local servers read). */
  maxTokensField?: "max_completion_tokens" | "max_tokens";
}

type ChatBody = OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;

const SDK_ERRORS: SdkErrors = { APIError, NotFoundError, APIUserAbortError, APIConnectionError, message: apiMessage };

export class OpenAIProvider implements Provider {
  readonly model: string;
  readonly tally: Tally;
  readonly client: OpenAI;
  private readonly sdk: SdkContext;

  constructor(private options: OpenAIProviderOptions, who = "openAIProvider") {
    this.model = options.model;
    this.tally = new Tally(options.prices);
    this.client = new OpenAI({
      apiKey: requireKey(options.apiKey, "OPENAI_API_KEY", who),
      baseURL: options.baseURL ?? process.env.OPENAI_BASE_URL ?? undefined,
      timeout: options.timeoutMs ?? 60_000,
      maxRetries: 0, // withRetries retries, and counts
    });
    const client = this.client;
    this.sdk = { model: this.model, where: () => client.baseURL, errors: SDK_ERRORS, limit: new ConcurrencyLimit(options.concurrency ?? 8), tally: this.tally, policy: options };
  }

  async getText(request: GetTextRequest, options: CallOptions = {}): Promise<GetTextResponse> {
    const body: ChatBody = { model: this.model, messages: request.prompt.map(toOpenAIMessage), temperature: request.temperature };
    body[this.options.maxTokensField ?? "max_completion_tokens"] = request.maxTokens ?? 256;
    const completion = await this.create(body, options);
    const choice = completion.choices[0];
    return { model: this.model, text: choice?.message.content ?? "", finishReason: choice?.finish_reason ?? "unknown", usage: usageOf(completion) };
  }

  async getProbs(request: GetProbsRequest, options: CallOptions = {}): Promise<GetProbsResponse> {
    if (request.minTopN > 20) throw new ProviderError(`${this.model}: top_logprobs is at most 20, asked for ${request.minTopN}`);
    const body: ChatBody = { model: this.model, messages: request.prompt.map(toOpenAIMessage), temperature: 0, logprobs: true, top_logprobs: request.minTopN };
    body[this.options.maxTokensField ?? "max_completion_tokens"] = 1;
    const completion = await this.create(body, options);
    const first = completion.choices[0]?.logprobs?.content?.[0];
    if (!first) throw new ProviderError(`${this.model}: the reply has no logprobs (does this server support them?)`);
    const probs: Record<string, number> = {};
    for (const t of first.top_logprobs) probs[t.token] = Math.exp(t.logprob);
    return { model: this.model, probs, usage: usageOf(completion) };
  }

  async chat(conversation: ConversationItem[], tools: ToolSpec[], options: CallOptions & { maxTokens?: number } = {}): Promise<ChatTurn> {
    const body: ChatBody = { model: this.model, messages: conversation.map(toOpenAIItem), tools: tools.map(openAITool) };
    body[this.options.maxTokensField ?? "max_completion_tokens"] = options.maxTokens ?? 1024;
    const completion = await this.create(body, options);
    const message = completion.choices[0]?.message;
    const toolCalls = (message?.tool_calls ?? []).flatMap((c) => (c.type === "function" ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : []));
    return { text: message?.content ?? "", toolCalls, stopReason: completion.choices[0]?.finish_reason ?? "unknown", usage: usageOf(completion) };
  }

  private create(body: ChatBody, options: CallOptions): Promise<OpenAI.Chat.Completions.ChatCompletion> {
    return callSdk(this.sdk, () => this.client.chat.completions.create(body, { signal: options.signal }), usageOf, options.signal);
  }
}

export function openAIProvider(options: OpenAIProviderOptions): OpenAIProvider {
  return new OpenAIProvider(options);
}

/** A local OpenAI-compatible server: the key is whatever the server wants ("none" by default), max_tokens as they read it. */
export function openAICompatibleProvider(options: OpenAIProviderOptions & { baseURL: string }): OpenAIProvider {
  return new OpenAIProvider({ maxTokensField: "max_tokens", ...options, apiKey: options.apiKey ?? "none" }, "openAICompatibleProvider");
}

function apiMessage(error: { error?: unknown; message: string }): string {
  const body = error.error as { message?: string } | undefined;
  return (body?.message ?? error.message).replace(/\s*\n\s*/g, " ");
}

function usageOf(completion: OpenAI.Chat.Completions.ChatCompletion): Usage {
  return { inputTokens: completion.usage?.prompt_tokens ?? 0, outputTokens: completion.usage?.completion_tokens ?? 0 };
}

function toOpenAIMessage(m: Message): OpenAI.Chat.Completions.ChatCompletionMessageParam {
  return { role: m.role, content: m.content } as OpenAI.Chat.Completions.ChatCompletionMessageParam;
}

function toOpenAIItem(item: ConversationItem): OpenAI.Chat.Completions.ChatCompletionMessageParam {
  if (item.role === "tool") return { role: "tool", tool_call_id: item.toolCallId, content: item.content };
  if (item.role === "assistant") {
    const toolCalls = item.toolCalls.map((c) => ({
      id: c.id,
      type: "function" as const,
      function: { name: c.name, arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments) },
    }));
    return { role: "assistant", content: item.content || null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
  }
  return { role: item.role, content: item.content };
}
