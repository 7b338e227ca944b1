/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`, SSE chunks ending in `[DONE]`, usage in a
 * last chunk when `stream_options.include_usage` is set, or one JSON object): what qwen speaks.
 *
 * @module
 */
import {
  contentText,
  dataSse,
  FAKE_TEXT,
  FAKE_USAGE,
  type Family,
  type Json,
  json,
  lastUserText,
  nextId,
  record,
  scriptedText,
  type ScriptedTool,
  synthesise,
  tail,
} from "./common.ts";
import { openaiError } from "./openai.ts";

const USAGE = {
  prompt_tokens: FAKE_USAGE.input,
  completion_tokens: FAKE_USAGE.output,
  total_tokens: FAKE_USAGE.input + FAKE_USAGE.output,
  prompt_tokens_details: { cached_tokens: 0 },
};

/** The answer text: an object synthesised from a `json_schema` response format, else the text. */
function answerText(body: Json): string {
  const format = record(body.response_format);
  if (format.type === "json_schema") {
    return JSON.stringify(synthesise(record(format.json_schema).schema ?? {}));
  }
  return format.type === "json_object" ? JSON.stringify({ answer: FAKE_TEXT }) : scriptedText();
}

function answer(body: Json, _url: URL, tool: ScriptedTool | null): Response {
  const model = String(body.model ?? "gpt-fake");
  const text = answerText(body);
  const base = {
    id: nextId("chatcmpl"),
    created: Math.floor(Date.now() / 1000),
    model,
  };
  const call = tool
    ? {
      id: nextId("call"),
      type: "function",
      function: { name: tool.name, arguments: JSON.stringify(tool.args) },
    }
    : null;
  const finish = call ? "tool_calls" : "stop";
  if (body.stream !== true) {
    return json({
      ...base,
      object: "chat.completion",
      choices: [{
        index: 0,
        message: call
          ? { role: "assistant", content: null, tool_calls: [call] }
          : { role: "assistant", content: text },
        finish_reason: finish,
      }],
      usage: USAGE,
    });
  }
  const chunk = (delta: Json, finishReason: string | null) => ({
    ...base,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
  const chunks: Json[] = [
    chunk({ role: "assistant", content: "" }, null),
    call ? chunk({ tool_calls: [{ index: 0, ...call }] }, null) : chunk({ content: text }, null),
    chunk({}, finish),
  ];
  const options = body.stream_options as Json | undefined;
  if (options?.include_usage === true) {
    chunks.push({ ...base, object: "chat.completion.chunk", choices: [], usage: USAGE });
  }
  return dataSse(chunks, "[DONE]");
}

/** The Chat Completions family. */
export const chatCompletions: Family = {
  facts(body) {
    const tools = Array.isArray(body.tools) ? body.tools : [];
    const messages = Array.isArray(body.messages) ? body.messages : [];
    const format = body.response_format as Json | undefined;
    return {
      model: typeof body.model === "string" ? body.model : null,
      stream: body.stream === true,
      tools: tools.map((t) => String(((t as Json).function as Json | undefined)?.name ?? "")),
      hasToolResult: messages.some((m) => (m as Json)?.role === "tool"),
      userText: lastUserText(messages),
      systemText: tail(
        messages.filter((m) => (m as Json)?.role === "system")
          .map((m) => contentText((m as Json).content)).join("\n"),
      ),
      reasoning: body.reasoning ?? body.reasoning_effort ?? null,
      jsonMode: format?.type === "json_object" || format?.type === "json_schema",
    };
  },
  answer,
  error: openaiError,
};
