/**
 * OpenAI Responses (`POST /v1/responses`, SSE): what codex speaks. Also the OpenAI error shape,
 * shared with Chat Completions.
 *
 * @module
 */
import {
  contentText,
  errorMessage,
  FAKE_USAGE,
  type Family,
  type Json,
  json,
  namedSse,
  nextId,
  scriptedText,
  type ScriptedTool,
  tail,
} from "./common.ts";

/** An OpenAI-style error body (Responses and Chat Completions). */
export function openaiError(status: number): Response {
  const res = json({
    error: {
      message: errorMessage(status),
      type: status === 429 ? "rate_limit_exceeded" : "server_error",
      code: null,
    },
  }, status);
  // A short Retry-After, as real 429s carry, so client backoff stays fast.
  if (status === 429) res.headers.set("retry-after-ms", "100");
  return res;
}

function answer(body: Json, _url: URL, tool: ScriptedTool | null): Response {
  const model = String(body.model ?? "gpt-fake");
  const respId = nextId("resp");
  const item: Json = tool
    ? {
      type: "function_call",
      id: nextId("fc"),
      call_id: nextId("call"),
      name: tool.name,
      arguments: JSON.stringify(tool.args),
      status: "completed",
    }
    : {
      type: "message",
      id: nextId("msg"),
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: scriptedText(), annotations: [] }],
    };
  const base = { id: respId, object: "response", created_at: Math.floor(Date.now() / 1000), model };
  const usage = {
    input_tokens: FAKE_USAGE.input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: FAKE_USAGE.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: FAKE_USAGE.input + FAKE_USAGE.output,
  };
  const events: Array<[string, Json]> = [
    ["response.created", {
      type: "response.created",
      response: { ...base, status: "in_progress", output: [] },
    }],
    ["response.output_item.added", {
      type: "response.output_item.added",
      output_index: 0,
      item: tool ? { ...item, arguments: "" } : { ...item, content: [] },
    }],
  ];
  if (!tool) {
    events.push(["response.output_text.delta", {
      type: "response.output_text.delta",
      item_id: item.id,
      output_index: 0,
      content_index: 0,
      delta: scriptedText(),
    }]);
  }
  events.push(
    ["response.output_item.done", { type: "response.output_item.done", output_index: 0, item }],
    ["response.completed", {
      type: "response.completed",
      response: { ...base, status: "completed", output: [item], usage },
    }],
  );
  return namedSse(events);
}

function userText(input: unknown): string {
  if (typeof input === "string") return tail(input);
  if (!Array.isArray(input)) return "";
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i] as Json;
    if (item?.role === "user") return tail(contentText(item.content));
  }
  return "";
}

/**
 * Text of the `developer` messages, where codex puts `developer_instructions` (mixed with its
 * own instructions, so the system text of this family keeps 40000 characters, not 4000).
 */
function developerText(input: unknown): string {
  if (!Array.isArray(input)) return "";
  return input.filter((item) => (item as Json)?.role === "developer")
    .map((item) => contentText((item as Json).content)).join("\n");
}

/** The OpenAI Responses family. */
export const responses: Family = {
  facts(body) {
    const tools = Array.isArray(body.tools) ? body.tools : [];
    return {
      model: typeof body.model === "string" ? body.model : null,
      stream: body.stream === true,
      tools: tools.map((t) => String((t as Json).name ?? (t as Json).type ?? "")),
      hasToolResult: JSON.stringify(body.input ?? []).includes('"function_call_output"'),
      userText: userText(body.input),
      // codex sends developer_instructions inside one of several long developer messages
      systemText: [
        typeof body.instructions === "string" ? body.instructions : "",
        developerText(body.input),
      ].filter(Boolean).join("\n").slice(-40_000),
      reasoning: body.reasoning ?? null,
      jsonMode: false,
    };
  },
  answer,
  error: openaiError,
};
