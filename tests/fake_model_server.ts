/**
 * A small, protocol-faithful fake model API for driving the real agent CLIs offline
 * (spec: engine-clis.md "The fake provider"). Listens on 127.0.0.1, port 0. One module per wire
 * family under tests/fake_model/:
 *
 * - `POST /v1/messages` (Anthropic Messages, SSE or JSON; claude), `/v1/messages/count_tokens`.
 * - `POST /v1/responses` (OpenAI Responses, SSE; codex).
 * - `POST /v1/chat/completions` (OpenAI Chat Completions, SSE or JSON; qwen, copilot).
 * - `POST /v1beta/models/{m}:generateContent|streamGenerateContent|countTokens` (Gemini; gemini).
 * - `GET /v1/models`, `HEAD /` (claude's preflight).
 * - Every answer: text {@linkcode FAKE_TEXT}, usage {@linkcode FAKE_USAGE}.
 * - `POST /__fake/mode` `{"error":429,"count":1}` fails the next N model calls (each API's own
 *   error shape); `{"tool":{"name":"Bash","args":{…}}}` answers with one tool call when the
 *   request offers that tool and carries no tool result yet; `{"error":null,"tool":null}` resets.
 * - `{"text":"SCORE: 8/10 …"}` answers that text instead of FAKE_TEXT; `{"replies":[{"match":"…",
 *   "text":"…"}]}` answers the first reply whose `match` is in the request's user text (then
 *   `text`, then FAKE_TEXT); `{"text":null,"replies":null}` resets.
 * - `GET /__fake/requests`: the log of model calls (path, model, stream, auth, tools, prompt).
 *
 * @module
 */
import { anthropic } from "./fake_model/anthropic.ts";
import { chatCompletions } from "./fake_model/chat_completions.ts";
import {
  FAKE_USAGE,
  type Family,
  type Json,
  json,
  type ScriptedTool,
  setScriptedText,
} from "./fake_model/common.ts";
import { gemini, GEMINI_PATH } from "./fake_model/gemini.ts";
import { responses } from "./fake_model/openai.ts";

export { FAKE_TEXT, FAKE_USAGE } from "./fake_model/common.ts";

/** One logged model call. */
export interface FakeRequest {
  path: string;
  model: string | null;
  stream: boolean;
  auth: "x-api-key" | "x-goog-api-key" | "bearer" | "none";
  tools: string[];
  has_tool_result: boolean;
  /** Text of the last user message (its last 4000 chars): where the prompt lands. */
  user_text: string;
  /** System instructions (their last 4000 chars): where appended system prompts land. */
  system_text: string;
  /** Reasoning/thinking settings the request carried (`reasoning`, `thinkingConfig`, ...). */
  reasoning: unknown;
  /** A JSON-mode call (gemini's router/classifiers). */
  json_mode: boolean;
  /** Status the fake answered with. */
  status: number;
}

interface Mode {
  error: number | null;
  count: number | null;
  tool: ScriptedTool | null;
  /** Answer text instead of FAKE_TEXT. */
  text: string | null;
  /** Answers by a substring of the request's user text (first match wins, before `text`). */
  replies: { match: string; text: string }[] | null;
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

/** The family serving a path (Gemini's model is part of the path), or undefined. */
function familyFor(path: string): Family | undefined {
  if (path === "/v1/messages") return anthropic;
  if (path === "/v1/responses") return responses;
  if (path === "/v1/chat/completions") return chatCompletions;
  if (GEMINI_PATH.test(path)) return gemini;
  return undefined;
}

function authOf(req: Request, url: URL): FakeRequest["auth"] {
  if (req.headers.has("x-api-key")) return "x-api-key";
  if (req.headers.has("x-goog-api-key") || url.searchParams.has("key")) return "x-goog-api-key";
  if (req.headers.get("authorization")?.startsWith("Bearer ")) return "bearer";
  return "none";
}

/** Starts the fake on 127.0.0.1 with an OS-chosen port. */
export function startFakeServer(): FakeServer {
  const mode: Mode = { error: null, count: null, tool: null, text: null, replies: null };
  const log: FakeRequest[] = [];
  const setMode = (m: Partial<Mode>) => {
    if ("error" in m) mode.error = m.error ?? null;
    if ("count" in m) mode.count = m.count ?? null;
    else if ("error" in m) mode.count = null;
    if ("tool" in m) mode.tool = m.tool ?? null;
    if ("text" in m) mode.text = m.text ?? null;
    if ("replies" in m) mode.replies = m.replies ?? null;
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
    if (path === "/v1/models") {
      return json({
        object: "list",
        data: [{ id: "fake-model", object: "model", owned_by: "fake" }],
      });
    }
    if (req.method !== "POST") return json({ error: "not found" }, 404);
    let body: Json = {};
    try {
      body = await req.json() as Json;
    } catch {
      return json({ error: { message: "invalid JSON body" } }, 400);
    }
    if (path === "/v1/messages/count_tokens") return json({ input_tokens: FAKE_USAGE.input });
    const family = familyFor(path);
    if (!family) return json({ error: "not found" }, 404);
    // Token counting is bookkeeping, not a model call: never logged nor failed.
    if (path.endsWith(":countTokens")) return family.answer(body, url, null);
    const facts = family.facts(body, url);
    const entry: FakeRequest = {
      path,
      model: facts.model,
      stream: facts.stream,
      auth: authOf(req, url),
      tools: facts.tools,
      has_tool_result: facts.hasToolResult,
      user_text: facts.userText,
      system_text: facts.systemText,
      reasoning: facts.reasoning,
      json_mode: facts.jsonMode,
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
      return family.error(status);
    }
    const tool = mode.tool && facts.tools.includes(mode.tool.name) && !facts.hasToolResult
      ? mode.tool
      : null;
    const reply = mode.replies?.find((r) => facts.userText.includes(r.match))?.text ?? mode.text;
    setScriptedText(reply ?? undefined);
    try {
      return family.answer(body, url, tool);
    } finally {
      setScriptedText(undefined);
    }
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
