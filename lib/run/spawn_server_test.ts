import * as assert from "node:assert/strict";
import {
  encodeRequest,
  ensureSpawnServer,
  exitCodeOf,
  type OutputSink,
  SpawnServer,
  SpawnServerError,
  spawnServerPath,
} from "./spawn_server.ts";

const linux64 = Deno.build.os === "linux" && Deno.build.arch === "x86_64";
const baseEnv = Deno.env.toObject();
const PATH = { PATH: "/usr/local/bin:/usr/bin:/bin" };

let built: string | undefined;
async function serverPath(): Promise<string> {
  if (built) return built;
  const ready = await ensureSpawnServer();
  assert.ok("path" in ready, `server not built: ${JSON.stringify(ready)}`);
  return (built = ready.path);
}

/** Runs one task to its end, collecting its output as text. */
async function runTask(server: SpawnServer, argv: string[], cwd = "/", path = argv[0]!) {
  const out: Record<"stdout" | "stderr", Uint8Array[]> = { stdout: [], stderr: [] };
  const sink: OutputSink = (stream, bytes) => out[stream].push(bytes.slice());
  const task = await server.spawn({ path, argv, env: PATH, cwd }, sink);
  const [code] = await Promise.all([task.status, task.closed]);
  const text = (chunks: Uint8Array[]) => new TextDecoder().decode(concat(chunks));
  return { code, pid: task.pid, stdout: text(out.stdout), stderr: text(out.stderr) };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 20) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

Deno.test("wait statuses become exit codes as Deno reports them", () => {
  assert.equal(exitCodeOf(0), 0);
  assert.equal(exitCodeOf(3 << 8), 3);
  assert.equal(exitCodeOf(9), 137);
  assert.equal(exitCodeOf(15), 143);
});

Deno.test("a request with a NUL byte is refused before it reaches the server", () => {
  assert.throws(
    () => encodeRequest(1, { path: "/bin/echo", argv: ["echo", "a\0b"], env: {}, cwd: "/" }),
    (error: unknown) => error instanceof SpawnServerError && error.kind === "request",
  );
});

Deno.test({
  name: "the spawn server is built into the cache once, and can be switched off",
  ignore: !linux64,
  async fn() {
    const cache = await Deno.makeTempDir({ prefix: "maestro-spawnd-cache-" });
    const ready = await ensureSpawnServer({ ...baseEnv, MAESTRO_CACHE_DIR: cache });
    assert.deepEqual(ready, { path: spawnServerPath(cache) });
    const again = await ensureSpawnServer({ ...baseEnv, MAESTRO_CACHE_DIR: cache, CC: "/nope" });
    assert.deepEqual(again, ready);
    const off = await ensureSpawnServer({ ...baseEnv, MAESTRO_SPAWN_SERVER: "off" });
    assert.deepEqual(off, { unavailable: "MAESTRO_SPAWN_SERVER=off" });
    await Deno.remove(cache, { recursive: true });
  },
});

Deno.test({
  name: "tasks get their own session, argv[0] as written, exit codes, and separate streams",
  ignore: !linux64,
  async fn() {
    const server = SpawnServer.start(await serverPath());
    try {
      const own = await runTask(
        server,
        ["my-shell", "-c", 'echo "$0 $$ $(ps -o sid= -p $$) $(pwd)"; echo oops >&2; exit 3'],
        "/tmp",
        "/bin/sh",
      );
      assert.equal(own.code, 3);
      assert.equal(own.stderr, "oops\n");
      const [name, pid, sid, cwd] = own.stdout.trim().split(/\s+/);
      assert.equal(name, "my-shell");
      assert.equal(sid, pid, "the task leads its own session and process group");
      assert.equal(Number(pid), own.pid);
      assert.equal(cwd, "/tmp");

      const missing = await runTask(server, ["/no/such/program", "x"]);
      assert.equal(missing.code, 127);
      assert.equal(missing.stderr, "maestro: /no/such/program: not found\n");

      const dir = await Deno.makeTempDir();
      await Deno.writeTextFile(`${dir}/plain`, 'echo "args:$*"\n', { mode: 0o755 });
      const script = await runTask(server, [`${dir}/plain`, "a", "b"]);
      assert.deepEqual([script.code, script.stdout], [0, "args:a b\n"]);
      await Deno.writeTextFile(`${dir}/data`, "no exec bit\n", { mode: 0o644 });
      const notExec = await runTask(server, [`${dir}/data`]);
      assert.equal(notExec.code, 126);
      await Deno.remove(dir, { recursive: true });

      const killed = await runTask(server, ["/bin/sh", "-c", "kill -TERM $$"]);
      assert.equal(killed.code, 143);

      await assert.rejects(
        server.spawn(
          { path: "/bin/true", argv: ["true"], env: PATH, cwd: "/no/such/dir" },
          () => {},
        ),
        (error: unknown) =>
          error instanceof SpawnServerError && error.kind === "workdir" &&
          error.message.includes("/no/such/dir"),
      );
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "concurrent tasks' output arrives whole and unmixed (8 tasks, 2 MB each)",
  ignore: !linux64,
  async fn() {
    const server = SpawnServer.start(await serverPath());
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          runTask(server, [
            "/bin/sh",
            "-c",
            `i=0; while [ $i -lt 20000 ]; do echo "task${i}-line-$i-....................................................................................."; i=$((i+1)); done`,
          ])),
      );
      results.forEach((result, i) => {
        assert.equal(result.code, 0);
        const lines = result.stdout.split("\n");
        assert.equal(lines.length, 20001);
        assert.ok(lines.slice(0, -1).every((line, n) => line.startsWith(`task${i}-line-${n}-`)));
      });
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name: "when the server dies, its tasks die with it and later spawns are refused",
  ignore: !linux64,
  async fn() {
    const server = SpawnServer.start(await serverPath());
    const task = await server.spawn(
      { path: "/bin/sleep", argv: ["sleep", "60"], env: PATH, cwd: "/" },
      () => {},
    );
    assert.ok(alive(task.pid));
    Deno.kill(server.pid, "SIGKILL");
    assert.equal(await task.status, 137);
    await task.closed;
    assert.ok(await until(() => !alive(task.pid)), "the task outlived the server");
    await assert.rejects(
      server.spawn({ path: "/bin/true", argv: ["true"], env: PATH, cwd: "/" }, () => {}),
      (error: unknown) => error instanceof SpawnServerError && error.kind === "gone",
    );
    await server.close();
  },
});

Deno.test({
  name: "a kill -9 of maestro stops every task's whole process group",
  ignore: !linux64,
  async fn() {
    const path = await serverPath();
    // a Deno process stands in for maestro: it starts a task with a background job, prints pids
    const script = `
      import { SpawnServer } from ${
      JSON.stringify(new URL("./spawn_server.ts", import.meta.url).href)
    };
      const server = SpawnServer.start(${JSON.stringify(path)});
      const task = await server.spawn({ path: "/bin/sh", argv: ["sh", "-c", "sleep 60 & echo $$ $!; wait"],
        env: { PATH: "/usr/bin:/bin" }, cwd: "/" }, (_s, bytes) => {
          console.log(new TextDecoder().decode(bytes).trim());
        });
      await task.status;
    `;
    const file = await Deno.makeTempFile({ suffix: ".ts" });
    await Deno.writeTextFile(file, script);
    const maestro = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", file],
      stdout: "piped",
      stderr: "inherit",
      stdin: "null",
    }).spawn();
    const reader = maestro.stdout.getReader();
    const { value } = await reader.read();
    const [leader, job] = new TextDecoder().decode(value).trim().split(" ").map(Number);
    assert.ok(leader! > 0 && job! > 0 && alive(leader!) && alive(job!));
    Deno.kill(maestro.pid, "SIGKILL");
    await maestro.status;
    reader.releaseLock();
    await maestro.stdout.cancel();
    await Deno.remove(file);
    const gone = await until(() => !alive(leader!) && !alive(job!));
    if (!gone) { for (const pid of [leader!, job!]) Deno.kill(pid, "SIGKILL"); }
    assert.ok(gone, "a task process outlived maestro");
  },
});
