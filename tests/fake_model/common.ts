/**
 * What every wire family of the fake model API shares: the fixed answer, response helpers and
 * the shape of a family module (see ../fake_model_server.ts for the routes).
 *
 * @module
 */

/** The fixed answer text. */
export const FAKE_TEXT = "FAKE-OK 42";
let scripted: string | undefined;

/** The text of the answer being built: {@linkcode FAKE_TEXT}, or the request's scripted text. */
export function scriptedText(): string {
  return scripted ?? FAKE_TEXT;
}

/** Sets the scripted text for the answer about to be built (undefined: FAKE_TEXT again). */
export function setScriptedText(text: string | undefined): void {
  scripted = text;
}

/** The fixed usage of every model call. */
export const FAKE_USAGE = { input: 11, output: 7 } as const;

/** A JSON object as read from a request body. */
export type Json = Record<string, unknown>;

/** A scripted tool call: answered when the request offers `name` and has no tool result yet. */
export interface ScriptedTool {
  /** Tool name as the CLI declares it (`Bash`, `exec_command`, `run_shell_command`, ...). */
  name: string;
  /** Arguments of the call. */
  args: Record<string, unknown>;
}

/** What a family reads from a request for the request log. */
export interface RequestFacts {
  /** Model asked for (body field, or the URL for Gemini). */
  model: string | null;
  /** Whether the answer is streamed. */
  stream: boolean;
  /** Names of the tools the request offers. */
  tools: string[];
  /** The request already carries a tool result (so the tool call is not repeated). */
  hasToolResult: boolean;
  /** The text of the last user message (the prompt, for a one-shot run), its last 4000 chars. */
  userText: string;
  /** The system instructions, their last 4000 chars (appended instructions land at the end). */
  systemText: string;
  /** Reasoning/thinking settings the request carried, or null. */
  reasoning: unknown;
  /** The request asks for JSON output (router/classifier side calls). */
  jsonMode: boolean;
}

/** One wire family: how to read its requests, answer them and fail them. */
export interface Family {
  /** Facts for the log. */
  facts(body: Json, url: URL): RequestFacts;
  /** The normal answer: the scripted tool call when given, else {@linkcode FAKE_TEXT}. */
  answer(body: Json, url: URL, tool: ScriptedTool | null): Response;
  /** A forced error in the family's own error JSON shape. */
  error(status: number): Response;
}

let seq = 0;
/** A unique id like `msg_fake0001`. */
export function nextId(prefix: string): string {
  return `${prefix}_fake${String(++seq).padStart(4, "0")}`;
}

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

/** Server-sent events with event names (Anthropic, OpenAI Responses). */
export function namedSse(events: Array<[string, Json]>): Response {
  const body = events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    .join("");
  return new Response(body, { headers: SSE_HEADERS });
}

/** Data-only server-sent events (Gemini `alt=sse`, Chat Completions with its `[DONE]`). */
export function dataSse(chunks: Json[], done?: string): Response {
  const lines = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`);
  if (done !== undefined) lines.push(`data: ${done}\n\n`);
  return new Response(lines.join(""), { headers: SSE_HEADERS });
}

/** A JSON response. */
export function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** The message every forced error carries (the CLIs quote it, tests match it). */
export function errorMessage(status: number): string {
  return `fake provider forced error ${status}`;
}

/** Text of a message `content` that is a string or a list of `{type:"text"|…, text}` parts. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => {
    const part = p as Json;
    return typeof part?.text === "string" ? part.text : "";
  }).filter(Boolean).join("\n");
}

/** The last 4000 chars of a text: what a test looks for (a prompt, appended instructions). */
export function tail(text: string): string {
  return text.slice(-4000);
}

/** The last user text of a `messages`-style list (`role` + `content`, or Gemini's `parts`). */
export function lastUserText(messages: unknown, userRole = "user"): string {
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as Json;
    if (m?.role !== userRole) continue;
    const text = contentText(m.content ?? m.parts);
    if (text) return tail(text);
  }
  return "";
}

/** `value` when it is a JSON object, else an empty one. */
export function record(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? value as Json : {};
}

/**
 * A value matching a JSON schema or a Gemini `Schema` (types may be upper case): the first enum
 * value, the minimum of a number (else 1), one item per array, every property of an object.
 */
export function synthesise(schema: unknown, depth = 0): unknown {
  const s = record(schema);
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ("const" in s) return s.const;
  const variants = s.anyOf ?? s.oneOf;
  if (Array.isArray(variants) && variants.length > 0) return synthesise(variants[0], depth);
  const rawType = Array.isArray(s.type) ? s.type[0] : s.type;
  const type = typeof rawType === "string"
    ? rawType.toLowerCase()
    : s.properties
    ? "object"
    : "string";
  if (depth > 8) return null;
  switch (type) {
    case "object": {
      const out: Json = {};
      for (const [k, v] of Object.entries(record(s.properties))) out[k] = synthesise(v, depth + 1);
      return out;
    }
    case "array":
      return [synthesise(s.items, depth + 1)];
    case "integer":
    case "number": {
      const min = typeof s.minimum === "number" ? s.minimum : undefined;
      const max = typeof s.maximum === "number" ? s.maximum : undefined;
      return min ?? (max !== undefined ? Math.min(1, max) : 1);
    }
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return FAKE_TEXT;
  }
}
