/**
 * End to end through `maestro run`: ollama and llama tasks against fake `ollama`/`llama-cli`
 * scripts on PATH (the real ones cannot run here: no binaries, no weights; engine-clis.md §6),
 * printing what the real CLIs print; and a copilot task through the real, pinned CLI at
 * tests/fake_model_server.ts (ignored, with the reason printed, when npm cannot install it).
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { FAKE_TEXT, startFakeServer } from "../fake_model_server.ts";
import { cliCacheDir, installPinned, PINNED_CLIS } from "../engines/install_cli.ts";
import { type EngineTaskResult, maestroRun } from "./engine_plan.ts";

/** The result fields these tests read. */
type Result = EngineTaskResult;

/** Runs `maestro run plan.yaml` in `dir` with exactly `env` (plus NO_COLOR and DENO_DIR). */
async function runPlan(
  dir: string,
  yaml: string,
  env: Record<string, string>,
  args: string[] = [],
) {
  const run = await maestroRun(dir, yaml, { HOME: dir, ...env }, args);
  return {
    code: run.code,
    stderr: run.stderr,
    result: (id: string) => run.result<Result>(id),
    log: run.log,
  };
}

/** Writes an executable script. */
async function script(path: string, body: string): Promise<void> {
  await Deno.writeTextFile(path, body);
  await Deno.chmod(path, 0o755);
}

/** The NUL-separated argv a fake recorded for its n-th call. */
async function argvOf(dir: string, n: number): Promise<string[]> {
  return (await Deno.readTextFile(join(dir, `argv.${n}`))).split("\0").slice(0, -1);
}

/** Shell lines shared by the fakes: count the call, record argv (NUL-separated) and env. */
// `--version` (asked once per binary for cache keys, docs/cache.md) is answered, not recorded
const RECORD = `[ "$1" = "--version" ] && { echo "fake 1.0.0"; exit 0; }
n=$(ls "$FAKE_DIR" | grep -c '^argv\\.')
n=$((n + 1))
for a in "$@"; do printf '%s\\000' "$a"; done > "$FAKE_DIR/argv.$n"
env > "$FAKE_DIR/env.$n"
`;

Deno.test("maestro run drives ollama: argv, retry feedback on attempt 2, parsed answer, tokens, cost 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maestro-ollama-e2e-" });
  try {
    const bin = join(dir, "bin");
    const calls = join(dir, "calls");
    await Deno.mkdir(bin);
    await Deno.mkdir(calls);
    // attempt 1: the server is down (rc 1, ollama's own message); attempt 2: what
    // `ollama run --verbose` prints for a thinking model, stats on stderr.
    await script(
      join(bin, "ollama"),
      `#!/bin/sh
FAKE_DIR="$OLLAMA_FAKE_DIR"
${RECORD}if [ "$n" = 1 ]; then
  echo "Error: could not connect to ollama server, run 'ollama serve' to start it" >&2
  exit 1
fi
printf 'Thinking...\\nThe user wants a greeting.\\n...done thinking.\\n\\nHello from fake ollama\\n'
printf 'total duration:       753.5ms\\nprompt eval count:    36 token(s)\\n' >&2
printf 'prompt eval duration: 75.3ms\\neval count:           34 token(s)\\neval duration:        674.9ms\\n' >&2
`,
    );
    const run = await runPlan(
      dir,
      `name: local
goal: Greet the user
tasks:
  - id: greet
    engine: ollama
    model: qwen3
    max_retries: 1
    args: ["--keepalive", "5m"]
    append_system_prompt: Be brief.
    prompt: say hi
  - id: echo
    depends_on: [greet]
    command: 'printf "got: %s\\n" "{{ greet.stdout_tail }}"'
  - id: shell
    command: 'test -n "$GH_TOKEN" && test -n "$GEMINI_API_KEY" && echo "provider keys here"'
`,
      {
        PATH: `${bin}:/usr/bin:/bin`,
        OLLAMA_HOST: "127.0.0.1:9",
        OLLAMA_FAKE_DIR: calls,
        // other engines' keys: never given to an ollama task, still to shell tasks
        ANTHROPIC_API_KEY: "sk-ant-must-not-leak",
        GEMINI_API_KEY: "gemini-must-not-leak",
        GH_TOKEN: "gh-must-not-leak",
        DASHSCOPE_API_KEY: "dashscope-must-not-leak",
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const greet = await run.result("greet");
    assert.equal(greet.status, "success", greet.message);
    assert.equal(greet.stdout_tail, "Hello from fake ollama");
    assert.deepEqual(greet.token_usage, { input: 36, cached: 0, output: 34, total: 70 });
    assert.deepEqual([greet.cost_usd, greet.cost_source], [0, "priced"]);
    assert.equal(greet.failure_history.length, 1);
    assert.equal(greet.failure_history[0]?.category, "model_unavailable");
    assert.match(
      greet.failure_history[0]?.message ?? "",
      /no ollama server answers at 127\.0\.0\.1:9/,
    );
    const first = await argvOf(calls, 1);
    assert.deepEqual(first, [
      "run",
      "qwen3",
      "--verbose",
      "--keepalive",
      "5m",
      "--",
      "[System Instructions]\nBe brief.\n\n[Task]\nGoal: Greet the user\n\nsay hi",
    ]);
    const second = (await argvOf(calls, 2)).at(-1) ?? "";
    assert.match(
      second,
      /^\[System Instructions\]\nBe brief\.\n\n\[RETRY FEEDBACK -- Attempt 2\/2\]\nFailure category: model_unavailable\nExit code: 1\n/,
    );
    assert.match(
      second,
      /could not connect to ollama server[\s\S]*\[Task\]\nGoal: Greet the user\n\nsay hi$/,
    );
    const env = await Deno.readTextFile(join(calls, "env.2"));
    assert.match(env, /^OLLAMA_HOST=127\.0\.0\.1:9$/m);
    assert.doesNotMatch(env, /ANTHROPIC_API_KEY|GEMINI_API_KEY|GH_TOKEN|DASHSCOPE|must-not-leak/);
    assert.equal((await run.result("echo")).stdout_tail, "got: Hello from fake ollama");
    assert.equal((await run.result("shell")).stdout_tail, "provider keys here");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("maestro run drives llama-cli: the model file from LLAMA_MODEL_DIR, -st, and a missing file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "maestro-llama-e2e-" });
  try {
    const bin = join(dir, "bin");
    const calls = join(dir, "calls");
    const models = join(dir, "models");
    for (const d of [bin, calls, models]) await Deno.mkdir(d);
    await Deno.writeTextFile(join(models, "llama-3-8b"), "GGUF");
    await script(
      join(bin, "llama-cli"),
      `#!/bin/sh
FAKE_DIR="$LLAMA_FAKE_DIR"
${RECORD}model=""; prev=""
for a in "$@"; do [ "$prev" = "-m" ] && model="$a"; prev="$a"; done
if [ ! -f "$model" ]; then
  echo "gguf_init_from_file_impl: failed to open GGUF file '$model' (No such file or directory)" >&2
  echo "main: error: unable to load model" >&2
  exit 1
fi
printf 'Hello from fake llama\\n [end of text]\\n'
echo "llama_perf_context_print: prompt eval time =     100.00 ms /    12 tokens" >&2
echo "llama_perf_context_print:        eval time =     200.00 ms /     9 runs" >&2
`,
    );
    const run = await runPlan(
      dir,
      `name: llama
fail_fast: false
tasks:
  - id: ok
    engine: llama
    model: llama3
    args: ["-n", "64"]
    prompt: say hi
  - id: missing
    engine: llama
    model: nope.gguf
    prompt: say hi
`,
      { PATH: `${bin}:/usr/bin:/bin`, LLAMA_MODEL_DIR: models, LLAMA_FAKE_DIR: calls },
    );
    assert.equal(run.code, 1, run.stderr);
    const ok = await run.result("ok");
    assert.equal(ok.status, "success", ok.message);
    assert.equal(ok.stdout_tail, "Hello from fake llama");
    assert.deepEqual(ok.token_usage, { input: 12, cached: 0, output: 9, total: 21 });
    const missing = await run.result("missing");
    assert.equal(missing.status, "failed");
    assert.equal(missing.failure_history[0]?.category, "model_unavailable");
    assert.match(
      missing.message,
      /^llama failed \(model_unavailable\): [\s\S]*Hint: llama-cli could not load/,
    );
    const argvs = [await argvOf(calls, 1), await argvOf(calls, 2)];
    const okArgv = argvs.find((a) => a[1]?.endsWith("llama-3-8b"));
    assert.deepEqual(okArgv, [
      "-m",
      join(models, "llama-3-8b"),
      "-p",
      "say hi",
      "--no-display-prompt",
      "-st",
      "-n",
      "64",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const copilotCli = await installPinned("copilot");
if ("skip" in copilotCli) console.warn(`copilot e2e test ignored: ${copilotCli.skip}`);

Deno.test({
  name:
    "maestro run drives the real copilot in yolo: tool call, usage-file tokens, and no other engine's keys",
  ignore: "skip" in copilotCli,
  async fn() {
    const bin = "bin" in copilotCli ? copilotCli.bin : "";
    const dir = await Deno.makeTempDir({ prefix: "maestro-copilot-e2e-" });
    const fake = startFakeServer();
    fake.setMode({
      tool: {
        name: "bash",
        args: { command: "env > env.txt", description: "dump env", mode: "sync", initial_wait: 30 },
      },
    });
    try {
      // the 235 MB package copilot extracts on first run is shared with the real-CLI tests
      const xdg = `${cliCacheDir(PINNED_CLIS.copilot.pkg, PINNED_CLIS.copilot.version)}.xdg-cache`;
      const run = await runPlan(
        dir,
        `name: copilot
tasks:
  - id: ask
    engine: copilot
    model: gpt-5.4
    env:
      XDG_CACHE_HOME: ${JSON.stringify(xdg)}
    prompt: dump the environment
`,
        {
          PATH: `${dirname(bin)}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
          COPILOT_OFFLINE: "true",
          COPILOT_PROVIDER_BASE_URL: `${fake.url}/v1`,
          COPILOT_PROVIDER_API_KEY: "sk-fake",
          COPILOT_PROVIDER_WIRE_API: "responses",
          ANTHROPIC_API_KEY: "sk-ant-must-not-leak",
          OPENAI_API_KEY: "sk-must-not-leak",
        },
        ["--execution-profile", "yolo"],
      );
      assert.equal(run.code, 0, run.stderr);
      const ask = await run.result("ask");
      assert.equal(ask.status, "success", ask.message);
      assert.equal(ask.stdout_tail, FAKE_TEXT);
      assert.equal(ask.tool_call_count, 1);
      assert.deepEqual(ask.token_usage, { input: 22, cached: 0, output: 14, total: 36 });
      // gpt-5.4: 22·2.5/1e6 + 14·15/1e6
      assert.deepEqual([ask.cost_usd, ask.cost_source], [0.000265, "priced"]);
      const env = await Deno.readTextFile(join(dir, "env.txt"));
      assert.match(env, /^MAESTRO_TASK_ID=ask$/m); // the dump is of the tool's real env
      assert.doesNotMatch(env, /ANTHROPIC_API_KEY|OPENAI_API_KEY|must-not-leak/);
      assert.match(await run.log("ask"), /\[engine\] copilot .*--usage-output-file .*--yolo/);
    } finally {
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
