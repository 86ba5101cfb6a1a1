// Function calling: one zod declaration → both APIs' JSON Schema; the tool loop against loopback
// OpenAI and Anthropic fakes: bad arguments go back as errors (role "tool" / tool_result is_error),
// parallel calls run together and return together, the loop stops at its cap.
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  anthropicProvider,
  anthropicReply,
  anthropicTool,
  calculatorModel,
  defineTool,
  formatTranscript,
  openAIProvider,
  openAIReply,
  openAITool,
  runToolLoop,
  startFakeApi,
  strictCompatible,
  calculate,
  type ApiKind,
  type FakeApi,
  type Provider,
} from "../lib/evals/index.js";

const calculator = defineTool({
  name: "calculator",
  description: "Evaluate an arithmetic expression over + - * / and parentheses exactly.",
  parameters: z.object({ expression: z.string().describe("e.g. (3 + 4) * 2") }),
  run: ({ expression }) => calculate(expression).toString(),
});

let servers: FakeApi[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function provider(kind: ApiKind, respond: Parameters<typeof startFakeApi>[1]): Promise<{ server: FakeApi; provider: Provider }> {
  const server = await startFakeApi(kind, respond);
  servers.push(server);
  const p = kind === "openai" ? openAIProvider({ model: "gpt-fake", apiKey: "k", baseURL: server.baseURL }) : anthropicProvider({ model: "claude-fake", apiKey: "k", baseURL: server.baseURL });
  return { server, provider: p };
}

describe("tool schemas", () => {
  it("come from one zod declaration for both APIs", () => {
    const openai = openAITool(calculator);
    expect(openai).toEqual({
      type: "function",
      function: {
        name: "calculator",
        description: calculator.description,
        parameters: { type: "object", properties: { expression: { type: "string", description: "e.g. (3 + 4) * 2" } }, required: ["expression"], additionalProperties: false },
        strict: true,
      },
    });
    expect(anthropicTool(calculator)).toEqual({ name: "calculator", description: calculator.description, input_schema: openai.function.parameters });
  });

  it("are strict only when OpenAI's strict mode can hold", () => {
    const optional = defineTool({ name: "search", description: "d", parameters: z.object({ q: z.string(), limit: z.number().optional() }), run: () => "" });
    const nullable = defineTool({ name: "search2", description: "d", parameters: z.object({ q: z.string(), limit: z.number().nullable() }), run: () => "" });
    expect(openAITool(optional).function.strict).toBe(false);
    expect(openAITool(nullable).function.strict).toBe(true);
    expect(strictCompatible({ type: "object", properties: { a: { type: "object", properties: { b: {} }, required: [] } }, required: ["a"], additionalProperties: false })).toBe(false);
    expect(() => defineTool({ name: "no spaces", description: "", parameters: z.object({}), run: () => "" })).toThrow(/must be 1-64 letters/);
  });
});

describe("the tool loop", () => {
  it("sends bad arguments back as a tool error (OpenAI), then finishes", async () => {
    const { server, provider: p } = await provider("openai", calculatorModel("openai"));
    const out = await runToolLoop(p, [{ role: "user", content: "What is (37 + 5) * 41 / 6?" }], [calculator]);
    expect(out.hitCap).toBe(false);
    expect(out.turns).toBe(3);
    expect(out.text).toBe("(37 + 5) * 41 / 6 = 287");
    const second = server.requests[1].body;
    expect(second.tools[0].function.strict).toBe(true);
    const assistant = second.messages[1];
    expect(assistant.role).toBe("assistant");
    expect(assistant.tool_calls[0]).toEqual({ id: "call_1", type: "function", function: { name: "calculator", arguments: '{"expr":"(37 + 5) * 41 / 6"}' } });
    const toolMessage = second.messages[2];
    expect(toolMessage.role).toBe("tool");
    expect(toolMessage.tool_call_id).toBe("call_1");
    expect(toolMessage.content).toMatch(/^Error: invalid arguments for calculator: expression: /);
    expect(server.requests[2].body.messages[4]).toEqual({ role: "tool", tool_call_id: "call_2", content: "287" });
    const transcript = formatTranscript(out.transcript);
    expect(transcript.split("\n")).toEqual([
      "user: What is (37 + 5) * 41 / 6?",
      'assistant → calculator({"expr":"(37 + 5) * 41 / 6"}) [call_1]',
      expect.stringMatching(/^tool calculator \[call_1\] \(error\): Error: invalid arguments for calculator: expression: /),
      'assistant → calculator({"expression":"(37 + 5) * 41 / 6"}) [call_2]',
      "tool calculator [call_2]: 287",
      "assistant: (37 + 5) * 41 / 6 = 287",
    ]);
  });

  it("sends bad arguments back as tool_result with is_error (Anthropic), arguments as objects", async () => {
    const { server, provider: p } = await provider("anthropic", calculatorModel("anthropic"));
    const out = await runToolLoop(p, [{ role: "system", content: "Use the calculator." }, { role: "user", content: "What is 7 / 3 - 1?" }], [calculator]);
    expect(out.text).toBe("7 / 3 - 1 = 4/3");
    const second = server.requests[1].body;
    expect(second.system).toBe("Use the calculator.");
    expect(second.tools[0]).toMatchObject({ name: "calculator", input_schema: { type: "object", required: ["expression"] } });
    expect(second.messages[1]).toEqual({ role: "assistant", content: [{ type: "text", text: "Let me calculate that." }, { type: "tool_use", id: "call_1", name: "calculator", input: { expr: "7 / 3 - 1" } }] });
    const result = second.messages[2].content[0];
    expect(result).toMatchObject({ type: "tool_result", tool_use_id: "call_1", is_error: true });
    expect(result.content).toMatch(/^Error: invalid arguments for calculator: expression: /);
    expect(server.requests[2].body.messages[4].content[0]).toEqual({ type: "tool_result", tool_use_id: "call_2", content: "4/3", is_error: false });
  });

  it("runs one turn's calls in parallel and returns their results together", async () => {
    let running = 0;
    let most = 0;
    const slow = defineTool({
      name: "slow_square",
      description: "Square a number, slowly.",
      parameters: z.object({ x: z.number() }),
      run: async ({ x }) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return { square: x * x };
      },
    });
    const { server, provider: p } = await provider("anthropic", (request, i) =>
      i === 0
        ? anthropicReply({ toolUses: [{ id: "a", name: "slow_square", arguments: { x: 3 } }, { id: "b", name: "slow_square", arguments: { x: 4 } }, { id: "c", name: "nope", arguments: {} }] })
        : anthropicReply({ text: "9 and 16" }),
    );
    const out = await runToolLoop(p, [{ role: "user", content: "Square 3 and 4." }], [slow]);
    expect(most).toBe(2);
    expect(out.text).toBe("9 and 16");
    const results = server.requests[1].body.messages[2];
    expect(results.role).toBe("user");
    expect(results.content).toEqual([
      { type: "tool_result", tool_use_id: "a", content: '{"square":9}', is_error: false },
      { type: "tool_result", tool_use_id: "b", content: '{"square":16}', is_error: false },
      { type: "tool_result", tool_use_id: "c", content: 'Error: there is no tool "nope" (tools: slow_square)', is_error: true },
    ]);
  });

  it("stops at its cap when the model keeps calling tools; arguments that are not JSON are reported", async () => {
    const { server, provider: p } = await provider("openai", () => openAIReply({ toolCalls: [{ name: "calculator", arguments: "{not json" }] }));
    const out = await runToolLoop(p, [{ role: "user", content: "loop forever" }], [calculator], { maxTurns: 4 });
    expect(out.hitCap).toBe(true);
    expect(out.turns).toBe(4);
    expect(server.requests.length).toBe(4);
    const tools = out.transcript.filter((t) => t.role === "tool");
    expect(tools.length).toBe(4);
    expect(tools.every((t) => t.role === "tool" && t.isError && t.content === "Error: the arguments are not valid JSON: {not json")).toBe(true);
  });

  it("reports a tool that throws as an error result", async () => {
    const { provider: p } = await provider("openai", (request, i) =>
      i === 0 ? openAIReply({ toolCalls: [{ name: "calculator", arguments: { expression: "1 / 0" } }] }) : openAIReply({ content: "cannot divide by zero" }),
    );
    const out = await runToolLoop(p, [{ role: "user", content: "1/0?" }], [calculator]);
    expect(out.transcript[2]).toMatchObject({ role: "tool", isError: true, content: "Error: Rational: division by zero" });
  });
});
