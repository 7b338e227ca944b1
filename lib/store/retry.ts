/**
 * Retrying a store operation while another process holds the database's write lock.
 *
 * SQLite's own busy handler (`PRAGMA busy_timeout`) sleeps *inside* the native call, and the
 * local libSQL client is synchronous under its promises: a long busy timeout would freeze
 * maestro's event loop, and with it the scheduler and the terminal. So the store keeps the
 * native timeout short and waits here instead, with timers, backing off exponentially with
 * jitter until a deadline.
 *
 * @module
 */

/** Options of {@linkcode retryBusy}. */
export interface RetryOptions {
  /** Give up after this many milliseconds of retrying. @default {30000} */
  deadlineMs?: number;
  /** First wait. @default {5} */
  initialDelayMs?: number;
  /** Longest single wait. @default {250} */
  maxDelayMs?: number;
  /** Called before each wait (tests count retries with it). */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /** Called after each busy error, before waiting: the store resets its connection here. */
  onBusy?: () => void | Promise<void>;
}

/**
 * Whether an error means "the database is busy or locked, try again later" (SQLITE_BUSY,
 * SQLITE_LOCKED and their extended codes, locally or reported by a server).
 *
 * @param error what a store call threw
 */
export function isBusyError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(code)) return true;
  return /database (table )?is locked|SQLITE_BUSY|database is busy/i.test(error.message);
}

/**
 * Runs `operation`, and again after a growing pause each time it fails because the database
 * is busy, until it succeeds, fails otherwise, or the deadline passes (then the last busy
 * error is thrown).
 *
 * @param operation the store call; it must be safe to repeat (a whole transaction)
 * @param options deadline and backoff
 * @returns what the operation returned
 */
export async function retryBusy<T>(
  operation: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const deadline = performance.now() + (options.deadlineMs ?? 30_000);
  let delay = options.initialDelayMs ?? 5;
  const maxDelay = options.maxDelayMs ?? 250;
  for (let attempt = 1;; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      await options.onBusy?.();
      if (performance.now() >= deadline) throw error;
      // full jitter: two writers that collided do not collide again in lockstep
      const wait = Math.max(1, Math.round(Math.random() * delay));
      options.onRetry?.(attempt, wait, error);
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}
