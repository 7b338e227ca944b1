/**
 * Measuring child processes: wall time (from `performance.now()` around the spawn) and peak RSS
 * (from GNU time's `%M`, when `/usr/bin/time` is installed), plus the robust statistics the
 * benchmark reports (median and min of repeated runs).
 *
 * @module
 */
import { join } from "node:path";

/** GNU time, used for peak RSS. Debian package `time`. */
export const GNU_TIME = "/usr/bin/time";

/** One run of a command. */
export interface Sample {
  /** Wall time in milliseconds, spawn to exit (includes about 1 ms for GNU time itself). */
  wallMs: number;
  /** Peak resident set size in KiB, when GNU time is available. */
  rssKiB?: number;
  /**
   * CPU time (user + system, all threads) in milliseconds, when GNU time is available. Less
   * sensitive than wall time to other jobs on a busy machine.
   */
  cpuMs?: number;
  /** Exit code of the measured command. */
  code: number;
  /** Captured stderr (for diagnostics when the code is not the expected one). */
  stderr: string;
}

/** How to run a command. */
export interface RunOptions {
  /** Extra environment variables (the rest of the environment is kept). */
  env?: Record<string, string>;
  /** Working folder. */
  cwd?: string;
}

/** Summary of repeated samples. */
export interface Stats {
  /** Number of samples. */
  n: number;
  /** Median. */
  median: number;
  /** Minimum. */
  min: number;
  /** Maximum. */
  max: number;
}

let gnuTime: boolean | undefined;

/** Whether GNU time is installed (so RSS can be measured). */
export function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    try {
      gnuTime = Deno.statSync(GNU_TIME).isFile;
    } catch {
      gnuTime = false;
    }
  }
  return gnuTime;
}

/**
 * Runs `argv` once with stdout discarded and returns its wall time, peak RSS and exit code.
 *
 * @param argv program and arguments
 * @param options environment and working folder
 * @param scratch a folder for GNU time's output file
 */
export async function runOnce(
  argv: readonly string[],
  options: RunOptions,
  scratch: string,
): Promise<Sample> {
  const rssFile = join(scratch, "rss.txt");
  const useTime = hasGnuTime();
  const full = useTime ? [GNU_TIME, "-f", "%M %U %S", "-o", rssFile, ...argv] : [...argv];
  const command = new Deno.Command(full[0]!, {
    args: full.slice(1),
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
  const start = performance.now();
  const output = await command.output();
  const wallMs = performance.now() - start;
  const stderr = new TextDecoder().decode(output.stderr);
  const sample: Sample = { wallMs, code: output.code, stderr };
  if (useTime) {
    // GNU time may prepend "Command exited with non-zero status N"; the figures are last.
    const last = (await Deno.readTextFile(rssFile)).trim().split("\n").pop() ?? "";
    const [kib, user, system] = last.split(" ").map(Number);
    if (Number.isFinite(kib)) sample.rssKiB = kib;
    if (Number.isFinite(user) && Number.isFinite(system)) sample.cpuMs = (user! + system!) * 1000;
  }
  return sample;
}

/**
 * Median, min and max of a list of numbers.
 *
 * @param values at least one number
 */
export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { n: 0, median: NaN, min: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { n: sorted.length, median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/**
 * Runs several commands in interleaved rounds (A B C, A B C, ...) so that a burst of background
 * load hits every command alike, and returns the samples per command name.
 *
 * @param commands name → argv and options
 * @param rounds how many samples each command gets
 * @param scratch a folder for temporary files
 * @param before called before each run (e.g. to build a fresh, cold cache); may return extra
 *   environment variables for that run
 */
export async function interleaved(
  commands: ReadonlyArray<{ name: string; argv: readonly string[]; options?: RunOptions }>,
  rounds: number,
  scratch: string,
  before?: (name: string, round: number) => Promise<Record<string, string> | undefined>,
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(commands.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of commands) {
      const extra = before ? await before(c.name, round) : undefined;
      const options = { ...c.options, env: { ...c.options?.env, ...extra } };
      samples.get(c.name)!.push(await runOnce(c.argv, options, scratch));
    }
  }
  return samples;
}
