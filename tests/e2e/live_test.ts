/**
 * End-to-end tests of `maestro run` on a real terminal (tmux panes of fixed size): the live
 * view while tasks run and after, Ctrl-C leaving the terminal sane, and approval prompts
 * answered with the keyboard. Skipped (with a warning saying why) when tmux is missing.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SPINNER } from "../../lib/term/live_state.ts";
import { openPane, type Pane, TMUX_AVAILABLE } from "./tmux.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const ignore = !TMUX_AVAILABLE;

/** Runs `maestro run plan.yaml <args>` in a tmux pane; the pane prints EXIT=<code> at the end. */
async function inTerminal(
  yaml: string,
  args: string[],
  fn: (pane: Pane) => Promise<void>,
  options: { color?: boolean } = {},
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "maestro-tty-"));
  await writeFile(join(dir, "plan.yaml"), yaml);
  const noColor = options.color ? "env -u NO_COLOR" : "env NO_COLOR=1";
  const command = `${noColor} '${Deno.execPath()}' run -A --no-prompt '${CLI}' run plan.yaml ` +
    `${args.join(" ")}; echo EXIT=$?; sleep 60`;
  const pane = await openPane(command, { cwd: dir, width: 120, height: 30 });
  try {
    await fn(pane);
  } finally {
    await pane.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const spinnerLine = (name: string) => new RegExp(`^[${SPINNER.join("")}] ${name}\\b`, "m");

const SLOW_PLAN = `name: live-demo
max_parallel: 3
tasks:
  - id: quick
    command: echo quick-done
  - id: slow-alpha
    command: "for i in $(seq 1 12); do echo alpha-line-$i; sleep 0.25; done"
  - id: slow-beta
    command: "echo beta-started; sleep 3"
  - id: broken
    command: "sleep 0.3; exit 3"
  - id: later
    depends_on: [broken]
    command: echo never
`;

Deno.test({
  name: "the live view shows running tasks with spinners, counts and last lines, then a summary",
  ignore,
  fn: () =>
    inTerminal(SLOW_PLAN, ["--output", "live"], async (pane) => {
      const running = await pane.waitFor(/3\/5 done · 1 failed · 1 skipped · 2 running/);
      assert.match(running, spinnerLine("slow-alpha"));
      assert.match(running, spinnerLine("slow-beta"));
      assert.match(running, /slow-alpha +\d+\.\ds │ alpha-line-\d+/);
      assert.match(running, /slow-beta +\d+\.\ds │ beta-started/);
      assert.match(running, /✗ broken failed \(\d\.\ds\): Task failed with exit code 3/);
      // colours are on when NO_COLOR is not set
      assert.ok((await pane.screenWithEscapes()).includes("\x1b[36m"));

      const done = await pane.waitFor(/EXIT=\d+/);
      assert.match(done, /EXIT=1$/m);
      assert.match(done, /^5\/5 done · 1 failed · 1 skipped · 0 running · \d+\.\ds$/m);
      assert.match(done, /^FAILED 3 ok \/ 0 soft-failed \/ 1 failed \/ 1 skipped \/ 0 cancelled/m);
      assert.match(done, /✓ slow-alpha success/);
      assert.doesNotMatch(done, new RegExp(`[${SPINNER.join("")}]`), "no frame is left behind");
      assert.equal(await pane.cursorVisible(), true);
    }, { color: true }),
});

Deno.test({
  name: "Ctrl-C during the live view cancels, exits 130 and leaves the terminal sane",
  ignore,
  fn: () =>
    inTerminal(
      `name: live-cancel
tasks:
  - id: long
    command: "echo waiting-forever; sleep 30"
`,
      [], // live is the default on a terminal
      async (pane) => {
        await pane.waitFor(/long +\d+\.\ds │ waiting-forever/);
        assert.equal(await pane.cursorVisible(), false, "the cursor is hidden while drawing");
        const escapes = await pane.screenWithEscapes();
        for (const code of [31, 32, 33, 36]) {
          assert.ok(!escapes.includes(`\x1b[${code}m`), "NO_COLOR: no colours");
        }
        await pane.keys("C-c");
        const done = await pane.waitFor(/EXIT=\d+/, 6000);
        assert.match(done, /EXIT=130$/m);
        assert.match(done, /maestro: cancelling/);
        assert.match(done, /^INTERRUPTED 0 ok .* 1 cancelled/m);
        assert.doesNotMatch(done, new RegExp(`[${SPINNER.join("")}]`));
        assert.equal(await pane.cursorVisible(), true);
      },
    ),
});

const APPROVAL_PLAN = `name: approval
tasks:
  - id: pre
    command: "echo warming-up; sleep 0.5"
  - id: gate
    depends_on: [pre]
    requires_approval: true
    approval_message: "Deploy to prod?"
    command: echo deployed
  - id: after
    depends_on: [gate]
    command: echo after-ran
`;

Deno.test({
  name: "an approval prompt answered y on a terminal runs the task",
  ignore,
  fn: () =>
    inTerminal(APPROVAL_PLAN, ["--output", "live"], async (pane) => {
      await pane.waitFor(spinnerLine("pre"));
      const prompt = await pane.waitFor(/Approve task 'gate'\? Deploy to prod\? \[y\/N\]/);
      assert.doesNotMatch(prompt, /running/, "the live frame makes way for the prompt");
      await pane.keys("y", "Enter");
      const done = await pane.waitFor(/EXIT=\d+/);
      assert.match(done, /EXIT=0$/m);
      assert.match(done, /✓ gate success/);
      assert.match(done, /✓ after success/);
    }),
});

Deno.test({
  name: "an approval prompt answered n on a terminal skips the task and its dependents still run",
  ignore,
  fn: () =>
    inTerminal(APPROVAL_PLAN, ["--output", "text"], async (pane) => {
      await pane.waitFor(/\[y\/N\]/);
      await pane.keys("n", "Enter");
      const done = await pane.waitFor(/EXIT=\d+/);
      assert.match(done, /EXIT=0$/m);
      assert.match(done, /- gate approval denied \(user\)/);
      assert.match(done, /- gate skipped: Approval denied or non-interactive/);
      assert.match(done, /✓ after success/);
    }),
});

/** Whether util-linux `script` can give maestro a pseudo-terminal of a chosen size. */
const SCRIPT_AVAILABLE = (() => {
  try {
    return Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
})();

/**
 * Runs `maestro run <args>` in `files` (written to a fresh folder) on a pseudo-terminal that
 * `script` makes and `stty <size>` sizes; returns its exit code and everything it drew.
 */
async function underScript(
  files: Record<string, string>,
  size: string,
  args: string,
): Promise<{ code: number; text: string }> {
  const dir = await mkdtemp(join(tmpdir(), "maestro-live-script-"));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const inner = `stty ${size}; '${Deno.execPath()}' run -A --no-prompt '${CLI}' run ${args}`;
    const out = await new Deno.Command("script", {
      args: ["-qec", inner, "/dev/null"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, text: new TextDecoder().decode(out.stdout) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

Deno.test({
  name: "live view on a terminal that reports 0×0 (script, some CI) still draws and summarises",
  ignore: !SCRIPT_AVAILABLE,
  fn: async () => {
    const { code, text } = await underScript(
      {
        "plan.yaml":
          "name: zero\ntasks:\n  - { id: a, command: 'true' }\n  - { id: b, command: 'true' }\n",
      },
      "cols 0 rows 0",
      "plan.yaml --no-store",
    );
    assert.equal(code, 0, text);
    assert.match(text, /SUCCESS 2 ok/);
  },
});

Deno.test({
  name: "live view with --parallel: finished tasks scroll up with their plan's name",
  ignore: !SCRIPT_AVAILABLE,
  fn: async () => {
    const plan = (name: string) => `name: ${name}\ntasks:\n  - { id: t1, command: 'sleep 0.3' }\n`;
    const { code, text } = await underScript(
      { "plan-one.yaml": plan("plan-one"), "plan-two.yaml": plan("plan-two") },
      "cols 80 rows 24",
      "plan-one.yaml plan-two.yaml --parallel --no-store",
    );
    assert.equal(code, 0, text);
    assert.match(text, /\[plan-one\] ✓ t1 success/);
    assert.match(text, /\[plan-two\] ✓ t1 success/);
  },
});
