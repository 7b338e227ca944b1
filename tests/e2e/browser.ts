/**
 * A real browser for tests: Debian's chromium, headless, driven over the DevTools protocol
 * (a WebSocket; no puppeteer needed). It records every console error, uncaught exception,
 * CSP violation and network request of the page, so a test can prove that a page renders,
 * runs its script without an error and fetches nothing.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function findChromium(): string | null {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
      const path = join(dir, name);
      try {
        if (Deno.statSync(path).isFile) return path;
      } catch { /* not there */ }
    }
  }
  return null;
}

/** The browser's path, or null when none is installed (browser tests are then ignored). */
export const CHROMIUM: string | null = findChromium();

/** A page loaded in the browser. */
export interface BrowserPage {
  /** Evaluates an expression in the page and returns its value (JSON-serialisable). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Console errors, exceptions and CSP violations seen so far. */
  errors: string[];
  /** Every URL the page requested. */
  requests: string[];
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Starts chromium (fresh profile, no network services), opens `url` and waits for its load.
 *
 * @param url the page
 * @returns the page
 */
export async function openPage(url: string): Promise<BrowserPage> {
  if (!CHROMIUM) throw new Error("Cannot open a page: chromium is not installed");
  const profile = mkdtempSync(join(tmpdir(), "maestro-chromium-"));
  const child = new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--no-default-browser-check",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "--remote-allow-origins=*",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // chromium prints its DevTools endpoint on stderr; keep draining it so it never blocks
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  let endpoint: string | undefined;
  const deadline = Date.now() + 30_000;
  while (!endpoint) {
    if (Date.now() > deadline) throw new Error(`chromium did not start: ${seen.slice(-500)}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited: ${seen.slice(-500)}`);
    seen += value;
    endpoint = /DevTools listening on (ws:\/\/\S+)/.exec(seen)?.[1];
  }
  const drain = (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch { /* closed */ }
  })();
  const { host } = new URL(endpoint);
  const targets = await (await fetch(`http://${host}/json/list`)).json() as {
    type: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((t) => t.type === "page");
  if (!target) throw new Error("chromium has no page target");
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, fail) => {
    socket.onopen = ok;
    socket.onerror = fail;
  });
  let nextId = 1;
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  const waiters = new Map<string, () => void>();
  const errors: string[] = [];
  const requests: string[] = [];
  socket.onmessage = (message) => {
    const data = JSON.parse(String(message.data));
    if (data.id !== undefined) {
      const call = pending.get(data.id);
      pending.delete(data.id);
      if (data.error) call?.fail(new Error(JSON.stringify(data.error)));
      else call?.ok(data.result);
      return;
    }
    const p = data.params ?? {};
    switch (data.method) {
      case "Runtime.exceptionThrown":
        errors.push(
          `exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`,
        );
        break;
      case "Runtime.consoleAPICalled":
        if (p.type === "error" || p.type === "assert") {
          errors.push(
            `console.${p.type}: ${
              JSON.stringify(p.args?.map((a: { value?: unknown }) => a.value))
            }`,
          );
        }
        break;
      case "Log.entryAdded":
        if (p.entry?.level === "error") errors.push(`log: ${p.entry.text} (${p.entry.source})`);
        break;
      case "Network.requestWillBeSent":
        requests.push(p.request?.url);
        break;
    }
    waiters.get(data.method)?.();
  };
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((ok, fail) => {
      const id = nextId++;
      pending.set(id, { ok, fail });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send("Runtime.enable");
  await send("Log.enable");
  await send("Network.enable");
  await send("Page.enable");
  const loaded = new Promise<void>((ok) => waiters.set("Page.loadEventFired", ok));
  await send("Page.navigate", { url });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      loaded,
      new Promise((_, fail) => {
        timer = setTimeout(() => fail(new Error("page did not load")), 30_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return {
    errors,
    requests,
    async evaluate<T>(expression: string): Promise<T> {
      const result = await send("Runtime.evaluate", { expression, returnByValue: true }) as {
        result: { value: T };
        exceptionDetails?: { text: string };
      };
      if (result.exceptionDetails) throw new Error(result.exceptionDetails.text);
      return result.result.value;
    },
    async close() {
      try {
        await send("Browser.close").catch(() => {});
      } finally {
        socket.close();
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await child.status;
        await drain;
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
