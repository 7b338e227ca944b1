import * as assert from "node:assert/strict";
import { ensureSpawnHelper, spawnHelperPath } from "./spawn_helper.ts";
import { scratchDir } from "../../tests/helpers.ts";

const linux64 = Deno.build.os === "linux" && Deno.build.arch === "x86_64";
const baseEnv = Deno.env.toObject();

async function freshHelper(): Promise<{ path: string; cache: string }> {
  const cache = await scratchDir("maestro-spawn-cache-");
  const helper = await ensureSpawnHelper({ ...baseEnv, MAESTRO_CACHE_DIR: cache });
  assert.ok("path" in helper, `helper not built: ${JSON.stringify(helper)}`);
  return { path: helper.path, cache };
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(argv[0]!, { args: argv.slice(1), stdin: "null" }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

Deno.test({
  name: "the spawn helper is compiled once into the cache and reused without a compiler",
  ignore: !linux64,
  async fn() {
    const { path, cache } = await freshHelper();
    assert.equal(path, spawnHelperPath(cache));
    assert.ok(((Deno.statSync(path).mode ?? 0) & 0o111) !== 0);
    const again = await ensureSpawnHelper({ ...baseEnv, MAESTRO_CACHE_DIR: cache, CC: "/nope" });
    assert.deepEqual(again, { path });
    // nothing but the helper itself is left in the cache (no sources, no temp files)
    assert.deepEqual([...Deno.readDirSync(`${cache}/bin`)].map((e) => e.name), [
      path.split("/").pop(),
    ]);
  },
});

Deno.test({
  name: "without a working compiler, or when switched off, the helper is unavailable and says why",
  ignore: !linux64,
  async fn() {
    const cache = await scratchDir("maestro-spawn-cache-");
    const broken = await ensureSpawnHelper({ ...baseEnv, MAESTRO_CACHE_DIR: cache, CC: "false" });
    assert.ok("unavailable" in broken && broken.unavailable.startsWith("false failed"));
    assert.deepEqual([...Deno.readDirSync(`${cache}/bin`)], [], "no half-built helper left");
    const missing = await ensureSpawnHelper({ ...baseEnv, MAESTRO_CACHE_DIR: cache, CC: "/no/cc" });
    assert.ok("unavailable" in missing);
    const off = await ensureSpawnHelper({ ...baseEnv, MAESTRO_SPAWN_HELPER: "off" });
    assert.deepEqual(off, { unavailable: "MAESTRO_SPAWN_HELPER=off" });
  },
});

Deno.test({
  name: "the helper starts a new session, keeps argv[0], and reports a missing program with 127",
  ignore: !linux64,
  async fn() {
    const { path } = await freshHelper();
    const own = await run([path, "/bin/sh", "my-shell", "-c", 'echo "$0 $$ $(ps -o sid= -p $$)"']);
    assert.equal(own.code, 0, own.stderr);
    const [name, pid, sid] = own.stdout.trim().split(/\s+/);
    assert.equal(name, "my-shell");
    assert.equal(sid, pid, "the task leads its own session and process group");

    const missing = await run([path, "/no/such/program", "nope"]);
    assert.equal(missing.code, 127);
    assert.equal(missing.stderr, "maestro: nope: not found\n");
    const dir = await scratchDir("maestro-spawn-test-");
    await Deno.writeTextFile(`${dir}/data`, "no exec bit\n", { mode: 0o644 });
    const notExec = await run([path, `${dir}/data`, "x"]);
    assert.equal(notExec.code, 126);
    assert.equal(notExec.stderr, "maestro: x: cannot execute: Permission denied\n");

    // a script without #! runs under /bin/sh, as execvp(3) does
    await Deno.writeTextFile(`${dir}/plain`, 'echo "args:$*"\n', { mode: 0o755 });
    const script = await run([path, `${dir}/plain`, "plain", "a", "b"]);
    assert.equal(script.stdout, "args:a b\n");
    assert.equal(script.code, 0);
  },
});

Deno.test({
  name: "a task started through the helper dies with its parent (kill -9 of the supervisor)",
  ignore: !linux64,
  async fn() {
    const { path } = await freshHelper();
    // sh stands in for maestro: it starts a long task through the helper, prints its pid, waits
    const parent = new Deno.Command("sh", {
      args: ["-c", `"${path}" /bin/sleep sleep 60 & echo $!; wait`],
      stdout: "piped",
      stdin: "null",
    }).spawn();
    const reader = parent.stdout.getReader();
    const { value } = await reader.read();
    const taskPid = Number(new TextDecoder().decode(value).trim());
    assert.ok(taskPid > 0);
    for (
      let i = 0;
      i < 50 && !Deno.readTextFileSync(`/proc/${taskPid}/cmdline`).startsWith("sleep");
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(alive(taskPid));
    Deno.kill(parent.pid, "SIGKILL");
    await parent.status;
    reader.releaseLock();
    await parent.stdout.cancel();
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      gone = !alive(taskPid);
      if (!gone) await new Promise((r) => setTimeout(r, 20));
    }
    if (!gone) Deno.kill(taskPid, "SIGKILL");
    assert.ok(gone, "the task outlived its supervisor");
  },
});
