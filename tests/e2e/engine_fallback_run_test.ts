/**
 * End to end through `maestro run`: fallback_engine, escalation and the circuit breaker, with
 * fake `claude` and `codex` scripts first on PATH that print what the real CLIs print
 * (engine-clis.md §1-2: claude's stream-json result with `is_error` and `api_error_status`,
 * codex's `exec --json` events) and record the argv of every call.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

interface Result {
  status: string;
  message: string;
  stdout_tail: string;
  retry_count: number;
  token_usage: { input: number; cached: number; output: number; total: number } | null;
  failure_history: { attempt: number; category: string; engine?: string; model?: string | null }[];
  engine?: string;
  model?: string | null;
}

type Event = Record<string, unknown> & { event: string };

/** Runs `maestro run <args> plan.yaml` in `dir`, with `bin` first on PATH. */
async function maestro(dir: string, bin: string, yaml: string) {
  await Deno.writeTextFile(join(dir, "plan.yaml"), yaml);
  const home = Deno.env.get("HOME") ?? "/root";
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", CLI, "run", "plan.yaml", "--output", "jsonl"],
    cwd: dir,
    clearEnv: true,
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: dir,
      NO_COLOR: "1",
      MAESTRO_DB_URL: "",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? join(home, ".cache/deno"),
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const runs = join(dir, ".maestro-runs");
  assert.ok(existsSync(runs), `no run directory; exit ${out.code}: ${stderr}`);
  const [run] = [...Deno.readDirSync(runs)].map((e) => join(runs, e.name));
  const result = async (id: string) =>
    JSON.parse(await Deno.readTextFile(join(run!, `${id}.result.json`))) as Result;
  const events = (await Deno.readTextFile(join(run!, "events.jsonl"))).trim().split("\n")
    .map((line) => JSON.parse(line) as Event);
  return { code: out.code, stderr, run: run!, result, events };
}

/** Writes an executable fake CLI that records its argv as `<calls>/<name>.<n>` (NUL-separated). */
async function fake(bin: string, calls: string, name: string, body: string): Promise<void> {
  const path = join(bin, name);
  await Deno.writeTextFile(
    path,
    // `--version` (asked once per binary for cache keys, docs/cache.md) is answered, not recorded
    `#!/bin/sh
[ "$1" = "--version" ] && { echo "${name} 1.0.0"; exit 0; }
n=$(ls "${calls}" | grep -c "^${name}\\.")
n=$((n + 1))
for a in "$@"; do printf '%s\\000' "$a"; done > "${calls}/${name}.$n"
${body}`,
  );
  await Deno.chmod(path, 0o755);
}

/** The argv of every call of a fake, in call order. */
async function calls(dir: string, name: string): Promise<string[][]> {
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((f) =>
    f.startsWith(`${name}.`)
  );
  files.sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
  return await Promise.all(
    files.map(async (f) => (await Deno.readTextFile(join(dir, f))).split("\0").slice(0, -1)),
  );
}

/** The value after `flag` in an argv. */
function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** What claude 2.1.197 prints (stream-json, rc 1) when the provider answers `status`. */
function claudeError(status: number, text: string): string {
  const init = { type: "system", subtype: "init", session_id: "s-1", model: "claude-opus-4-8" };
  const result = {
    type: "result",
    subtype: "success",
    is_error: true,
    api_error_status: status,
    num_turns: 1,
    result: text,
    session_id: "s-1",
    total_cost_usd: 0,
    usage: { input_tokens: 0, output_tokens: 0 },
  };
  return `printf '%s\\n' '${JSON.stringify(init)}' '${JSON.stringify(result)}'\nexit 1\n`;
}

const CLAUDE_OK = `printf '%s\\n' '${
  JSON.stringify({
    type: "result",
    subtype: "success",
    is_error: false,
    num_turns: 1,
    result: "FAKE-OK from claude",
    session_id: "s-2",
    total_cost_usd: 0.001,
    usage: { input_tokens: 11, output_tokens: 7 },
  })
}'\n`;

/** What `codex exec --json` 0.169.0 prints for a one-message answer. */
const CODEX_OK = `printf '%s\\n' ${
  [
    { type: "thread.started", thread_id: "th-1" },
    { type: "turn.started" },
    {
      type: "item.completed",
      item: { id: "item_0", type: "agent_message", text: "FAKE-OK from codex" },
    },
    {
      type: "turn.completed",
      usage: { input_tokens: 20, cached_input_tokens: 5, output_tokens: 7 },
    },
  ].map((e) => `'${JSON.stringify(e)}'`).join(" ")
}\n`;

async function sandbox(): Promise<{ dir: string; bin: string; log: string }> {
  const dir = await Deno.makeTempDir({ prefix: "maestro-fallback-e2e-" });
  const bin = join(dir, "bin");
  const log = join(dir, "calls");
  await Deno.mkdir(bin);
  await Deno.mkdir(log);
  return { dir, bin, log };
}

Deno.test("maestro run: a claude auth failure falls back to codex with codex's defaults, without a retry", async () => {
  const { dir, bin, log } = await sandbox();
  try {
    await fake(
      bin,
      log,
      "claude",
      claudeError(401, "Failed to authenticate. API Error: 401 bad key"),
    );
    await fake(bin, log, "codex", CODEX_OK);
    const run = await maestro(
      dir,
      bin,
      `name: fallback
defaults:
  codex: { model: gpt-5.4 }
tasks:
  - id: ask
    engine: claude
    model: opus
    args: ["--max-turns", "3"]
    fallback_engine: codex
    retry_delay_sec: 60
    prompt: say hi
`,
    );
    assert.equal(run.code, 0, run.stderr);
    const ask = await run.result("ask");
    assert.equal(ask.status, "success", ask.message);
    assert.equal(ask.stdout_tail, "FAKE-OK from codex");
    assert.deepEqual([ask.engine, ask.model], ["codex", "gpt-5.4"]);
    assert.deepEqual(ask.token_usage, { input: 15, cached: 5, output: 7, total: 27 });
    assert.deepEqual(ask.failure_history.map((f) => [f.category, f.engine, f.model]), [
      ["auth", "claude", "opus"],
    ]);
    const [claude] = await calls(log, "claude");
    assert.equal(flag(claude!, "--model"), "opus");
    assert.ok(claude!.includes("--max-turns"));
    const [codex, extra] = await calls(log, "codex");
    assert.equal(extra, undefined, "codex ran once");
    assert.equal(flag(codex!, "-m"), "gpt-5.4");
    assert.ok(!codex!.includes("--max-turns"), "claude's args are not handed to codex");
    assert.equal(codex!.at(-1), "say hi", "no retry feedback about claude's key");
    const fallback = run.events.find((e) => e.event === "engine_fallback");
    assert.deepEqual(
      fallback && [fallback.from_engine, fallback.to_engine, fallback.to_model, fallback.category],
      ["claude", "codex", "gpt-5.4", "auth"],
    );
    const attempts = run.events.filter((e) => e.event === "task_attempt");
    assert.deepEqual(attempts.map((e) => [e.attempt, e.engine, e.model]), [
      [1, "claude", "opus"],
      [2, "codex", "gpt-5.4"],
    ]);
    // the new events keep the hash chain verifiable
    const verify = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-prompt", CLI, "verify", run.run],
      env: { NO_COLOR: "1", MAESTRO_DB_URL: "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(verify.code, 0, new TextDecoder().decode(verify.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("maestro run: escalation passes haiku, sonnet, then opus to claude on successive attempts", async () => {
  const { dir, bin, log } = await sandbox();
  try {
    await fake(
      bin,
      log,
      "claude",
      `if [ "$n" -lt 3 ]; then
${claudeError(500, "API Error: 500 internal error on the fake")}fi
${CLAUDE_OK}`,
    );
    const run = await maestro(
      dir,
      bin,
      `name: ladder
tasks:
  - id: climb
    engine: claude
    escalation: [haiku, sonnet, opus]
    max_retries: 2
    prompt: solve it
`,
    );
    assert.equal(run.code, 0, run.stderr);
    const climb = await run.result("climb");
    assert.equal(climb.status, "success", climb.message);
    assert.equal(climb.model, "opus");
    assert.deepEqual((await calls(log, "claude")).map((argv) => flag(argv, "--model")), [
      "haiku",
      "sonnet",
      "opus",
    ]);
    assert.deepEqual(climb.failure_history.map((f) => [f.category, f.model]), [
      ["unknown", "haiku"],
      ["unknown", "sonnet"],
    ]);
    const ups = run.events.filter((e) => e.event === "task_escalation");
    assert.deepEqual(ups.map((e) => [e.attempt, e.from_model, e.to_model]), [
      [2, "haiku", "sonnet"],
      [3, "sonnet", "opus"],
    ]);
    const start = run.events.find((e) => e.event === "task_start");
    assert.equal(start?.model, "haiku");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("maestro run: after 2 rate limits the claude breaker opens and the other claude tasks fail without spawning", async () => {
  const { dir, bin, log } = await sandbox();
  try {
    await fake(
      bin,
      log,
      "claude",
      claudeError(429, "API Error: Request rejected (429) · fake provider forced error 429"),
    );
    const run = await maestro(
      dir,
      bin,
      `name: breaker
fail_fast: false
circuit_breaker:
  max_engine_failures: 2
  max_total_failures: 10
tasks:
  - { id: a, engine: claude, prompt: one }
  - { id: b, engine: claude, prompt: two }
  - { id: c, engine: claude, prompt: three }
  - { id: d, engine: claude, prompt: four }
  - { id: sh, command: "echo still runs" }
`,
    );
    assert.equal(run.code, 1, run.stderr);
    assert.equal((await calls(log, "claude")).length, 2, "only a and b reached claude");
    for (const id of ["a", "b"]) {
      assert.equal((await run.result(id)).failure_history[0]?.category, "rate_limit", id);
    }
    for (const id of ["c", "d"]) {
      const r = await run.result(id);
      assert.equal(r.status, "failed", id);
      assert.deepEqual(r.failure_history.map((f) => f.category), ["circuit_open"], id);
      assert.match(
        r.message,
        /^claude failed \(circuit_open\): not started: the claude circuit breaker is open after 2 consecutive engine failures \(last: rate_limit: API Error: Request rejected \(429\)/,
      );
    }
    assert.equal((await run.result("sh")).status, "success");
    const open = run.events.filter((e) => e.event === "engine_circuit_open");
    assert.deepEqual(open.map((e) => [e.engine, e.task_id, e.failures]), [["claude", "b", 2]]);
    // c and d started no process
    const spawned = run.events.filter((e) => e.event === "task_attempt").map((e) => e.task_id);
    assert.deepEqual(spawned.filter((id) => id !== "sh"), ["a", "b"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
