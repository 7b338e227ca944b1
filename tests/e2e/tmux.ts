/**
 * Drives a program in a real terminal: a detached tmux session of fixed size on a private
 * server socket (so tests never touch anyone's tmux), with helpers to read the screen, type
 * keys and read the cursor's visibility.
 *
 * @module
 */

/** Whether tmux can be run here (the terminal tests are skipped, with a reason, otherwise). */
export const TMUX_AVAILABLE: boolean = (() => {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

if (!TMUX_AVAILABLE) {
  console.warn("tmux is not installed (apt-get install tmux): the terminal tests are skipped");
}

/** One tmux pane running a shell command. */
export interface Pane {
  /** The visible screen as plain text, trailing blank lines removed. */
  screen(): Promise<string>;
  /** The visible screen with escape sequences (colours) kept. */
  screenWithEscapes(): Promise<string>;
  /** Types keys (tmux key names: "y", "Enter", "C-c"). */
  keys(...keys: string[]): Promise<void>;
  /** Whether the terminal's cursor is visible. */
  cursorVisible(): Promise<boolean>;
  /** Waits until the screen matches; returns the screen. Throws with the screen on timeout. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  /** Kills the session and its server. */
  close(): Promise<void>;
}

async function tmux(socket: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * Starts `command` (run by sh) in a new detached session of `width`×`height` cells.
 *
 * @param env extra environment for the command (the pane otherwise inherits tmux's)
 */
export async function openPane(
  command: string,
  options: { cwd: string; width?: number; height?: number; env?: Record<string, string> },
): Promise<Pane> {
  const socket = `maestro-test-${crypto.randomUUID().slice(0, 8)}`;
  const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  await tmux(socket, [
    "new-session",
    "-d",
    "-s",
    "t",
    "-x",
    String(options.width ?? 120),
    "-y",
    String(options.height ?? 30),
    "-c",
    options.cwd,
    ...env,
    command,
  ]);
  // keep the pane (and its last screen) if the command exits
  await tmux(socket, ["set-option", "-t", "t", "remain-on-exit", "on"]);
  const capture = async (escapes: boolean) =>
    (await tmux(socket, ["capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", "t"]))
      .replace(/\s+$/, "");
  const pane: Pane = {
    screen: () => capture(false),
    screenWithEscapes: () => capture(true),
    keys: async (...keys) => void await tmux(socket, ["send-keys", "-t", "t", ...keys]),
    cursorVisible: async () =>
      (await tmux(socket, ["display-message", "-p", "-t", "t", "#{cursor_flag}"])).trim() === "1",
    waitFor: async (pattern, ms = 10_000) => {
      const end = Date.now() + ms;
      let screen = "";
      while (Date.now() < end) {
        screen = await capture(false);
        if (pattern.test(screen)) return screen;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`screen never matched ${pattern}:\n${screen}`);
    },
    close: async () => {
      await tmux(socket, ["kill-server"]).catch(() => "");
    },
  };
  return pane;
}
