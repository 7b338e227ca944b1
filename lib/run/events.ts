/**
 * The run's event bus and its tamper-evident log. Every state change of a run is one typed
 * event; subscribers (terminal views, the JSONL printer, later the store and the web UI) get
 * each one synchronously and in order.
 *
 * `events.jsonl` holds one JSON object per line, `{ts, event, plan_name, ...payload, seq,
 * prev_hash, hash}`. `hash` is the SHA-256 hex digest of the UTF-8 bytes of
 * `canonicalJson(event without seq/prev_hash/hash) + prev_hash`; the first line's `prev_hash`
 * is {@linkcode GENESIS_HASH} (64 zeros). Editing, removing or reordering any line breaks every
 * later hash. `task_output` events are high-volume, so they are delivered to subscribers only
 * and never written to the log (the task's `.log` file holds the output, and its hash is in
 * `task_complete`).
 *
 * @module
 */
import { writeAllSync } from "../fs.ts";
import { sha256Hex } from "../sha256.ts";
import { canonicalJson } from "./canonical_json.ts";

/** `prev_hash` of the first line: 64 zeros. */
export const GENESIS_HASH: string = "0".repeat(64);

/** Final status of a task. */
export type TaskStatus =
  | "success"
  | "failed"
  | "soft_failed"
  | "skipped"
  | "dry_run"
  | "cancelled";

/** Payloads of every event kind, keyed by the `event` field. */
export interface EventPayloads {
  /** A run began (first line of events.jsonl). */
  run_start: {
    run_id: string;
    plan: string;
    goal: string;
    tasks: number;
    max_parallel: number;
    run_path: string;
    resumed_from: string | null;
  };
  /** A task was dispatched. */
  task_start: { task_id: string; wave: number; engine: string; model: string | null };
  /** One attempt of a task started a process (with its process group). */
  task_attempt: {
    task_id: string;
    attempt: number;
    max_attempts: number;
    phase: "pre_command" | "command" | "verify_command";
    /** Process id of the process group leader (also the group id). */
    pid: number;
    /** Process group id: what a resume looks for to stop orphans. */
    pgid: number;
    /** Engine tasks' main step: the engine this attempt runs on. */
    engine?: string;
    /** Engine tasks' main step: the model as the plan names it (null: the CLI's default). */
    model?: string | null;
  };
  /** Output lines of a running task (not written to events.jsonl). */
  task_output: { task_id: string; stream: "stdout" | "stderr"; lines: string[] };
  /** An engine's agent called a tool (reported when the attempt ends; large inputs cut). */
  tool_call: {
    task_id: string;
    attempt: number;
    name: string;
    input: Record<string, unknown>;
  };
  /**
   * An engine attempt ended: what it used and cost (as the adapter parsed it). Side calls report
   * theirs in `side_call`. Budgets and the store's spend ledger count these as they come.
   */
  attempt_usage: {
    task_id: string;
    attempt: number;
    engine: string;
    /** The model as the plan names it (null: the CLI's default). */
    model: string | null;
    tokens: { input: number; cached: number; output: number };
    cost_usd: number | null;
    cost_source: string;
  };
  /** A failed attempt will be retried. */
  task_retry: {
    task_id: string;
    attempt: number;
    max_attempts: number;
    delay_sec: number;
    reason: string;
  };
  /** An engine failed (auth, rate_limit, …): the next attempt runs on the task's fallback. */
  engine_fallback: {
    task_id: string;
    /** The attempt about to run on the fallback. */
    attempt: number;
    from_engine: string;
    from_model: string | null;
    to_engine: string;
    to_model: string | null;
    /** Failure category of the attempt that failed. */
    category: string;
    /** Its message. */
    reason: string;
  };
  /** The next attempt climbs one rung of the task's `escalation` ladder. */
  task_escalation: {
    task_id: string;
    /** The attempt about to run on the new model. */
    attempt: number;
    engine: string;
    from_model: string | null;
    to_model: string;
  };
  /** Consecutive engine failures opened an engine's circuit breaker. */
  engine_circuit_open: {
    engine: string;
    /** The task whose attempt opened it. */
    task_id: string;
    failures: number;
    category: string;
    /** `<category>: <message>` of the last failure. */
    message: string;
    /** Seconds before a probe; null: open for the rest of the run. */
    cooldown_sec: number | null;
  };
  /** An attempt on an engine whose breaker was open ended without an engine failure. */
  engine_circuit_closed: { engine: string; task_id: string };
  /** The run's failed tasks reached `circuit_breaker.max_total_failures`. */
  circuit_breaker_tripped: {
    /** The task whose failure tripped it. */
    task_id: string;
    failures: number;
    max_total_failures: number;
    action: "fail" | "pause";
  };
  /** The answer to a `pause` breaker: go on (count reset) or stop. */
  circuit_breaker_response: { approved: boolean; by: "auto" | "user" | "non_interactive" };
  /**
   * The run has a budget (`max_cost_usd`): its settings and what already counts against it
   * (the period's spend by other runs, or the cost of results a resume reused).
   */
  budget_start: {
    /** `max_cost_usd`. */
    limit: number;
    /** `budget_period`, or null: the limit is per run. */
    period: "daily" | "weekly" | "monthly" | null;
    /** ISO-8601 UTC start of the period (local midnight), or null. */
    since: string | null;
    mode: "soft" | "hard";
    /** `budget_warning_pct`. */
    warning_pct: number;
    /** USD already counted at the start. */
    spent: number;
    /**
     * Where the period's spend came from: `store` (the run store's ledger), `none` (no store:
     * the limit applies to this run only), `unreadable: <reason>` (same, the store failed), or
     * null without a period.
     */
    ledger: string | null;
  };
  /** The spend reached `budget_warning_pct` of the budget (once per run). */
  budget_warning: {
    /** USD counted against the limit. */
    spent: number;
    /** `max_cost_usd`. */
    limit: number;
    /** `budget_warning_pct`. */
    pct: number;
    period: "daily" | "weekly" | "monthly" | null;
  };
  /** The spend went over `max_cost_usd`: dispatching stops (hard mode: engine tasks cancelled). */
  budget_exceeded: {
    spent: number;
    limit: number;
    period: "daily" | "weekly" | "monthly" | null;
    mode: "soft" | "hard";
    /** The task whose cost crossed the limit (null: another run's spend in the same period). */
    task_id: string | null;
  };
  /** The verify command of an attempt finished. */
  verify_result: { task_id: string; attempt: number; passed: boolean; exit_code: number | null };
  /** A side call (judge, LLM context mode) made on a task's behalf (lib/run/side_call.ts). */
  side_call: {
    task_id: string;
    /** What it was for: `judge`, `context:summarized`, ... */
    purpose: string;
    engine: string;
    /** The model asked for (null: the CLI's default). */
    model: string | null;
    tokens: { input: number; cached: number; output: number };
    cost_usd: number | null;
    cost_source: string;
    duration_sec: number;
    /** Answered from the side-call cache (no tokens, no cost). */
    cached: boolean;
    is_error: boolean;
    failure_category: string | null;
  };
  /** A task's context was built from its `context_from` upstreams (lib/context/). */
  context_built: {
    task_id: string;
    mode: string;
    upstreams: string[];
    /** Token budget (null: none). */
    budget_tokens: number | null;
    /** Tokens of the upstreams' whole output. */
    raw_tokens: number;
    /** Tokens of the delivered context. */
    final_tokens: number;
    /** LLM calls the mode made (`side_call` events give each), and how many were cache hits. */
    llm_calls: number;
    llm_cached: number;
    /** The task's own output is untrusted. */
    tainted: boolean;
  };
  /** A guard_command or the `assert:` list of an attempt reached its verdict (lib/gates/). */
  gate_result: {
    task_id: string;
    attempt: number;
    gate: "guard" | "assert";
    /** pass; warn (recorded, does not fail the task); fail; error (could not be checked). */
    verdict: "pass" | "warn" | "fail" | "error";
    /** What the verdict does to the task: none, warn, fail or retry. */
    effect: "none" | "warn" | "fail" | "retry";
    /** Why (failed assertions, guard output), masked and cut. */
    reasons: string[];
  };
  /** A judge of an attempt reached its verdict (lib/gates/judge.ts). */
  judge_result: {
    task_id: string;
    attempt: number;
    /** pass; warn (recorded and shown, does not fail the task); fail; error (could not decide). */
    verdict: "pass" | "warn" | "fail" | "error";
    /** Aggregated score in [0, 1]. */
    score: number | null;
    /** pass_threshold. */
    threshold: number | null;
    /** What the verdict does to the task: none, warn, fail or retry (on_fail). */
    effect: "none" | "warn" | "fail" | "retry";
    method: string;
    /** The engine and model of its LLM calls (null when every criterion is deterministic). */
    engine: string | null;
    model: string | null;
    /** Per criterion: name, type, score, passed. */
    criteria: { name: string; type: string; score: number; passed: boolean }[];
    /** Why, masked and cut. */
    reasons: string[];
  };
  /** A task waits for approval. */
  approval_required: { task_id: string; message: string };
  /** A task's approval was granted or denied. */
  approval_response: {
    task_id: string;
    approved: boolean;
    by: "auto" | "user" | "non_interactive";
  };
  /** What a task would run, in a dry run. */
  dry_run_task: {
    task_id: string;
    workdir: string;
    command: string;
    argv: string[];
    env_keys: string[];
    /** The task's `when:` (not evaluated in a dry run: every task is shown). */
    when: string | null;
  };
  /** Resume removed temp files an earlier, killed run left in its directory. */
  leftovers_removed: { from_run: string; files: string[] };
  /** Resume: the earlier run's events.jsonl ended with a half-written line, which is ignored. */
  partial_line_ignored: { from_run: string };
  /** Resume stopped a process left by an earlier, killed run. */
  orphan_stopped: { task_id: string; pgid: number; from_run: string };
  /** Resume (`--wait-orphans`) waits for a process group left by an earlier, killed run. */
  orphan_wait: { task_id: string; pgid: number; from_run: string };
  /** A task reached its final status (with its artifact hashes). */
  task_complete: {
    task_id: string;
    status: TaskStatus;
    exit_code: number | null;
    duration_sec: number;
    cost_usd: number | null;
    tokens: number | null;
    failure_category: string | null;
    message: string;
    /** SHA-256 hex of the task's `.log` bytes (null when the task wrote no log). */
    log_hash: string | null;
    /** SHA-256 hex of the task's `.result.json` bytes. */
    result_hash: string | null;
    /** Reused from the run named in `run_start.resumed_from`. */
    resumed?: boolean;
    /** Cached tasks: the cache key (also the result's `task_hash`). */
    cache_key?: string;
    /** Restored from the cache (docs/cache.md): nothing ran. */
    from_cache?: boolean;
  };
  /** A task was skipped, with the reason. */
  task_skip: {
    task_id: string;
    status: "skipped" | "cancelled";
    reason: string;
    result_hash: string | null;
  };
  /** The run ended (last line of events.jsonl). */
  run_complete: {
    success: boolean;
    ok: number;
    soft_failed: number;
    failed: number;
    skipped: number;
    cancelled: number;
    dry_run: number;
    cost_usd: number | null;
    tokens: number | null;
    duration_sec: number;
    /** SHA-256 hex of run_manifest.json, written just before this event. */
    manifest_hash: string | null;
    /** SHA-256 hex of run_summary.md. */
    summary_hash: string | null;
    /** Present when the plan has a budget: whether the spend went over it. */
    budget_exceeded?: boolean;
  };
}

/** Every event kind. */
export type EventName = keyof EventPayloads;

/** One event as subscribers see it: the common head plus its payload. */
export type RunEvent = {
  [K in EventName]: { ts: string; event: K; plan_name: string } & EventPayloads[K];
}[EventName];

/** An event together with its place in the hash chain (absent for unlogged events). */
export interface EventRecord {
  /** The event. */
  event: RunEvent;
  /** The line written to events.jsonl (with seq/prev_hash/hash), when it was logged. */
  line?: string;
}

/** Receives every event in order. */
export type EventSubscriber = (record: EventRecord) => void;

/** Event kinds that stay out of events.jsonl (volume). */
export const UNLOGGED_EVENTS: ReadonlySet<EventName> = new Set<EventName>([
  "task_output",
  "dry_run_task",
]);

/** The reference tool's event timestamp: `YYYY-mm-ddTHH:MM:SSZ`. */
export function eventTimestamp(date: Date = new Date()): string {
  return date.toISOString().slice(0, 19) + "Z";
}

/** The hash of one line: SHA-256 hex over canonical JSON of the event plus `prevHash`. */
export function eventHash(event: Record<string, unknown>, prevHash: string): string {
  return sha256Hex(canonicalJson(event) + prevHash);
}

/** Appends hash-chained lines to events.jsonl, one write per line, never rewriting. */
export class EventLog {
  #file: Deno.FsFile;
  #seq = 0;
  #prev = GENESIS_HASH;
  #encoder = new TextEncoder();

  /** @param path the events.jsonl file (created, or appended to) */
  constructor(path: string) {
    this.#file = Deno.openSync(path, { append: true, create: true });
  }

  /** Appends one event and returns the line written (without its newline). */
  append(event: RunEvent): string {
    const hash = eventHash(event as unknown as Record<string, unknown>, this.#prev);
    const line = JSON.stringify({ ...event, seq: this.#seq, prev_hash: this.#prev, hash });
    const bytes = this.#encoder.encode(line + "\n");
    // one write call per line: a kill -9 can only leave the last line half-written
    writeAllSync(this.#file, bytes);
    this.#seq++;
    this.#prev = hash;
    return line;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }
}

/** Fields the bus adds to every payload. */
type Emitted<K extends EventName> = EventPayloads[K];

/**
 * The one event bus of a run. `mask` is applied to every string of every event before anything
 * sees it, so a secret never reaches the log, a subscriber or the terminal.
 */
export class EventBus {
  #subscribers: EventSubscriber[] = [];
  #log: EventLog | undefined;
  #planName: string;
  /** Undefined when nothing is secret: events are then not copied string by string. */
  #mask: ((text: string) => string) | undefined;

  /**
   * @param planName written into every event
   * @param options the chained log (absent: nothing persisted, e.g. dry runs) and the masker
   */
  constructor(
    planName: string,
    options: { log?: EventLog; mask?: (text: string) => string } = {},
  ) {
    this.#planName = planName;
    this.#log = options.log;
    this.#mask = options.mask;
  }

  /** Adds a subscriber; returns a function that removes it. */
  subscribe(subscriber: EventSubscriber): () => void {
    this.#subscribers.push(subscriber);
    return () => {
      this.#subscribers = this.#subscribers.filter((s) => s !== subscriber);
    };
  }

  /** Whether anyone listens (lets producers skip building high-volume events). */
  get hasSubscribers(): boolean {
    return this.#subscribers.length > 0;
  }

  /** Emits one event: masks it, logs it (unless unlogged), then hands it to subscribers. */
  emit<K extends EventName>(name: K, payload: Emitted<K>): EventRecord {
    const raw = { ts: eventTimestamp(), event: name, plan_name: this.#planName, ...payload };
    const event = (this.#mask ? maskDeep(raw, this.#mask) : raw) as RunEvent;
    const record: EventRecord = { event };
    if (this.#log && !UNLOGGED_EVENTS.has(name)) record.line = this.#log.append(event);
    for (const subscriber of this.#subscribers) subscriber(record);
    return record;
  }

  /** Closes the log file. */
  close(): void {
    this.#log?.close();
  }
}

/** Applies `mask` to every string inside a JSON-like value. */
export function maskDeep(value: unknown, mask: (text: string) => string): unknown {
  if (typeof value === "string") return mask(value);
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, mask));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = maskDeep(item, mask);
    return out;
  }
  return value;
}
