/**
 * Loopback stand-ins for the OpenAI and Anthropic APIs (plain node:http on 127.0.0.1), answering
 * in the real APIs' shapes, so the real SDK clients can be driven with no network and no key: the
 * tests use them for retries, timeouts and tool calls, the evals notebook for its walkthrough.
 *
 *   const fake = await startFakeApi("openai", (request) => openAIReply({ content: "42" }));
 *   const provider = openAIProvider({ model: "gpt-fake", apiKey: "test", baseURL: fake.baseURL });
 *   ... fake.requests (every body received) ...; await fake.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type ApiKind = "openai" | "anthropic";

export interface FakeReply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (a slow server, for timeouts). */
  delayMs?: number;
}

export interface FakeRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: any;
}

export interface FakeApi {
  kind: ApiKind;
  /** What to pass as the SDK's baseURL. */
  baseURL: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

export type Responder = (request: FakeRequest, index: number) => FakeReply | Promise<FakeReply>;

const PATHS: Record<ApiKind, string> = { openai: "/v1/chat/completions", anthropic: "/v1/messages" };

export async function startFakeApi(kind: ApiKind, respond: Responder): Promise<FakeApi> {
  const requests: FakeRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const request: FakeRequest = { path: req.url ?? "", headers: req.headers, body: text ? JSON.parse(text) : null };
    const index = requests.push(request) - 1;
    let reply: FakeReply;
    if (req.method !== "POST" || req.url !== PATHS[kind]) reply = notFound(kind, `${req.method} ${req.url}`);
    else {
      try {
        reply = await respond(request, index);
      } catch (error) {
        reply = apiError(kind, 500, (error as Error).message);
      }
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return; // the client gave up (timeout)
    res.writeHead(reply.status ?? 200, { "content-type": "application/json", ...(kind === "openai" ? { "x-request-id": `req_${index}` } : { "request-id": `req_${index}` }), ...reply.headers });
    res.end(JSON.stringify(reply.body));
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    kind,
    baseURL: kind === "openai" ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface FakeToolCall {
  id?: string;
  name: string;
  /** An object; for OpenAI it is sent as a JSON string, as the real API does (a string is sent as is). */
  arguments: unknown;
}

/** A chat.completion object. */
export function openAIReply(o: { content?: string | null; toolCalls?: FakeToolCall[]; finishReason?: string; model?: string; promptTokens?: number; completionTokens?: number; logprobs?: { token: string; logprob: number }[] }): FakeReply {
  const toolCalls = (o.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_${i}_${Math.random().toString(36).slice(2, 10)}`,
    type: "function",
    function: { name: c.name, arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments) },
  }));
  const prompt = o.promptTokens ?? 12;
  const completion = o.completionTokens ?? 3;
  const logprobs = o.logprobs
    ? { content: [{ token: o.logprobs[0].token, logprob: o.logprobs[0].logprob, bytes: null, top_logprobs: o.logprobs.map((t) => ({ ...t, bytes: null })) }], refusal: null }
    : null;
  return {
    body: {
      id: `chatcmpl-${Math.random().toString(36).slice(2, 12)}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: o.model ?? "gpt-fake",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: o.content ?? null, refusal: null, annotations: [], ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
          logprobs,
          finish_reason: o.finishReason ?? (toolCalls.length ? "tool_calls" : "stop"),
        },
      ],
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      system_fingerprint: "fp_fake",
    },
  };
}

/** A Messages API message object. */
export function anthropicReply(o: { text?: string; toolUses?: FakeToolCall[]; stopReason?: string; model?: string; inputTokens?: number; outputTokens?: number }): FakeReply {
  const content: unknown[] = [];
  if (o.text) content.push({ type: "text", text: o.text });
  (o.toolUses ?? []).forEach((c, i) => content.push({ type: "tool_use", id: c.id ?? `toolu_${i}_${Math.random().toString(36).slice(2, 10)}`, name: c.name, input: c.arguments }));
  return {
    body: {
      id: `msg_${Math.random().toString(36).slice(2, 12)}`,
      type: "message",
      role: "assistant",
      model: o.model ?? "claude-fake",
      content,
      stop_reason: o.stopReason ?? (o.toolUses?.length ? "tool_use" : "end_turn"),
      stop_sequence: null,
      usage: { input_tokens: o.inputTokens ?? 12, output_tokens: o.outputTokens ?? 3 },
    },
  };
}

const OPENAI_ERROR_TYPES: Record<number, [string, string | null]> = {
  400: ["invalid_request_error", null],
  401: ["invalid_request_error", "invalid_api_key"],
  404: ["invalid_request_error", "model_not_found"],
  429: ["requests", "rate_limit_exceeded"],
  500: ["server_error", null],
  503: ["server_error", null],
};
const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  404: "not_found_error",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

/** An error response as each API writes it. */
export function apiError(kind: ApiKind, status: number, message: string, headers?: Record<string, string>): FakeReply {
  if (kind === "openai") {
    const [type, code] = OPENAI_ERROR_TYPES[status] ?? ["server_error", null];
    return { status, headers, body: { error: { message, type, param: null, code } } };
  }
  return { status, headers, body: { type: "error", error: { type: ANTHROPIC_ERROR_TYPES[status] ?? "api_error", message } } };
}

/** What each API answers for a model it does not have. */
export function unknownModel(kind: ApiKind, model: string): FakeReply {
  return kind === "openai"
    ? apiError(kind, 404, `The model \`${model}\` does not exist or you do not have access to it.`)
    : apiError(kind, 404, `model: ${model}`);
}

function notFound(kind: ApiKind, what: string): FakeReply {
  return apiError(kind, 404, `no route ${what}`);
}

/**
 * A scripted "model" that uses a calculator tool the way a real one sometimes does: its first call
 * sends a wrong argument name (the loop sends back the validation error), the second is right, and
 * once it has the result it answers in words. It reads the expression from the last user message.
 */
export function calculatorModel(kind: ApiKind): Responder {
  return (request) => {
    const body = request.body;
    const messages: any[] = body.messages ?? [];
    const userText = (m: any) => (typeof m.content === "string" ? m.content : "");
    const question = [...messages].reverse().find((m) => m.role === "user" && userText(m))?.content ?? "";
    const expression = (/[\d(][\d\s+\-*/().]*[\d)]/.exec(question)?.[0] ?? "1 + 1").trim();
    const results = toolResults(kind, messages);
    const call = (args: unknown, id: string): FakeToolCall => ({ id, name: "calculator", arguments: args });
    if (results.length === 0) {
      const wrong = call({ expr: expression }, "call_1");
      return kind === "openai" ? openAIReply({ content: null, toolCalls: [wrong] }) : anthropicReply({ text: "Let me calculate that.", toolUses: [wrong] });
    }
    const last = results[results.length - 1];
    if (last.isError) {
      const right = call({ expression }, "call_2");
      return kind === "openai" ? openAIReply({ content: null, toolCalls: [right] }) : anthropicReply({ toolUses: [right] });
    }
    const text = `${expression} = ${last.content}`;
    return kind === "openai" ? openAIReply({ content: text }) : anthropicReply({ text });
  };
}

function toolResults(kind: ApiKind, messages: any[]): { content: string; isError: boolean }[] {
  if (kind === "openai") return messages.filter((m) => m.role === "tool").map((m) => ({ content: String(m.content), isError: String(m.content).startsWith("Error") }));
  return messages
    .filter((m) => m.role === "user" && Array.isArray(m.content))
    .flatMap((m) => m.content.filter((b: any) => b.type === "tool_result"))
    .map((b: any) => ({ content: String(b.content), isError: Boolean(b.is_error) }));
}
