/**
 * Anthropic Messages (`POST /v1/messages`, SSE or JSON): what claude speaks.
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
  lastUserText,
  namedSse,
  nextId,
  scriptedText,
  type ScriptedTool,
  tail,
} from "./common.ts";

function answer(body: Json, _url: URL, tool: ScriptedTool | null): Response {
  const model = String(body.model ?? "claude-fake");
  const msgId = nextId("msg");
  const usage = {
    input_tokens: FAKE_USAGE.input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: FAKE_USAGE.output,
  };
  const content: Json[] = tool
    ? [{ type: "tool_use", id: nextId("toolu"), name: tool.name, input: tool.args }]
    : [{ type: "text", text: scriptedText() }];
  const stop = tool ? "tool_use" : "end_turn";
  if (body.stream !== true) {
    return json({
      id: msgId,
      type: "message",
      role: "assistant",
      model,
      content,
      stop_reason: stop,
      stop_sequence: null,
      usage,
    });
  }
  const block = content[0]!;
  const start = tool ? { ...block, input: {} } : { type: "text", text: "" };
  const delta = tool
    ? { type: "input_json_delta", partial_json: JSON.stringify(tool.args) }
    : { type: "text_delta", text: scriptedText() };
  return namedSse([
    ["message_start", {
      type: "message_start",
      message: {
        id: msgId,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    }],
    ["content_block_start", { type: "content_block_start", index: 0, content_block: start }],
    ["content_block_delta", { type: "content_block_delta", index: 0, delta }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: FAKE_USAGE.output },
    }],
    ["message_stop", { type: "message_stop" }],
  ]);
}

function error(status: number): Response {
  const type = status === 401
    ? "authentication_error"
    : status === 429
    ? "rate_limit_error"
    : status === 529
    ? "overloaded_error"
    : "api_error";
  return json({ type: "error", error: { type, message: errorMessage(status) } }, status);
}

/** The Anthropic Messages family. */
export const anthropic: Family = {
  facts(body) {
    const tools = Array.isArray(body.tools) ? body.tools : [];
    return {
      model: typeof body.model === "string" ? body.model : null,
      stream: body.stream === true,
      tools: tools.map((t) => String((t as Json).name ?? (t as Json).type ?? "")),
      // A user message with a tool_result block.
      hasToolResult: JSON.stringify(body.messages ?? []).includes('"tool_result"'),
      userText: lastUserText(body.messages),
      systemText: tail(contentText(body.system)),
      reasoning: body.thinking ?? body.output_config ?? null,
      jsonMode: false,
    };
  },
  answer,
  error,
};
