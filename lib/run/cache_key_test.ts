import assert from "node:assert/strict";
import type { TaskIR } from "../plan/ir.ts";
import { fixtureTask } from "./_task_fixture.ts";
import {
  type CacheComponents,
  cacheComponents,
  cacheKey,
  type ComponentSources,
  describeChange,
  diffComponents,
  type EngineComponent,
  outcomeHash,
  storedComponents,
} from "./cache_key.ts";
import { makeResult } from "./result.ts";

const SOURCES: ComponentSources = {
  rendered: "make build",
  upstream: { a: { key: "1".repeat(64), out: "2".repeat(64) } },
  inputs: { "src/main.c": "3".repeat(64) },
  baseDir: "/plans",
};

function task(extra: Partial<TaskIR> = {}): TaskIR {
  return fixtureTask("build", ["a"], {
    command: "make build",
    workdir: "/plans",
    env: { CC: "gcc" },
    inputs: ["src/**"],
    cache: true,
    ...extra,
  });
}

function keyOf(extra: Partial<TaskIR> = {}, sources: Partial<ComponentSources> = {}): string {
  return cacheKey(cacheComponents(task(extra), { ...SOURCES, ...sources }));
}

function engineTask(extra: Partial<TaskIR> = {}): TaskIR {
  return fixtureTask("review", [], {
    kind: "engine",
    command: undefined,
    engine: "claude",
    model: "sonnet",
    prompt: { kind: "inline", text: "Review {{ a.stdout_tail }}" },
    ...extra,
  });
}

const ENGINE: EngineComponent = { name: "claude", model: "sonnet", version: "2.0.1 (Claude Code)" };

Deno.test("cacheKey() is a stable SHA-256 hex of the components", () => {
  assert.match(keyOf(), /^[0-9a-f]{64}$/);
  assert.equal(keyOf(), keyOf());
});

Deno.test("cacheKey() changes when any component changes", () => {
  const base = keyOf();
  const variants: Record<string, string> = {
    "a definition field": keyOf({ timeout_sec: 99 }),
    "the command as written": keyOf({ command: "make all" }),
    "the rendered command": keyOf({}, { rendered: "make build V=1" }),
    "a declared env value": keyOf({ env: { CC: "clang" } }),
    "a declared env var added": keyOf({ env: { CC: "gcc", CFLAGS: "-O2" } }),
    "an upstream's key": keyOf({}, {
      upstream: { a: { key: "9".repeat(64), out: "2".repeat(64) } },
    }),
    "an upstream's output": keyOf({}, {
      upstream: { a: { key: "1".repeat(64), out: "8".repeat(64) } },
    }),
    "an input file's content": keyOf({}, { inputs: { "src/main.c": "4".repeat(64) } }),
    "an input file added": keyOf({}, {
      inputs: { "src/main.c": "3".repeat(64), "src/util.c": "5".repeat(64) },
    }),
    "the inputs globs": keyOf({ inputs: ["src/**", "include/**"] }),
    "the task id": keyOf({ id: "build2" }),
    "the workdir": keyOf({ workdir: "/plans/sub" }),
  };
  for (const [what, key] of Object.entries(variants)) {
    assert.notEqual(key, base, `${what} did not change the key`);
  }
  assert.equal(new Set(Object.values(variants)).size, Object.keys(variants).length);
});

Deno.test("cacheKey() of an engine task changes with the prompt, model, CLI version and module", () => {
  const key = (extra: Partial<TaskIR>, engine = ENGINE, rendered = "Review ok") =>
    cacheKey(cacheComponents(engineTask(extra), { ...SOURCES, rendered, engine }));
  const base = key({});
  assert.notEqual(key({}, ENGINE, "Review not ok"), base);
  assert.notEqual(key({}, { ...ENGINE, model: "opus" }), base);
  assert.notEqual(key({}, { ...ENGINE, version: "2.0.2 (Claude Code)" }), base);
  assert.notEqual(key({}, { ...ENGINE, module: "a".repeat(64) }), base);
  assert.notEqual(key({ reasoning_effort: "high" }), base);
});

Deno.test("cacheKey() ignores what cannot change the result: description, tags, origin, gates", () => {
  const base = keyOf();
  assert.equal(keyOf({ description: "now documented" }), base);
  assert.equal(keyOf({ tags: ["slow"] }), base);
  assert.equal(keyOf({ origin: { file: "other.ts", line: 9, column: 3 } }), base);
  assert.equal(keyOf({ requires_approval: true }), base);
  assert.equal(keyOf({ negative_cache_ttl_sec: 60 }), base);
});

Deno.test("cacheKey() keys paths relative to the plan folder: a checkout elsewhere hits", () => {
  const here = keyOf({ workdir: "/plans/sub" });
  const there = keyOf({ workdir: "/home/ci/plans/sub" }, { baseDir: "/home/ci/plans" });
  assert.equal(there, here);
});

Deno.test("diffComponents() names exactly what changed, with readable values for fields", () => {
  const before = storedComponents(cacheComponents(task(), SOURCES));
  const after = storedComponents(cacheComponents(task({ timeout_sec: 60, env: { CC: "clang" } }), {
    ...SOURCES,
    upstream: { a: { key: "1".repeat(64), out: "7".repeat(64) } },
    inputs: { "src/main.c": "4".repeat(64), "src/new.c": "6".repeat(64) },
  }));
  const changes = diffComponents(before, after);
  assert.deepEqual(changes.map(describeChange), [
    "field timeout_sec changed: 10 → 60",
    "env CC changed",
    "upstream a changed (output)",
    "input src/main.c changed",
    "input src/new.c added",
  ]);
  assert.deepEqual(diffComponents(before, before), []);
});

Deno.test("diffComponents() tells a changed upstream definition from a changed output", () => {
  const before = storedComponents(cacheComponents(task(), SOURCES));
  const after = storedComponents(cacheComponents(task(), {
    ...SOURCES,
    upstream: { a: { key: "5".repeat(64), out: "2".repeat(64) } },
  }));
  assert.deepEqual(diffComponents(before, after).map(describeChange), [
    "upstream a changed (definition or inputs)",
  ]);
});

Deno.test("storedComponents() shortens hashes to 16 hex digits and keeps readable values", () => {
  const stored = storedComponents(cacheComponents(task(), SOURCES));
  assert.equal(stored.inputs!["src/main.c"], "3".repeat(16));
  assert.equal(stored.upstream.a!.key, "1".repeat(16));
  assert.equal(stored.task.command, '"make build"');
  assert.equal(stored.task.workdir, '"."');
  const long = storedComponents(cacheComponents(task({ command: "x".repeat(200) }), SOURCES));
  assert.match(long.task.command!, /^sha256:[0-9a-f]{16}$/);
  const components: CacheComponents = JSON.parse(JSON.stringify(stored));
  assert.deepEqual(components, stored);
});

Deno.test("outcomeHash() ignores timings, paths and the message, not the output", () => {
  const a = makeResult({
    task_id: "t",
    status: "success",
    message: "ok",
    stdout_tail: "built",
    duration_sec: 3,
    log_path: "/runs/1/t.log",
  });
  const restored = {
    ...structuredClone(a),
    message: "Cache hit [0123456789ab]",
    duration_sec: 0.001,
    log_path: "/runs/2/t.log",
    started_at: "2026-01-01T00:00:00.000000+00:00",
  };
  assert.equal(outcomeHash(restored), outcomeHash(a));
  assert.notEqual(outcomeHash({ ...a, stdout_tail: "built twice" }), outcomeHash(a));
  assert.notEqual(outcomeHash({ ...a, status: "soft_failed" }), outcomeHash(a));
});
