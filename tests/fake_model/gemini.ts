/**
 * Gemini API (`POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent` — SSE with
 * `?alt=sse`, else a JSON array — and `:countTokens`): what gemini-cli speaks (and qwen with
 * `--auth-type gemini`).
 *
 * JSON-mode calls (gemini-cli's router and classifiers set `responseMimeType:
 * "application/json"` with a schema) get an object synthesised from that schema, because the
 * CLI validates it (`complexity_score` must be 1..100) and would log noisy fallbacks otherwise.
 *
 * @module
 */
import {
  contentText,
  dataSse,
  errorMessage,
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

/** The routes' path: model and method. */
export const GEMINI_PATH =
  /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function usageMetadata() {
  return {
    promptTokenCount: FAKE_USAGE.input,
    candidatesTokenCount: FAKE_USAGE.output,
    totalTokenCount: FAKE_USAGE.input + FAKE_USAGE.output,
    cachedContentTokenCount: 0,
  };
}

function jsonSchemaOf(body: Json): unknown | undefined {
  const config = record(body.generationConfig);
  if (config.responseMimeType !== "application/json") return undefined;
  return config.responseJsonSchema ?? config.responseSchema ?? {};
}

function answer(body: Json, url: URL, tool: ScriptedTool | null): Response {
  const [, model = "gemini-fake", method] = url.pathname.match(GEMINI_PATH) ?? [];
  if (method === "countTokens") return json({ totalTokens: FAKE_USAGE.input });
  const schema = jsonSchemaOf(body);
  const part: Json = tool
    ? { functionCall: { id: nextId("call"), name: tool.name, args: tool.args } }
    : { text: schema === undefined ? scriptedText() : JSON.stringify(synthesise(schema)) };
  const chunk = {
    candidates: [{
      content: { role: "model", parts: [part] },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: usageMetadata(),
    modelVersion: model,
    responseId: nextId("resp"),
  };
  if (method === "generateContent") return json(chunk);
  return url.searchParams.get("alt") === "sse" ? dataSse([chunk]) : json([chunk]);
}

function error(status: number): Response {
  return json({
    error: {
      code: status,
      message: errorMessage(status),
      status: STATUS_NAMES[status] ?? "UNKNOWN",
    },
  }, status);
}

function declaredTools(body: Json): string[] {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  return tools.flatMap((t) => {
    const decls = record(t).functionDeclarations;
    return Array.isArray(decls) ? decls.map((d) => String(record(d).name ?? "")) : [];
  });
}

/** The Gemini family. */
export const gemini: Family = {
  facts(body, url) {
    const [, model = null, method] = url.pathname.match(GEMINI_PATH) ?? [];
    const config = record(body.generationConfig);
    return {
      model,
      stream: method === "streamGenerateContent",
      tools: declaredTools(body),
      hasToolResult: JSON.stringify(body.contents ?? []).includes('"functionResponse"'),
      userText: lastUserText(body.contents),
      systemText: tail(contentText(record(body.systemInstruction).parts)),
      reasoning: config.thinkingConfig ?? null,
      jsonMode: jsonSchemaOf(body) !== undefined,
    };
  },
  answer,
  error,
};
