/**
 * `maestro doctor` through the real CLI, with a PATH of fake engine CLIs (shell scripts that
 * print a version) instead of the real ones: what is found, versions, auth variable names
 * (never values), the `--plan` verdict and its exit codes, and the `--json` shape.
 */
import assert from "node:assert/strict";
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type CliResult, ROOT, runCli, tempPlanDir } from "../helpers.ts";

const SECRET = "sk-doctor-secret-value";

/** Auth variables cleared so the developer's own environment does not leak into the checks. */
const NO_AUTH: Record<string, string> = Object.fromEntries(
  [
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "DASHSCOPE_API_KEY",
    "COPILOT_GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "COPILOT_PROVIDER_API_KEY",
  ].map((name) => [name, ""]),
);

/** A folder with `bin/<name>` scripts and other files; PATH is that bin plus the system's. */
function sandbox(scripts: Record<string, string>, files: Record<string, string> = {}) {
  const dir = tempPlanDir({
    ...Object.fromEntries(
      Object.entries(scripts).map(([name, body]) => [`bin/${name}`, `#!/bin/sh\n${body}\n`]),
    ),
    ...files,
  });
  for (const name of Object.keys(scripts)) chmodSync(join(dir, "bin", name), 0o755);
  const doctor = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(["doctor", ...args], {
      cwd: dir,
      env: { ...NO_AUTH, PATH: `${join(dir, "bin")}:/usr/bin:/bin`, ...env },
    });
  return { dir, doctor, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

const FAKES = {
  claude: 'echo "2.1.197 (Claude Code)"',
  // qwen installed under the reference tool's name only
  "qwen-code": 'echo "0.15.10"',
  codex: 'echo "codex: broken install" >&2; exit 3',
};

type Doc = Record<string, unknown> & {
  ok: boolean;
  engines: Array<Record<string, unknown>>;
  plan: Record<string, unknown> | null;
  problems: string[];
  warnings: string[];
};

function engine(doc: Doc, name: string): Record<string, unknown> {
  const found = doc.engines.find((e) => e.name === name);
  assert.ok(found, `no engine ${name}`);
  return found;
}

Deno.test("maestro doctor --json reports each engine CLI, its version and its auth variable names", async () => {
  using box = sandbox(FAKES);
  const out = await box.doctor(["--json"], { ANTHROPIC_API_KEY: SECRET });
  assert.equal(out.code, 0, out.stderr);
  assert.ok(!out.stdout.includes(SECRET), "auth values are never printed");
  const doc = JSON.parse(out.stdout) as Doc;
  assert.deepEqual(Object.keys(doc).sort(), [
    "deno",
    "engines",
    "maestro",
    "ok",
    "os",
    "plan",
    "problems",
    "run_dir",
    "spawn_helper",
    "spawn_server",
    "store",
    "warnings",
  ]);
  assert.equal(doc.ok, true);
  assert.equal(doc.plan, null);
  assert.equal((doc.deno as { version: string }).version, Deno.version.deno);
  assert.match((doc.maestro as { version: string }).version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(doc.engines.map((e) => e.name), [
    "claude",
    "codex",
    "copilot",
    "gemini",
    "ollama",
    "llama",
    "qwen",
  ]);
  const claude = engine(doc, "claude");
  assert.deepEqual(Object.keys(claude).sort(), [
    "auth",
    "binary",
    "error",
    "fallback_for",
    "found",
    "install",
    "kind",
    "module",
    "name",
    "path",
    "used_by",
    "version",
    "version_error",
  ]);
  assert.equal(claude.found, true);
  assert.equal(claude.path, join(box.dir, "bin/claude"));
  assert.equal(claude.version, "2.1.197 (Claude Code)");
  assert.deepEqual(claude.auth, {
    vars: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
    set: ["ANTHROPIC_API_KEY"],
  });
  const qwen = engine(doc, "qwen");
  assert.equal(qwen.binary, "qwen-code");
  assert.equal(qwen.version, "0.15.10");
  const codex = engine(doc, "codex");
  assert.equal(codex.found, true);
  assert.equal(codex.version, null);
  assert.equal(codex.version_error, "--version exited with code 3");
  const gemini = engine(doc, "gemini");
  assert.equal(gemini.found, false);
  assert.equal(gemini.path, null);
  assert.equal(gemini.install, "npm install -g @google/gemini-cli");
  assert.deepEqual(engine(doc, "ollama").auth, { vars: [], set: [] });
  assert.deepEqual(Object.keys(doc.run_dir as object).sort(), [
    "error",
    "exists",
    "path",
    "writable",
  ]);
  assert.equal((doc.run_dir as { path: string }).path, join(box.dir, ".maestro-runs"));
  assert.deepEqual(doc.store, {
    kind: null,
    location: null,
    source: "none",
    exists: null,
    error: null,
  });
  assert.deepEqual(Object.keys(doc.spawn_helper as object).sort(), [
    "available",
    "fallback",
    "path",
    "reason",
  ]);
  const server = doc.spawn_server as { available: boolean; path: string | null };
  // CI has a C compiler: the server is built (or found) and named by its versioned file name
  assert.equal(server.available, true);
  assert.match(server.path ?? "", /maestro-spawnd-[0-9a-f]{12}$/);
});

Deno.test("maestro doctor prints a checklist and exits 0 without a plan, however many CLIs are missing", async () => {
  using box = sandbox(FAKES);
  const out = await box.doctor([]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^ {2}✓ deno {10}\d+\.\d+\.\d+ \(V8 /m);
  assert.match(
    out.stdout,
    /^ {2}✓ claude {3}2\.1\.197 \(Claude Code\) at .*bin\/claude · auth: none of ANTHROPIC_API_KEY/m,
  );
  assert.match(
    out.stdout,
    // missing, but no plan needs it: information, not a problem (the summary agrees)
    /^ {2}· gemini {3}'gemini' not found; install: npm install -g @google\/gemini-cli$/m,
  );
  assert.match(out.stdout, /^ {2}✓ qwen {5}0\.15\.10 at .*bin\/qwen-code/m);
  assert.match(
    out.stdout,
    /^ {2}✓ run dir {7}\.maestro-runs \(writable; created on the first run\)$/m,
  );
  assert.match(out.stdout, /^✓ no problems found$/m);
});

const PLAN = `tasks:
  - id: review
    engine: claude
    prompt: review
  - id: summary
    engine: gemini
    prompt: sum up
    fallback_engine: copilot
`;

Deno.test("maestro doctor --plan exits 1 when an engine the plan uses is missing, 0 once it is there", async () => {
  using box = sandbox(FAKES, { "plan.yaml": PLAN });
  const missing = await box.doctor(["--plan", "plan.yaml"]);
  assert.equal(missing.code, 1, missing.stdout + missing.stderr);
  assert.match(missing.stdout, /^ {2}✗ engines {7}claude, gemini \(missing\)$/m);
  assert.match(
    missing.stdout,
    /^ {2}- gemini: 'gemini' is not on PATH \(used by summary\); install it with `npm install -g @google\/gemini-cli`$/m,
  );
  assert.match(missing.stdout, /^! copilot: 'copilot' is not on PATH, so the fallback of summary/m);
  assert.match(missing.stdout, /^ {2}· ollama /m, "an engine the plan does not use is only listed");

  const doc = JSON.parse((await box.doctor(["--plan", "plan.yaml", "--json"])).stdout) as Doc;
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.plan, {
    path: "plan.yaml",
    valid: true,
    name: "unnamed-plan",
    errors: [],
    engines: ["claude", "gemini"],
    missing: ["gemini"],
  });
  assert.deepEqual(engine(doc, "gemini").used_by, ["summary"]);
  assert.deepEqual(engine(doc, "copilot").fallback_for, ["summary"]);
  assert.equal(doc.problems.length, 1);
  assert.equal((doc.store as { source: string }).source, "plan");

  using full = sandbox({ ...FAKES, gemini: 'echo "0.61.0"' }, { "plan.yaml": PLAN });
  const ok = await full.doctor(["--plan", "plan.yaml"]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^✓ the plan can run here$/m);
  assert.match(ok.stdout, /^! claude: none of ANTHROPIC_API_KEY, .* is set/m);
});

Deno.test("maestro doctor --plan imports the plan's custom engines and checks their binaries", async () => {
  const good = await runCli(["doctor", "--json", "--plan", "examples/custom-engine.yaml"]);
  assert.equal(good.code, 0, good.stderr);
  const doc = JSON.parse(good.stdout) as Doc;
  const shout = engine(doc, "shout");
  assert.equal(shout.kind, "custom");
  assert.equal(shout.module, join(ROOT, "examples/engines/shout.ts"));
  assert.equal(shout.binary, "sh");
  assert.equal(shout.found, true);
  assert.deepEqual(shout.used_by, ["draft", "whisper"]);
  assert.deepEqual((doc.plan as { engines: string[] }).engines, ["shout"]);

  using box = sandbox({}, {
    "plan.yaml":
      "engines:\n  half: ./half.ts\ntasks:\n  - id: a\n    engine: half\n    prompt: hi\n",
    "half.ts": 'export default { name: "half", binary: "sh" };\n',
  });
  const bad = await box.doctor(["--plan", "plan.yaml"]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(
    bad.stdout,
    /^ {2}- custom engine "half" \(used by a\): half\.ts does not export an engine: build\(\) is missing/m,
  );
});

Deno.test("maestro doctor --plan exits 2 for an invalid plan and prints its errors", async () => {
  using box = sandbox({}, {
    "plan.yaml": "tasks:\n  - id: a\n    engine: claud\n    prompt: hi\n",
  });
  const out = await box.doctor(["--plan", "plan.yaml"]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /^plan\.yaml:3:13 E006 engine must be one of .*, got "claud"$/m);
  assert.match(out.stderr, /^ {2}hint: did you mean "claude"\?$/m);
  const doc = JSON.parse((await box.doctor(["--plan", "plan.yaml", "--json"])).stdout) as Doc;
  assert.equal((doc.plan as { valid: boolean }).valid, false);
  assert.equal((doc.plan as { errors: Array<{ code: string }> }).errors[0]!.code, "E006");
});

Deno.test("maestro doctor exits 1 for an unusable store location or run dir", async () => {
  using box = sandbox({}, {
    "plan.yaml": "run_dir: ./blocked/runs\ntasks:\n  - id: a\n    command: x\n",
    blocked: "a file, not a folder\n",
  });
  const store = await box.doctor(["--json"], { MAESTRO_DB_URL: "ws://example.invalid" });
  assert.equal(store.code, 1);
  const doc = JSON.parse(store.stdout) as Doc;
  assert.equal((doc.store as { source: string }).source, "MAESTRO_DB_URL");
  assert.match(doc.problems[0]!, /^run store: MAESTRO_DB_URL: invalid run store/);

  const db = JSON.parse((await box.doctor(["--json", "--db", "team.db"])).stdout) as Doc;
  assert.deepEqual(db.store, {
    kind: "file",
    location: "team.db",
    source: "--db",
    exists: false,
    error: null,
  });

  const runDir = await box.doctor(["--plan", "plan.yaml"]);
  assert.equal(runDir.code, 1);
  assert.match(runDir.stdout, /^ {2}✗ run dir {7}blocked\/runs: .*blocked is not a folder$/m);
});
