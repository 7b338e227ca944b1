import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyResult } from "../../engines/common.ts";
import type { BuildContext, Engine, EngineResult } from "../../engines/types.ts";
import type { TaskIR } from "../plan/ir.ts";
import { fixtureTask } from "./_task_fixture.ts";
import { markdownSection, resolvePrompt, retryFeedback } from "./engine_prompt.ts";
import { EventBus, type RunEvent } from "./events.ts";
import { runTask } from "./task.ts";

/**
 * A scripted engine: `sh -c <script>` where the script prints `{"text":…}` lines; attempt 1
 * prints `{"error":"…"}` when `failFirst` is set. The parser turns them into an EngineResult.
 */
function scriptedEngine(failFirst: boolean, seen: BuildContext[]): Engine {
  const parser = () => {
    const out: EngineResult = emptyResult();
    return {
      push(line: string) {
        if (!line.startsWith("{")) return;
        const ev = JSON.parse(line) as { text?: string; error?: string; tool?: string };
        if (ev.text) out.text = ev.text;
        if (ev.tool) out.tool_calls.push({ name: ev.tool, input: { n: 1 } });
        if (ev.error) out.failure = { category: "rate_limit", message: ev.error };
      },
      finish(exit: { exitCode: number }) {
        out.tokens = { input: 10, cached: 2, output: 3 };
        out.cost_usd = 0.5;
        out.cost_source = "reported";
        out.is_error = out.failure !== undefined || exit.exitCode !== 0;
        return out;
      },
    };
  };
  return {
    name: "fake",
    binary: "sh",
    build(_task, ctx) {
      seen.push(ctx);
      const fail = failFirst && seen.length === 1;
      const line = fail
        ? `{"error":"slow down 429"}`
        : `{"tool":"Bash"}\n{"text":"DONE ${JSON.stringify(ctx.prompt).slice(1, -1)}"}`;
      return {
        argv: ["sh", "-c", `printf '%s\\n' '${line}'`],
        env: { FAKE_KEY: "1" },
        warnings: [],
      };
    },
    parser,
    parse: () => emptyResult(),
    classify: () => "unknown",
  };
}

async function run(extra: Partial<TaskIR>, engine: Engine | undefined, goal = "") {
  const dir = await mkdtemp(join(tmpdir(), "maestro-engine-"));
  const events: RunEvent[] = [];
  const bus = new EventBus("p");
  bus.subscribe((r) => events.push(r.event));
  try {
    const task = fixtureTask("t", [], {
      kind: "engine",
      engine: "claude",
      command: undefined,
      workdir: dir,
      prompt: { kind: "inline", text: "do {{ x }}" },
      ...extra,
    });
    const result = await runTask({
      task,
      logPath: join(dir, "t.log"),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      render: (t) => t.replace("{{ x }}", "it"),
      bus,
      signal: new AbortController().signal,
      mask: (t) => t,
      engines: () => engine,
      goal,
      sleep: () => Promise.resolve(),
    });
    return { result, events, log: await readFile(join(dir, "t.log"), "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

Deno.test("an engine task maps the parsed result: text, cost, tokens, tool calls", async () => {
  const seen: BuildContext[] = [];
  const { result, events, log } = await run({}, scriptedEngine(false, seen), "Ship it");
  assert.equal(result.status, "success", result.message);
  assert.equal(seen[0]?.prompt, "Goal: Ship it\n\ndo it");
  assert.equal(seen[0]?.profile, "plan");
  assert.equal(result.stdout_tail, "DONE Goal: Ship it\n\ndo it");
  assert.equal(result.cost_usd, 0.5);
  assert.equal(result.cost_source, "reported");
  assert.deepEqual(result.token_usage, { input: 10, cached: 2, output: 3, total: 15 });
  assert.equal(result.tool_call_count, 1);
  const tool = events.find((e) => e.event === "tool_call");
  assert.deepEqual(tool && { name: tool.name, attempt: tool.attempt }, {
    name: "Bash",
    attempt: 1,
  });
  assert.ok(events.some((e) => e.event === "task_output"));
  assert.match(log, /\[engine\] sh -c /);
});

Deno.test("a failed engine attempt is retried with §8 feedback and its cost is added up", async () => {
  const seen: BuildContext[] = [];
  const { result } = await run({ max_retries: 1 }, scriptedEngine(true, seen));
  assert.equal(result.status, "success");
  assert.equal(seen.length, 2);
  assert.equal(seen[0]?.retryFeedback, "");
  assert.match(
    seen[1]!.retryFeedback,
    /\[RETRY FEEDBACK -- Attempt 2\/2\]\nFailure category: rate_limit\nExit code: 1\nError output:\nslow down 429/,
  );
  assert.equal(result.failure_history[0]?.category, "rate_limit");
  assert.equal(result.cost_usd, 1);
  assert.deepEqual(result.token_usage, { input: 20, cached: 4, output: 6, total: 30 });
});

Deno.test("verify output of the previous attempt goes into the retry feedback", async () => {
  const seen: BuildContext[] = [];
  const { result } = await run(
    { max_retries: 1, verify_command: "echo verify-said-no; exit 3" },
    scriptedEngine(false, seen),
  );
  assert.equal(result.status, "failed");
  assert.match(seen[1]!.retryFeedback, /Failure category: verify_failed\nExit code: 3/);
  assert.match(seen[1]!.retryFeedback, /verify-said-no/);
});

Deno.test("engines without an adapter fail with E102 naming the engine", async () => {
  const { result } = await run({ engine: "gemini" }, undefined);
  assert.equal(result.status, "failed");
  assert.match(result.message, /^E102 .*'gemini'/);
});

Deno.test("prompt files: E100 when missing, E101 when the heading is missing", async () => {
  const dir = await mkdtemp(join(tmpdir(), "maestro-prompt-"));
  try {
    const md = join(dir, "p.md");
    await writeFile(md, "# T\n## A\ntext\n```text\nhello {{ x }}\n```\n## B\n```text\nno\n```\n");
    const task = (prompt: TaskIR["prompt"]) => fixtureTask("t", [], { kind: "engine", prompt });
    const render = (t: string) => t.replace("{{ x }}", "you");
    assert.deepEqual(
      resolvePrompt(task({ kind: "markdown", path: md, heading: "A" }), render, ""),
      {
        prompt: "hello you",
      },
    );
    const missing = resolvePrompt(task({ kind: "file", path: join(dir, "nope") }), render, "");
    assert.match("error" in missing ? missing.error : "", /^E100 /);
    const noHeading = resolvePrompt(task({ kind: "markdown", path: md, heading: "C" }), render, "");
    assert.match("error" in noHeading ? noHeading.error : "", /^E101 /);
    const none = resolvePrompt(task(undefined), render, "");
    assert.match("error" in none ? none.error : "", /^E103 /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

Deno.test("markdownSection stops at the next heading and retry feedback lists repeats", () => {
  assert.equal(markdownSection("## A\nno fence\n## B\n```text\nb\n```", "A"), undefined);
  const text = retryFeedback(3, 3, [
    { attempt: 1, category: "auth", exit_code: 1 },
    { attempt: 2, category: "auth", exit_code: 1 },
  ], "401");
  assert.match(text, /Previous failures:\n {2}- Attempt 1: auth \(exit 1\)\n {2}- Attempt 2: auth/);
  assert.match(text, /WARNING: This failure category \(auth\) has repeated/);
  assert.ok(text.endsWith("Please fix the issues identified above."));
});

Deno.test("tool calls become events while the engine runs, each exactly once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "maestro-live-"));
  const marker = join(dir, "finished");
  const engine: Engine = {
    ...scriptedEngine(false, []),
    build: () => ({
      // one tool call, a pause, a second one, then the marker file and the answer
      argv: [
        "sh",
        "-c",
        `echo '{"tool":"Read"}'; sleep 0.4; echo '{"tool":"Bash"}'; ` +
        `touch '${marker}'; echo '{"text":"ok"}'`,
      ],
      env: {},
      warnings: [],
    }),
    parser: () => {
      const out: EngineResult = emptyResult();
      return {
        toolCallsSoFar: () => out.tool_calls,
        push(line: string) {
          const ev = JSON.parse(line) as { text?: string; tool?: string };
          if (ev.tool) out.tool_calls.push({ name: ev.tool, input: {} });
          if (ev.text) out.text = ev.text;
        },
        finish: () => out,
      };
    },
  };
  const whileRunning: boolean[] = [];
  try {
    const bus = new EventBus("p");
    const names: string[] = [];
    bus.subscribe(({ event }) => {
      if (event.event !== "tool_call") return;
      names.push(event.name);
      whileRunning.push(!existsSync(marker));
    });
    const result = await runTask({
      task: fixtureTask("t", [], {
        kind: "engine",
        engine: "claude",
        command: undefined,
        workdir: dir,
        prompt: { kind: "inline", text: "go" },
      }),
      logPath: join(dir, "t.log"),
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      render: (t) => t,
      bus,
      signal: new AbortController().signal,
      mask: (t) => t,
      engines: () => engine,
      goal: "",
      sleep: () => Promise.resolve(),
    });
    assert.equal(result.status, "success", result.message);
    assert.deepEqual(names, ["Read", "Bash"]);
    assert.equal(whileRunning[0], true, "the first tool call was reported only after the run");
    assert.equal(result.tool_call_count, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
