/**
 * A small, protocol-faithful fake model API for driving the real agent CLIs offline
 * (spec: engine-clis.md "The fake provider"). Listens on 127.0.0.1, port 0.
 *
 * - `POST /v1/messages` (Anthropic Messages, SSE or JSON), `/v1/messages/count_tokens`, `HEAD /`.
 * - `POST /v1/responses` (OpenAI Responses, SSE): what codex speaks.
 * - Every answer: text {@linkcode FAKE_TEXT}, usage {@linkcode FAKE_USAGE}.
 * - `POST /__fake/mode` `{"error":429,"count":1}` fails the next N model calls (each API's own
 *   error shape); `{"tool":{"name":"Bash","args":{…}}}` answers with one tool call when the
 *   request offers that tool and carries no tool result yet; `{"error":null,"tool":null}` resets.
 * - `GET /__fake/requests`: the log of model calls (path, model, stream, auth, tools).
 *
 * @module
 */

/** The fixed answer text. */
export const FAKE_TEXT = "FAKE-OK 42";
/** The fixed usage of every model call. */
export const FAKE_USAGE = { input: 11, output: 7 } as const;

/** One logged model call. */
export interface FakeRequest {
  path: string;
  model: string | null;
  stream: boolean;
  auth: "x-api-key" | "bearer" | "none";
  tools: string[];
  has_tool_result: boolean;
  /** Status the fake answered with. */
  status: number;
}

interface Mode {
  error: number | null;
  count: number | null;
  tool: { name: string; args: Record<string, unknown> } | null;
}

/** A running fake server. */
export interface FakeServer {
  /** `http://127.0.0.1:<port>` (no /v1). */
  url: string;
  port: number;
  /** Sets the mode (same body as POST /__fake/mode). */
  setMode(mode: Partial<Mode>): void;
  /** The request log. */
  requests(): FakeRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
let seq = 0;
const id = (prefix: string) => `${prefix}_fake${String(++seq).padStart(4, "0")}`;

function sse(events: Array<[string, Json]>): Response {
  const body = events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    .join("");
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}

function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function anthropicError(status: number): Response {
  const type = status === 401
    ? "authentication_error"
    : status === 429
    ? "rate_limit_error"
    : status === 529
    ? "overloaded_error"
    : "api_error";
  return json({
    type: "error",
    error: { type, message: `fake provider forced error ${status}` },
  }, status);
}

function openaiError(status: number): Response {
  const res = json({
    error: {
      message: `fake provider forced error ${status}`,
      type: status === 429 ? "rate_limit_exceeded" : "server_error",
      code: null,
    },
  }, status);
  // A short Retry-After, as real 429s carry, so client backoff stays fast.
  if (status === 429) res.headers.set("retry-after-ms", "100");
  return res;
}

function anthropicMessages(body: Json, tool: Mode["tool"]): Response {
  const model = String(body.model ?? "claude-fake");
  const msgId = id("msg");
  const usage = {
    input_tokens: FAKE_USAGE.input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: FAKE_USAGE.output,
  };
  const content: Json[] = tool
    ? [{ type: "tool_use", id: id("toolu"), name: tool.name, input: tool.args }]
    : [{ type: "text", text: FAKE_TEXT }];
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
    : { type: "text_delta", text: FAKE_TEXT };
  return sse([
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

function openaiResponses(body: Json, tool: Mode["tool"]): Response {
  const model = String(body.model ?? "gpt-fake");
  const respId = id("resp");
  const item: Json = tool
    ? {
      type: "function_call",
      id: id("fc"),
      call_id: id("call"),
      name: tool.name,
      arguments: JSON.stringify(tool.args),
      status: "completed",
    }
    : {
      type: "message",
      id: id("msg"),
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: FAKE_TEXT, annotations: [] }],
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
      delta: FAKE_TEXT,
    }]);
  }
  events.push(
    ["response.output_item.done", { type: "response.output_item.done", output_index: 0, item }],
    ["response.completed", {
      type: "response.completed",
      response: { ...base, status: "completed", output: [item], usage },
    }],
  );
  return sse(events);
}

function toolNames(body: Json): string[] {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  return tools.map((t) => {
    const r = t as Json;
    return String(r.name ?? (r.function as Json | undefined)?.name ?? r.type ?? "");
  });
}

function hasToolResult(body: Json): boolean {
  // Anthropic: a user message with a tool_result block. Responses: a function_call_output item.
  const text = JSON.stringify(body.messages ?? body.input ?? []);
  return text.includes('"tool_result"') || text.includes('"function_call_output"');
}

/** Starts the fake on 127.0.0.1 with an OS-chosen port. */
export function startFakeServer(): FakeServer {
  const mode: Mode = { error: null, count: null, tool: null };
  const log: FakeRequest[] = [];
  const setMode = (m: Partial<Mode>) => {
    if ("error" in m) mode.error = m.error ?? null;
    if ("count" in m) mode.count = m.count ?? null;
    else if ("error" in m) mode.count = null;
    if ("tool" in m) mode.tool = m.tool ?? null;
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (req.method === "HEAD") return new Response(null, { status: 200 });
    if (path === "/__fake/mode" && req.method === "POST") {
      setMode(await req.json() as Partial<Mode>);
      return json({ ok: true, mode });
    }
    if (path === "/__fake/requests") return json(log);
    if (path === "/v1/models") return json({ object: "list", data: [] });
    if (req.method !== "POST") return json({ error: "not found" }, 404);
    let body: Json = {};
    try {
      body = await req.json() as Json;
    } catch {
      return json({ error: { message: "invalid JSON body" } }, 400);
    }
    if (path === "/v1/messages/count_tokens") return json({ input_tokens: FAKE_USAGE.input });
    const anthropic = path === "/v1/messages";
    if (!anthropic && path !== "/v1/responses") return json({ error: "not found" }, 404);
    const entry: FakeRequest = {
      path,
      model: typeof body.model === "string" ? body.model : null,
      stream: body.stream === true,
      auth: req.headers.has("x-api-key")
        ? "x-api-key"
        : req.headers.get("authorization")?.startsWith("Bearer ")
        ? "bearer"
        : "none",
      tools: toolNames(body),
      has_tool_result: hasToolResult(body),
      status: 200,
    };
    log.push(entry);
    if (mode.error !== null) {
      const status = mode.error;
      if (mode.count !== null && --mode.count <= 0) {
        mode.error = null;
        mode.count = null;
      }
      entry.status = status;
      return anthropic ? anthropicError(status) : openaiError(status);
    }
    const tool = mode.tool && entry.tools.includes(mode.tool.name) && !entry.has_tool_result
      ? mode.tool
      : null;
    return anthropic ? anthropicMessages(body, tool) : openaiResponses(body, tool);
  });
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setMode,
    requests: () => log.map((r) => ({ ...r })),
    close: () => server.shutdown(),
  };
}

if (import.meta.main) {
  const s = startFakeServer();
  console.log(`LISTENING ${s.port}`);
}
