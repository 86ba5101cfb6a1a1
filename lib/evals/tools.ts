/**
 * Function calling: declare a tool once, with its arguments as a zod schema, and get the JSON
 * Schema each API wants (OpenAI `tools[].function.parameters` with `strict`, Anthropic
 * `input_schema`); then a loop that lets the model call tools until it answers.
 *
 * Why zod: the library already validates checkpoint headers with it, zod 4 writes JSON Schema
 * itself (`z.toJSONSchema`), and the same schema both describes the arguments to the model and
 * checks the arguments the model sends back, with TypeScript types inferred from it.
 *
 *   const calculator = defineTool({ name: "calculator", description: "...", parameters: z.object({ expression: z.string() }),
 *                                   run: ({ expression }) => String(evaluate(parseExpression(expression))) });
 *   const { transcript, text } = await runToolLoop(provider, [{ role: "user", content: "What is 37 * 41?" }], [calculator]);
 */
import { z } from "zod";
import type { CallOptions, Provider, Usage } from "./providers/provider.js";

export interface ToolSpec<A = any> {
  name: string;
  description: string;
  parameters: z.ZodType<A>;
  run(args: A): unknown | Promise<unknown>;
}

export function defineTool<S extends z.ZodType>(tool: { name: string; description: string; parameters: S; run(args: z.infer<S>): unknown | Promise<unknown> }): ToolSpec<z.infer<S>> {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) throw new Error(`defineTool: name "${tool.name}" must be 1-64 letters, digits, _ or - (both APIs require it)`);
  return tool as ToolSpec<z.infer<S>>;
}

/** The arguments' JSON Schema (draft 2020-12 without its $schema line). */
export function toolJsonSchema(tool: ToolSpec): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.parameters) as Record<string, unknown>;
  if (schema.type !== "object") throw new Error(`tool ${tool.name}: parameters must be a z.object(...)`);
  return schema;
}

/**
 * OpenAI's strict mode (arguments guaranteed to match) needs every property required and no extra
 * properties, at every level: an optional field must be written `.nullable()` instead.
 */
export function strictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(strictCompatible);
  if (schema === null || typeof schema !== "object") return true;
  const s = schema as Record<string, unknown>;
  if (s.type === "object") {
    const keys = Object.keys((s.properties as object) ?? {});
    const required = (s.required as string[]) ?? [];
    if (s.additionalProperties !== false || !keys.every((k) => required.includes(k))) return false;
  }
  return Object.values(s).every(strictCompatible);
}

export function openAITool(tool: ToolSpec) {
  const parameters = toolJsonSchema(tool);
  return { type: "function" as const, function: { name: tool.name, description: tool.description, parameters, strict: strictCompatible(parameters) } };
}

export function anthropicTool(tool: ToolSpec) {
  return { name: tool.name, description: tool.description, input_schema: toolJsonSchema(tool) as { type: "object"; [k: string]: unknown } };
}

export interface ToolCall {
  id: string;
  name: string;
  /** OpenAI sends a JSON string, Anthropic an object; kept as sent. */
  arguments: string | unknown;
}

/** The provider-neutral conversation that each provider turns into its API's messages. */
export type ConversationItem =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string; toolCalls: ToolCall[] }
  | { role: "tool"; toolCallId: string; name: string; content: string; isError: boolean };

/** One model turn: its text, the tools it asked for, and why it stopped ("tool_calls" / "tool_use" when it wants results). */
export interface ChatTurn {
  text: string;
  toolCalls: ToolCall[];
  stopReason: string;
  usage: Usage;
}

export interface ToolLoopResult {
  /** Every item of the conversation, the model's turns and the tool results included. */
  transcript: ConversationItem[];
  /** The model's last text. */
  text: string;
  /** Model turns taken. */
  turns: number;
  /** True when the model still wanted tools after maxTurns. */
  hitCap: boolean;
}

/**
 * Ask the model, run the tools it calls (all of one turn's calls at once), send the results back,
 * and repeat until it answers without calling a tool or `maxTurns` model turns have passed.
 * Arguments that are not JSON or break the schema, unknown tools and tools that throw all go back
 * to the model as error results (OpenAI: a `tool` message; Anthropic: `tool_result` with `is_error`).
 */
export async function runToolLoop(
  provider: Provider,
  conversation: ConversationItem[],
  tools: ToolSpec[],
  options: CallOptions & { maxTurns?: number; maxTokens?: number } = {},
): Promise<ToolLoopResult> {
  if (!provider.chat) throw new Error(`${provider.model}: this provider has no tool calling`);
  const maxTurns = options.maxTurns ?? 8;
  const transcript = [...conversation];
  let text = "";
  for (let turns = 1; turns <= maxTurns; turns++) {
    const turn = await provider.chat(transcript, tools, options);
    text = turn.text;
    transcript.push({ role: "assistant", content: turn.text, toolCalls: turn.toolCalls });
    if (turn.toolCalls.length === 0) return { transcript, text, turns, hitCap: false };
    const results = await Promise.all(turn.toolCalls.map((call) => callTool(call, tools)));
    transcript.push(...results);
  }
  return { transcript, text, turns: maxTurns, hitCap: true };
}

async function callTool(call: ToolCall, tools: ToolSpec[]): Promise<ConversationItem> {
  const reply = (content: string, isError: boolean): ConversationItem => ({ role: "tool", toolCallId: call.id, name: call.name, content, isError });
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) return reply(`Error: there is no tool "${call.name}" (tools: ${tools.map((t) => t.name).join(", ")})`, true);
  let args: unknown = call.arguments;
  if (typeof args === "string") {
    try {
      args = JSON.parse(args);
    } catch {
      return reply(`Error: the arguments are not valid JSON: ${args}`, true);
    }
  }
  const parsed = tool.parameters.safeParse(args);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(arguments)"}: ${i.message}`).join("; ");
    return reply(`Error: invalid arguments for ${tool.name}: ${problems}`, true);
  }
  try {
    const out = await tool.run(parsed.data);
    return reply(typeof out === "string" ? out : JSON.stringify(out), false);
  } catch (error) {
    return reply(`Error: ${(error as Error).message}`, true);
  }
}

/** The transcript as readable lines, one per item. */
export function formatTranscript(transcript: ConversationItem[]): string {
  return transcript
    .map((item) => {
      if (item.role === "assistant") {
        const calls = item.toolCalls.map((c) => `${c.name}(${typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments)}) [${c.id}]`);
        return [item.content ? `assistant: ${item.content}` : "", ...calls.map((c) => `assistant → ${c}`)].filter(Boolean).join("\n");
      }
      if (item.role === "tool") return `tool ${item.name} [${item.toolCallId}]${item.isError ? " (error)" : ""}: ${item.content}`;
      return `${item.role}: ${item.content}`;
    })
    .join("\n");
}
