/**
 * The baseline for maestro's RSS growth per task: what bare Deno's RSS does when it spawns
 * `/usr/bin/true` N times (concurrency 8), with stdout/stderr piped and read to the end (as
 * maestro does) and with them sent to /dev/null. Each N runs in a fresh process; RSS is read
 * after two forced GCs. docs/performance.md ("RSS growth, and where it comes from").
 *
 * Run: `deno run -A --v8-flags=--expose-gc bench/spawn_rss.ts [2000 10000 20000]`
 *
 * @module
 */

const MIB = 1024 * 1024;

async function spawnMany(n: number, piped: boolean, concurrency = 8): Promise<void> {
  let next = 0;
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const _ of stream) { /* read to the end */ }
  };
  const worker = async () => {
    while (next < n) {
      next++;
      const child = new Deno.Command("/usr/bin/true", {
        stdin: "null",
        stdout: piped ? "piped" : "null",
        stderr: piped ? "piped" : "null",
      }).spawn();
      if (piped) await Promise.all([drain(child.stdout), drain(child.stderr), child.status]);
      else await child.status;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** One measurement in this process: spawns, forced GCs, then `Deno.memoryUsage()`. */
async function measureHere(n: number, piped: boolean): Promise<Deno.MemoryUsage> {
  await spawnMany(n, piped);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return Deno.memoryUsage();
}

if (import.meta.main) {
  const [mode, count] = Deno.args;
  if (mode === "--child") {
    const [n, piped] = (count ?? "").split(":");
    console.log(JSON.stringify(await measureHere(Number(n), piped === "piped")));
  } else {
    const sizes = Deno.args.length > 0 ? Deno.args.map(Number) : [2000, 10000, 20000];
    console.log("| spawns | piped: rss / heapTotal / external MiB | null: rss MiB |");
    console.log("| ---: | --- | ---: |");
    for (const n of sizes) {
      const row: Deno.MemoryUsage[] = [];
      for (const piped of ["piped", "null"]) {
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--v8-flags=--expose-gc",
            new URL(import.meta.url).pathname,
            "--child",
            `${n}:${piped}`,
          ],
          stdout: "piped",
        }).output();
        row.push(JSON.parse(new TextDecoder().decode(out.stdout)) as Deno.MemoryUsage);
      }
      const [p, z] = row as [Deno.MemoryUsage, Deno.MemoryUsage];
      const f = (x: number) => (x / MIB).toFixed(1);
      console.log(
        `| ${n} | ${f(p.rss)} / ${f(p.heapTotal)} / ${f(p.external)} | ${f(z.rss)} |`,
      );
    }
  }
}
