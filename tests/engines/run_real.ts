/**
 * Test helper: spawns what an adapter built (argv[0] replaced by the pinned binary), feeds
 * stdout lines (and the usage file, when the adapter asked for one) to the adapter's parser,
 * as the runtime's executor does.
 *
 * @module
 */
import type {
  Engine,
  EngineInvocation,
  EngineResult,
  ExitInfo,
  ParseContext,
} from "../../engines/types.ts";

/** A finished real run. */
export interface RealRun {
  result: EngineResult;
  exitCode: number;
  stdout: string[];
  stderr: string[];
  seconds: number;
}

/** Runs an invocation with a minimal env (PATH + HOME + the invocation's env) in `cwd`. */
export async function runReal(
  engine: Engine,
  inv: EngineInvocation,
  bin: string,
  opts: { cwd: string; home: string; extraEnv?: Record<string, string> },
): Promise<RealRun> {
  const started = performance.now();
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: opts.home,
    ...opts.extraEnv,
    ...inv.env,
  };
  const child = new Deno.Command(bin, {
    args: inv.argv.slice(1),
    cwd: opts.cwd,
    env,
    clearEnv: true,
    stdin: inv.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (inv.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(inv.stdin));
    await w.close();
  }
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout).split("\n");
  const stderr = new TextDecoder().decode(out.stderr).split("\n").filter((l) => l.trim());
  const ctx: ParseContext = { env };
  if (inv.model) ctx.model = inv.model;
  const parser = engine.parser(ctx);
  for (const line of stdout) parser.push(line);
  const exit: ExitInfo = { exitCode: out.code, stderrTail: stderr.slice(-20) };
  // as the runtime does: the usage file (copilot's tokens) goes to the parser after exit
  const usage = inv.usageFile
    ? await Deno.readTextFile(inv.usageFile).catch(() => undefined)
    : undefined;
  if (usage !== undefined) exit.usageFileText = usage;
  const result = parser.finish(exit);
  return {
    result,
    exitCode: out.code,
    stdout,
    stderr,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}
