/**
 * Anthropic's Messages API through the official SDK. It has no log-probs, so no getProbs.
 *
 *   const claude = anthropicProvider({ model: "claude-haiku-4-5" });              // ANTHROPIC_API_KEY
 */
import { Anthropic, APIConnectionError, APIError, APIUserAbortError, NotFoundError } from "@anthropic-ai/sdk";
import type { Message } from "../structs.js";
import { anthropicTool, type ChatTurn, type ConversationItem, type ToolSpec } from "../tools.js";
import {
  ConcurrencyLimit,
  Tally,
  requireKey,
  type CallOptions,
  type GetTextRequest,
  type GetTextResponse,
  type Prices,
  type Provider,
  type RetryPolicy,
  type Usage,
} from "./provider.js";
import { callSdk, type SdkContext, type SdkErrors } from "./sdk.js";

export interface AnthropicProviderOptions extends RetryPolicy {
  model: string;
  /** Default: ANTHROPIC_API_KEY. */
  apiKey?: string;
  /** Default: ANTHROPIC_BASE_URL or https://api.anthropic.com. */
  baseURL?: string;
  concurrency?: number;
  timeoutMs?: number;
  prices?: Prices;
}

type Body = Anthropic.Messages.MessageCreateParamsNonStreaming;

const SDK_ERRORS: SdkErrors = { APIError, NotFoundError, APIUserAbortError, APIConnectionError, message: apiMessage };

export class AnthropicProvider implements Provider {
  readonly model: string;
  readonly tally: Tally;
  readonly client: Anthropic;
  private readonly sdk: SdkContext;

  constructor(private options: AnthropicProviderOptions) {
    this.model = options.model;
    this.tally = new Tally(options.prices);
    this.client = new Anthropic({
      apiKey: requireKey(options.apiKey, "ANTHROPIC_API_KEY", "anthropicProvider"),
      baseURL: options.baseURL ?? process.env.ANTHROPIC_BASE_URL ?? undefined,
      timeout: options.timeoutMs ?? 60_000,
      maxRetries: 0,
    });
    const client = this.client;
    this.sdk = { model: this.model, where: () => client.baseURL, errors: SDK_ERRORS, limit: new ConcurrencyLimit(options.concurrency ?? 8), tally: this.tally, policy: options };
  }

  async getText(request: GetTextRequest, options: CallOptions = {}): Promise<GetTextResponse> {
    const { system, messages } = splitSystem(request.prompt);
    const body: Body = { model: this.model, max_tokens: request.maxTokens ?? 256, messages, ...(system ? { system } : {}) };
    // This SDK's Messages API takes no temperature (the model's default sampling applies).
    const reply = await this.create(body, options);
    const text = reply.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
    return { model: this.model, text, finishReason: reply.stop_reason ?? "unknown", usage: usageOf(reply) };
  }

  async chat(conversation: ConversationItem[], tools: ToolSpec[], options: CallOptions & { maxTokens?: number } = {}): Promise<ChatTurn> {
    const system = conversation.flatMap((i) => (i.role === "system" ? [i.content] : [])).join("\n\n");
    const body: Body = { model: this.model, max_tokens: options.maxTokens ?? 1024, messages: toAnthropicMessages(conversation), tools: tools.map(anthropicTool) };
    if (system) body.system = system;
    const reply = await this.create(body, options);
    const text = reply.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
    const toolCalls = reply.content.flatMap((b) => (b.type === "tool_use" ? [{ id: b.id, name: b.name, arguments: b.input }] : []));
    return { text, toolCalls, stopReason: reply.stop_reason ?? "unknown", usage: usageOf(reply) };
  }

  private create(body: Body, options: CallOptions): Promise<Anthropic.Messages.Message> {
    return callSdk(this.sdk, () => this.client.messages.create(body, { signal: options.signal }), usageOf, options.signal);
  }
}

export function anthropicProvider(options: AnthropicProviderOptions): AnthropicProvider {
  return new AnthropicProvider(options);
}

/** 429, 529 (overloaded) and other 5xx, timeouts and dropped connections are retried. */
function apiMessage(error: { error?: unknown; message: string }): string {
  const body = error.error as { error?: { message?: string } } | undefined;
  return (body?.error?.message ?? error.message).replace(/\s*\n\s*/g, " ");
}

function usageOf(reply: Anthropic.Messages.Message): Usage {
  return { inputTokens: reply.usage?.input_tokens ?? 0, outputTokens: reply.usage?.output_tokens ?? 0 };
}

/** Anthropic takes the system prompt apart from the messages. */
function splitSystem(prompt: Message[]): { system: string; messages: Anthropic.Messages.MessageParam[] } {
  const system = prompt.filter((m) => m.role === "system").map((m) => m.content).join("\n\n");
  const messages = prompt.filter((m) => m.role !== "system").map((m) => ({ role: m.role as "user" | "assistant", content: m.content }));
  return { system, messages };
}

/** Tool results of one turn go back together in one user message, as tool_result blocks. */
function toAnthropicMessages(conversation: ConversationItem[]): Anthropic.Messages.MessageParam[] {
  const out: Anthropic.Messages.MessageParam[] = [];
  for (const item of conversation) {
    if (item.role === "system") continue;
    if (item.role === "user") out.push({ role: "user", content: item.content });
    else if (item.role === "assistant") {
      const blocks: Anthropic.Messages.ContentBlockParam[] = [];
      if (item.content) blocks.push({ type: "text", text: item.content });
      for (const c of item.toolCalls) blocks.push({ type: "tool_use", id: c.id, name: c.name, input: typeof c.arguments === "string" ? JSON.parse(c.arguments) : c.arguments });
      out.push({ role: "assistant", content: blocks });
    } else if (item.role === "tool") {
      const block: Anthropic.Messages.ToolResultBlockParam = { type: "tool_result", tool_use_id: item.toolCallId, content: item.content, is_error: item.isError };
      const last = out[out.length - 1];
      if (last && last.role === "user" && Array.isArray(last.content) && last.content.every((b) => b.type === "tool_result")) {
        (last.content as Anthropic.Messages.ToolResultBlockParam[]).push(block);
      } else out.push({ role: "user", content: [block] });
    }
  }
  return out;
}
