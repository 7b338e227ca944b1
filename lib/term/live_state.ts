/**
 * The state behind the `live` terminal view and the frame drawn from it. Pure: events go in,
 * text comes out, so the drawing is unit-testable without a terminal. The view itself
 * (live.ts) owns the timer and the terminal.
 *
 * @module
 */
import type { RunEvent } from "../run/events.ts";

/** One task that is running now. */
interface Running {
  plan: string;
  id: string;
  /** `performance.now()` when it started. */
  since: number;
  /** Last non-empty output line, control characters removed. */
  last: string;
  /** "group" for group tasks (they show their members instead of output). */
  engine: string;
}

/** Braille spinner frames (the common `dots` spinner). */
export const SPINNER: readonly string[] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Counts shown in the status line. */
export interface Counts {
  total: number;
  ok: number;
  failed: number;
  soft: number;
  skipped: number;
  cancelled: number;
}

/** How a frame is drawn. */
export interface FrameStyle {
  /** ANSI colours (off when NO_COLOR is set or when asked). */
  color: boolean;
  /** Terminal width: every line is cut to fit, so nothing wraps. */
  columns: number;
  /** Terminal height: at most this many lines (running tasks beyond are summarised). */
  rows: number;
}

const ESC = "\u001b";
const BEL = "\u0007";
// CSI sequences, OSC sequences (ended by BEL or ESC \), then any other control character
const CONTROL = new RegExp(
  `${ESC}\\[[0-9;?]*[ -/]*[@-~]|${ESC}\\][^${BEL}${ESC}]*(?:${BEL}|${ESC}\\\\)|[\\u0000-\\u0008\\u000b-\\u001f\\u007f]`,
  "g",
);

/** Removes escape sequences and control characters: task output must not drive the terminal. */
export function plainText(text: string): string {
  return text.replace(CONTROL, "").replaceAll("\t", " ");
}

/** Code points a terminal draws two columns wide: East Asian wide and fullwidth, emoji. */
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

/** Columns one character takes: 0 for combining marks, 2 for wide ones, else 1. */
function columnsOf(char: string): number {
  const code = char.codePointAt(0)!;
  if ((code >= 0x300 && code <= 0x36f) || code === 0x200d || (code >= 0xfe00 && code <= 0xfe0f)) {
    return 0;
  }
  return WIDE.some(([from, to]) => code >= from && code <= to) ? 2 : 1;
}

/** Columns a line takes on a terminal. */
function widthOf(text: string): number {
  let columns = 0;
  for (const char of text) columns += columnsOf(char);
  return columns;
}

/** Cuts a line to `width` terminal columns (no ANSI inside: applied after colouring would break). */
function fit(text: string, width: number): string {
  if (widthOf(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const char of text) {
    const columns = columnsOf(char);
    if (used + columns > width - 1) break;
    out += char;
    used += columns;
  }
  return `${out}…`;
}

function paint(on: boolean, code: string, text: string): string {
  return on ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** What the live view knows about the runs it shows. */
export class LiveState {
  readonly #running = new Map<string, Running>();
  #counts: Counts = { total: 0, ok: 0, failed: 0, soft: 0, skipped: 0, cancelled: 0 };
  #plans = new Set<string>();
  #active = 0;
  #since = 0;

  /** Whether runs of more than one plan are shown (`--parallel`): lines then name theirs. */
  get multiplePlans(): boolean {
    return this.#plans.size > 1;
  }

  /** Number of runs started and not yet complete. */
  get active(): number {
    return this.#active;
  }

  /** Counts so far. */
  get counts(): Readonly<Counts> {
    return this.#counts;
  }

  /**
   * Applies one event.
   *
   * @param now `performance.now()` at the event
   */
  apply(event: RunEvent, now: number): void {
    const key = `${event.plan_name}\u0000${"task_id" in event ? event.task_id : ""}`;
    switch (event.event) {
      case "run_start":
        if (this.#active === 0) {
          this.#since = now;
          this.#counts = { total: 0, ok: 0, failed: 0, soft: 0, skipped: 0, cancelled: 0 };
        }
        this.#active++;
        this.#plans.add(event.plan_name);
        this.#counts.total += event.tasks;
        break;
      case "task_start":
        this.#running.set(key, {
          plan: event.plan_name,
          id: event.task_id,
          since: now,
          last: "",
          engine: event.engine,
        });
        break;
      case "task_output": {
        const task = this.#running.get(key);
        const line = event.lines.map(plainText).findLast((l) => l.trim() !== "");
        if (task && line !== undefined) task.last = line.trim();
        break;
      }
      case "task_complete":
        this.#running.delete(key);
        if (event.status === "success" || event.status === "dry_run") this.#counts.ok++;
        else if (event.status === "soft_failed") this.#counts.soft++;
        else if (event.status === "failed") this.#counts.failed++;
        else if (event.status === "cancelled") this.#counts.cancelled++;
        else this.#counts.skipped++;
        break;
      case "task_skip":
        this.#running.delete(key);
        if (event.status === "cancelled") this.#counts.cancelled++;
        else this.#counts.skipped++;
        break;
      case "run_complete":
        this.#active = Math.max(0, this.#active - 1);
        for (const [k, task] of this.#running) {
          if (task.plan === event.plan_name) this.#running.delete(k);
        }
        break;
    }
  }

  /** The status line: `3/7 done · 1 failed · 0 skipped · 2 running · 4.1s`. */
  statusLine(now: number, style: FrameStyle): string {
    const c = this.#counts;
    const done = c.ok + c.failed + c.soft + c.skipped + c.cancelled;
    const parts = [
      `${done}/${c.total} done`,
      paint(style.color && c.failed > 0, "31", `${c.failed} failed`),
      `${c.skipped} skipped`,
      ...(c.soft > 0 ? [`${c.soft} soft-failed`] : []),
      ...(c.cancelled > 0 ? [`${c.cancelled} cancelled`] : []),
      `${this.#running.size} running`,
      `${((now - this.#since) / 1000).toFixed(1)}s`,
    ];
    return parts.join(" · ");
  }

  /**
   * The frame: one line per running task (spinner, id, elapsed, last output line), then the
   * status line.
   *
   * @param tick spinner position (advances with each redraw)
   */
  frame(now: number, tick: number, style: FrameStyle): string {
    const width = Math.max(4, style.columns - 1);
    const multi = this.multiplePlans;
    const tasks = [...this.#running.values()];
    const room = Math.max(1, style.rows - 2);
    const shown = tasks.length > room ? tasks.slice(0, room - 1) : tasks;
    const idWidth = Math.min(32, Math.max(0, ...shown.map((t) => label(t, multi).length)));
    const spin = paint(style.color, "36", SPINNER[tick % SPINNER.length]!);
    const lines = shown.map((task) => {
      const elapsed = `${((now - task.since) / 1000).toFixed(1)}s`.padStart(7);
      const name = fit(label(task, multi), 32).padEnd(idWidth);
      const detail = task.engine === "group" ? "(group)" : task.last;
      // the spinner and a space take two columns; the id and time are cut too on a narrow one
      const head = fit(`${name} ${elapsed}`, width - 2);
      const room = width - 2 - widthOf(head);
      const tail = detail && room > 3 ? fit(` │ ${detail}`, room) : "";
      return `${spin} ${head}${paint(style.color, "2", tail)}`;
    });
    if (shown.length < tasks.length) lines.push(`  … and ${tasks.length - shown.length} more`);
    const status = this.statusLine(now, { ...style, color: false });
    // coloured only when it fits: colour codes cannot be cut through
    lines.push(
      style.color && widthOf(status) <= width ? this.statusLine(now, style) : fit(status, width),
    );
    return lines.join("\n");
  }
}

function label(task: Running, multi: boolean): string {
  return multi ? `${task.plan}: ${task.id}` : task.id;
}
