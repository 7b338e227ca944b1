/**
 * The `live` terminal view of `maestro run`: finished tasks scroll up as plain lines (the same
 * lines as the text view), and below them one redrawn frame shows every running task with a
 * spinner, its elapsed time and its last output line, plus done/failed/skipped counts.
 *
 * It only reads events (DESIGN §1). Drawing goes through `log-update`, which diffs frames and
 * erases exactly the lines it drew. Events only mark the state dirty; a timer redraws at most
 * 10 times a second, so a chatty task costs no terminal writes. The cursor is hidden while the
 * frame is shown and restored on every way out (run end, {@linkcode LiveView.stop}, unload).
 *
 * @module
 */
import { createLogUpdate } from "log-update";
import type { EventRecord, EventSubscriber } from "../run/events.ts";
import { syncStdoutWriter, textLine, withPlanName } from "../run/reporter.ts";
import { type FrameStyle, LiveState } from "./live_state.ts";

/** Options of {@linkcode createLiveView}. */
export interface LiveViewOptions {
  /** Writes raw terminal bytes. @default synchronous writes to stdout */
  write?: (text: string) => void;
  /** Terminal size. @default Deno.consoleSize() of stdout, else 80×24 */
  size?: () => { columns: number; rows: number };
  /** Use ANSI colours. @default true unless NO_COLOR is set (to anything non-empty) */
  color?: boolean;
  /** Milliseconds between redraws. @default 100 */
  intervalMs?: number;
}

/** A running live view. */
export interface LiveView {
  /** Feed it every event of the run(s). */
  readonly subscriber: EventSubscriber;
  /** Prints a line above the frame (e.g. "cancelling…") without breaking the drawing. */
  notice(text: string): void;
  /** Erases the frame, restores the cursor and stops redrawing. Safe to call twice. */
  stop(): void;
}

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

/** The terminal's size; 80×24 when it cannot tell (or says 0, as `script` and some CI do). */
function consoleSize(): { columns: number; rows: number } {
  try {
    const { columns, rows } = Deno.consoleSize();
    return { columns: columns > 0 ? columns : 80, rows: rows > 0 ? rows : 24 };
  } catch {
    return { columns: 80, rows: 24 };
  }
}

/** Whether colours are allowed by the environment (https://no-color.org). */
export function colorAllowed(): boolean {
  return !(Deno.env.get("NO_COLOR") ?? "");
}

/** Starts a live view; it draws once the first `run_start` arrives. */
export function createLiveView(options: LiveViewOptions = {}): LiveView {
  const write = options.write ?? syncStdoutWriter();
  const size = options.size ?? consoleSize;
  const color = options.color ?? colorAllowed();
  const interval = options.intervalMs ?? 100;
  // log-update wants a Node stream; it only uses write(), columns, rows and isTTY.
  const stream = {
    write: (text: string) => {
      write(text);
      return true;
    },
    get columns() {
      return size().columns;
    },
    get rows() {
      return size().rows;
    },
    isTTY: true,
  };
  // showCursor: true keeps log-update from loading signal-exit hooks, which would re-raise the
  // first SIGINT and kill maestro before its graceful cancel; the cursor is handled here.
  const draw = createLogUpdate(stream as unknown as Parameters<typeof createLogUpdate>[0], {
    showCursor: true,
  });
  const state = new LiveState();
  const pending: string[] = [];
  let tick = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let paused = false;
  let cursorHidden = false;

  const style = (): FrameStyle => ({ color, ...size() });
  const showCursor = () => {
    if (cursorHidden) write(SHOW_CURSOR);
    cursorHidden = false;
  };
  const onUnload = () => showCursor();

  const redraw = () => {
    if (pending.length > 0) draw.persist(pending.splice(0).join("\n"));
    if (paused || state.active === 0) return;
    if (!cursorHidden) write(HIDE_CURSOR);
    cursorHidden = true;
    draw(state.frame(performance.now(), tick++, style()));
  };

  const start = () => {
    if (timer !== undefined) return;
    globalThis.addEventListener("unload", onUnload);
    const id = setInterval(redraw, interval);
    // never keep maestro alive just to draw
    Deno.unrefTimer(id);
    timer = id;
  };

  const finish = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    globalThis.removeEventListener("unload", onUnload);
    draw.clear();
    if (pending.length > 0) draw.persist(pending.splice(0).join("\n"));
    draw.done();
    showCursor();
  };

  const subscriber = ({ event }: EventRecord) => {
    const now = performance.now();
    state.apply(event, now);
    if (event.event === "task_output") return;
    const text = textLine(event);
    // several plans at once: each scrolled line says whose it is, as in the text view
    const line = text !== undefined && state.multiplePlans
      ? withPlanName(text, event.plan_name)
      : text;
    if (event.event === "run_complete") {
      // the final frame: counts without running tasks, then the text summary
      pending.push(state.statusLine(now, { ...style(), color: false }));
      if (line !== undefined) pending.push(line);
      if (state.active === 0) finish();
      else redraw();
      return;
    }
    // a start needs no line of its own: the frame shows what runs
    if (line !== undefined && event.event !== "task_start") pending.push(line);
    if (event.event === "run_start") start();
    const asks = event.event === "approval_required" ||
      (event.event === "circuit_breaker_tripped" && event.action === "pause");
    if (asks) {
      // the prompt is written to the terminal by someone else: get out of its way
      paused = true;
      redraw();
      draw.clear();
      showCursor();
    } else if (event.event === "approval_response" || event.event === "circuit_breaker_response") {
      paused = false;
    }
  };

  return {
    subscriber,
    notice(text: string) {
      pending.push(text);
      redraw();
    },
    stop() {
      if (timer === undefined && !cursorHidden && pending.length === 0) return;
      finish();
    },
  };
}
