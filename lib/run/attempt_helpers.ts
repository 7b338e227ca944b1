/**
 * Small helpers of the task attempt pipeline: retry delays (seed-behaviour §8), an abortable
 * sleep, command rendering and message tails.
 *
 * @module
 */

/**
 * Seconds to wait before retry number `retry` (0-based), as seed-behaviour §8 says: a list
 * gives `delay[min(i, len-1)]`; a scalar is used as is (constant), times `i+1` (linear) or
 * times `2^i` (exponential).
 */
export function retryDelaySec(
  retry: number,
  delay: number | number[],
  strategy: "constant" | "linear" | "exponential",
): number {
  if (Array.isArray(delay)) {
    return delay.length === 0 ? 0 : delay[Math.min(retry, delay.length - 1)]!;
  }
  // rounded to the millisecond: 0.2 × 3 is shown as 0.6, not 0.6000000000000001
  if (strategy === "linear") return Math.round(delay * (retry + 1) * 1000) / 1000;
  if (strategy === "exponential") return Math.round(delay * 2 ** retry * 1000) / 1000;
  return delay;
}

/** Waits `ms`, or less when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Renders the templates of a command (a string, or each word of a list). */
export function renderCommand(command: string | string[], render: (t: string) => string) {
  // an upstream's binary output can hold NUL, which no argv word can: U+FFFD takes its place
  const word = (text: string) => withoutNul(render(text));
  return typeof command === "string" ? word(command) : command.map(word);
}

/** `text` with each NUL as U+FFFD: what an argument or an environment value can hold. */
export function withoutNul(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
}

/** The last `n` characters of some lines, for messages. */
export function tailText(lines: readonly string[], n: number): string {
  const text = lines.join("\n");
  return text.length > n ? text.slice(-n) : text;
}
