/**
 * End-to-end tests of the run store: each drives the real CLI (`maestro run`, `runs`,
 * `reindex`) on plans in a temporary folder, with a real libSQL file.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CliResult, runCli } from "../helpers.ts";
import { openStore } from "../../lib/store/store.ts";
import { SCHEMA_VERSION } from "../../lib/store/migrations.ts";

const MIXED = `name: mixed
max_parallel: 2
fail_fast: false
tasks:
  - id: ok
    command: echo fine
  - id: flaky
    command: "exit 3"
    max_retries: 1
  - id: after
    depends_on: [flaky]
    command: echo never
  - id: soft
    command: "exit 1"
    allow_failure: true
`;

function manyTasks(name: string, n: number): string {
  const tasks = Array.from({ length: n }, (_, i) => `  - id: t${i}\n    command: "true"\n`);
  return `name: ${name}\nmax_parallel: 8\ntasks:\n${tasks.join("")}`;
}

interface RunJson {
  run_id: string;
  plan_name: string;
  plan_path: string | null;
  status: string;
  started_at: string;
  finished_at: string | null;
  duration_sec: number | null;
  tasks: Record<string, number>;
  run_dir: string;
}

async function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), "maestro-store-e2e-"));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function maestro(args: string[], cwd: string, env?: Record<string, string>): Promise<CliResult> {
  return runCli(args, { cwd, env });
}

async function runsJson(cwd: string, extra: string[] = [], env?: Record<string, string>) {
  const result = await maestro(["runs", "--json", ...extra], cwd, env);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as { store: string; runs: RunJson[] };
}

/** No stack trace, no "database is locked", in what the user sees. */
function assertClean(result: CliResult): void {
  assert.doesNotMatch(result.stderr, /^\s+at /m, result.stderr);
  assert.doesNotMatch(result.stderr + result.stdout, /database is locked|SQLITE_BUSY/i);
}

Deno.test("maestro run indexes the run: runs --json shows it with its counts, newest first", async () => {
  await withDir({ "plan.yaml": MIXED }, async (dir) => {
    const first = await maestro(["run", "plan.yaml"], dir);
    assert.equal(first.code, 1, first.stderr);
    assertClean(first);
    assert.ok(existsSync(join(dir, ".maestro", "maestro.db")));
    assert.ok(existsSync(join(dir, ".maestro", ".gitignore")));
    const { store, runs } = await runsJson(dir);
    assert.equal(store, join(".maestro", "maestro.db"));
    assert.equal(runs.length, 1);
    const run = runs[0]!;
    assert.equal(run.plan_name, "mixed");
    assert.equal(run.plan_path, join(dir, "plan.yaml"));
    assert.equal(run.status, "failed");
    assert.deepEqual(run.tasks, {
      total: 4,
      success: 1,
      soft_failed: 1,
      failed: 1,
      skipped: 1,
      cancelled: 0,
    });
    assert.ok(run.duration_sec !== null && run.duration_sec > 0);
    assert.ok(existsSync(join(run.run_dir, "run_manifest.json")));

    await maestro(["run", "plan.yaml", "--skip", "flaky,after"], dir);
    const again = await runsJson(dir);
    assert.equal(again.runs.length, 2);
    assert.equal(again.runs[1]!.run_id, run.run_id, "newest first");
    assert.equal(again.runs[0]!.status, "success");
    assert.equal(again.runs[0]!.tasks.skipped, 2);
    assert.deepEqual(
      (await runsJson(dir, ["--status", "failed"])).runs.map((r) => r.run_id),
      [run.run_id],
    );
    assert.equal((await runsJson(dir, ["--limit", "1"])).runs.length, 1);
    assert.equal((await runsJson(dir, ["--plan", "other"])).runs.length, 0);

    const table = await maestro(["runs"], dir);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(
      lines[0]!,
      /^RUN\s+PLAN\s+STATUS\s+STARTED\s+DURATION\s+OK\s+FAILED\s+SKIPPED\s+COST$/,
    );
    assert.equal(lines.length, 3);
    assert.match(
      lines[2]!,
      new RegExp(`^${run.run_id}\\s+mixed\\s+failed\\s+.*\\s2\\s+1\\s+1\\s+-$`),
    );
  });
});

Deno.test("--db and MAESTRO_DB_URL pick another store; --no-store writes none", async () => {
  await withDir(
    { "plan.yaml": "name: p\ntasks:\n  - id: a\n    command: 'true'\n" },
    async (dir) => {
      const flag = await maestro(["run", "plan.yaml", "--db", "elsewhere/flag.db"], dir);
      assert.equal(flag.code, 0, flag.stderr);
      assert.ok(existsSync(join(dir, "elsewhere", "flag.db")));
      assert.ok(!existsSync(join(dir, ".maestro")), "the default store must not be created");
      assert.equal((await runsJson(dir, ["--db", "elsewhere/flag.db"])).runs.length, 1);

      const env = { MAESTRO_DB_URL: join(dir, "env.db") };
      const fromEnv = await maestro(["run", "plan.yaml"], dir, env);
      assert.equal(fromEnv.code, 0, fromEnv.stderr);
      assert.ok(!existsSync(join(dir, ".maestro")));
      assert.equal((await runsJson(dir, [], env)).runs.length, 1);
      // --db wins over the variable
      assert.equal(
        (await runsJson(dir, ["--db", "elsewhere/flag.db"], env)).store,
        "elsewhere/flag.db",
      );

      const none = await maestro(["run", "plan.yaml", "--no-store"], dir);
      assert.equal(none.code, 0, none.stderr);
      assert.ok(!existsSync(join(dir, ".maestro")));
      const dry = await maestro(["run", "plan.yaml", "--dry-run"], dir);
      assert.equal(dry.code, 0, dry.stderr);
      assert.ok(!existsSync(join(dir, ".maestro")), "a dry run indexes nothing");
    },
  );
});

Deno.test("read commands find the store from a subfolder; none found is exit 2 with a hint", async () => {
  await withDir(
    { "plan.yaml": "name: p\ntasks:\n  - id: a\n    command: 'true'\n" },
    async (dir) => {
      const outside = mkdtempSync(join(tmpdir(), "maestro-no-store-"));
      try {
        const missing = await maestro(["runs"], outside);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /E120 no run store found in .* or its parents/);
        assert.match(missing.stderr, /hint: .*--db/);
        assertClean(missing);
      } finally {
        rmSync(outside, { recursive: true, force: true });
      }
      assert.equal((await maestro(["run", "plan.yaml"], dir)).code, 0);
      mkdirSync(join(dir, "a", "b"), { recursive: true });
      const { store, runs } = await runsJson(join(dir, "a", "b"));
      assert.equal(store, join(dir, ".maestro", "maestro.db"));
      assert.equal(runs.length, 1);
    },
  );
});

Deno.test("maestro reindex rebuilds a deleted store from the run directories", async () => {
  await withDir({ "plan.yaml": MIXED }, async (dir) => {
    await maestro(["run", "plan.yaml"], dir);
    await maestro(["run", "plan.yaml", "--only", "ok"], dir);
    const before = (await runsJson(dir)).runs;
    assert.equal(before.length, 2);
    rmSync(join(dir, ".maestro"), { recursive: true });

    const rebuilt = await maestro(["reindex", ".maestro-runs"], dir);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.match(rebuilt.stdout, /indexed 2 runs \(8 tasks\) into \.maestro\/maestro\.db/);
    const after = (await runsJson(dir)).runs;
    const key = (
      r: RunJson,
    ) => [r.run_id, r.status, r.started_at, r.finished_at, r.tasks, r.run_dir];
    assert.deepEqual(after.map(key), before.map(key));

    // without folders: refresh the runs it knows; twice gives the same result
    const refresh = await maestro(["reindex"], dir);
    assert.equal(refresh.code, 0, refresh.stderr);
    assert.match(refresh.stdout, /indexed 2 runs/);
    assert.deepEqual((await runsJson(dir)).runs.map(key), before.map(key));
  });
});

Deno.test("two maestro runs at once on one store lose nothing (same plan and different plans)", async () => {
  await withDir(
    { "a.yaml": manyTasks("alpha", 60), "b.yaml": manyTasks("beta", 60) },
    async (dir) => {
      const db = join(dir, "shared.db");
      const results = await Promise.all([
        maestro(["run", "a.yaml", "--db", db], dir),
        maestro(["run", "a.yaml", "--db", db], dir),
        maestro(["run", "b.yaml", "--db", db], dir),
      ]);
      for (const result of results) {
        assert.equal(result.code, 0, result.stderr);
        assertClean(result);
        assert.doesNotMatch(result.stderr, /is behind/);
      }
      const { runs } = await runsJson(dir, ["--db", db]);
      assert.equal(runs.length, 3);
      assert.deepEqual(runs.map((r) => r.plan_name).sort(), ["alpha", "alpha", "beta"]);
      for (const run of runs) {
        assert.equal(run.status, "success");
        assert.equal(run.tasks.success, 60, run.run_id);
      }
      const store = await openStore({ kind: "file", path: db });
      try {
        const rows = await store.read("SELECT COUNT(*) AS n FROM task_results");
        assert.equal(rows[0]!["n"], 180);
      } finally {
        store.close();
      }
    },
  );
});

// one case per older schema version: adding a migration adds a case
for (let version = 0; version < SCHEMA_VERSION; version++) {
  Deno.test(`a store at schema version ${version} is migrated by the first run that uses it`, async () => {
    await withDir(
      { "plan.yaml": "name: p\ntasks:\n  - id: a\n    command: 'true'\n" },
      async (dir) => {
        const db = join(dir, "old.db");
        (await openStore({ kind: "file", path: db }, { targetVersion: version })).close();
        const run = await maestro(["run", "plan.yaml", "--db", db], dir);
        assert.equal(run.code, 0, run.stderr);
        assert.doesNotMatch(run.stderr, /warning/);
        assert.equal((await runsJson(dir, ["--db", db])).runs.length, 1);
        const store = await openStore({ kind: "file", path: db }, { create: false });
        try {
          assert.equal(store.schemaVersion, SCHEMA_VERSION);
        } finally {
          store.close();
        }
      },
    );
  });
}

Deno.test("usage errors exit 2 with one clear line and no stack trace", async () => {
  await withDir(
    { "plan.yaml": "name: p\ntasks:\n  - id: a\n    command: 'true'\n" },
    async (dir) => {
      const cases: [string[], RegExp, Record<string, string>?][] = [
        [
          ["run", "plan.yaml", "--db", "postgres://h/x"],
          /E121 --db: invalid run store .*unsupported scheme "postgres:"/,
        ],
        [["run", "plan.yaml"], /E121 MAESTRO_DB_URL: invalid run store "ws:\/\/h:1"/, {
          MAESTRO_DB_URL: "ws://h:1",
        }],
        [["runs", "--limit", "0"], /--limit' expects a whole number >= 1/],
        [["runs", "--status", "great"], /--status' must be one of/],
        [["runs", "--bogus"], /unknown option '--bogus'/],
        [["runs", "--db", dir], /E121 --db: .*it is a folder/],
        [["reindex", "nowhere"], /E124 no run directories found in nowhere/],
      ];
      for (const [args, pattern, env] of cases) {
        const result = await maestro(args, dir, env);
        assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, pattern, args.join(" "));
        assertClean(result);
      }
      // nothing ran: the usage errors came first
      assert.ok(!existsSync(join(dir, ".maestro-runs")));
      assert.ok(!existsSync(join(dir, ".maestro")));
    },
  );
});

Deno.test("a store that cannot be reached does not fail the run; a warning says how to catch up", async () => {
  await withDir(
    { "plan.yaml": "name: p\ntasks:\n  - id: a\n    command: 'true'\n" },
    async (dir) => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const url = `http://127.0.0.1:${port}`;
      const run = await maestro(["run", "plan.yaml", "--db", url], dir, {
        MAESTRO_DB_AUTH_TOKEN: "very-secret",
      });
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`maestro: warning: run store http://127\\.0\\.0\\.1:${port}/ is behind: `),
      );
      assert.match(
        run.stderr,
        /`maestro reindex --db http:\/\/127\.0\.0\.1:\d+\/ .*\.maestro-runs\/.*` catches up/,
      );
      assert.doesNotMatch(run.stderr, /very-secret/);
      assertClean(run);

      const read = await maestro(["runs", "--db", url], dir);
      assert.equal(read.code, 1);
      assert.match(read.stderr, /E122 cannot open the run store http:\/\/127\.0\.0\.1:\d+\//);
      assertClean(read);
    },
  );
});

Deno.test("--no-cache on a store that cannot be reached: every task runs, the run ends cleanly", async () => {
  // a cacheable task stores its result even with --no-cache; storing into rows (a server URL)
  // once crashed the run when nothing had been looked up before
  await withDir(
    {
      "plan.yaml": "name: p\ntasks:\n" +
        "  - { id: a, command: 'echo hello', cache: true }\n" +
        "  - { id: b, command: 'sleep 0.5; echo b', depends_on: [a] }\n" +
        "  - { id: c, command: 'echo c', depends_on: [b] }\n",
    },
    async (dir) => {
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const run = await maestro(["run", "plan.yaml", "--no-cache", "--output", "text"], dir, {
        MAESTRO_DB_URL: `http://127.0.0.1:${port}`,
      });
      assert.equal(run.code, 0, run.stderr);
      assertClean(run);
      assert.doesNotMatch(run.stderr, /internal error|Uncaught/, run.stderr);
      assert.match(run.stderr, /cache disabled: run store http:\/\/127\.0\.0\.1:\d+\//);
      const runs = join(dir, ".maestro-runs");
      const [runDir] = [...Deno.readDirSync(runs)].map((entry) => join(runs, entry.name));
      const manifest = JSON.parse(Deno.readTextFileSync(join(runDir!, "run_manifest.json")));
      assert.deepEqual(Object.keys(manifest.task_results).sort(), ["a", "b", "c"]);
      const leftovers = [...Deno.readDirSync(runDir!)].filter((e) => e.name.includes(".tmp-"));
      assert.deepEqual(leftovers, []);
    },
  );
});
