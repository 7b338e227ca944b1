/**
 * End-to-end tests of `maestro report`: a real run of a small shell plan, the page written
 * through the real CLI, then opened in a real browser (Debian's chromium, headless) to prove it
 * renders, runs its script without an error and fetches nothing. Without chromium the browser
 * test is ignored (visibly) and the structural test still runs.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runCli, tempPlanDir } from "../helpers.ts";
import { CHROMIUM, openPage } from "./browser.ts";

const PLAN = `name: report-demo
max_parallel: 2
fail_fast: false
secrets: [DEMO_TOKEN]
tasks:
  - id: setup
    description: prepare things
    command: "echo setup done; echo token=$DEMO_TOKEN"
    env:
      DEMO_TOKEN: s3cr3t-value-123
  - id: chatty
    depends_on: [setup]
    command: "seq 1 150000"
  - id: evil
    depends_on: [setup]
    command: "echo '<script>window.__pwned=1</script><img src=x onerror=alert(1)>' >&2; exit 4"
  - id: after
    depends_on: [evil]
    command: echo never
  - id: side
    command: "echo side"
`;

async function reportedRun(): Promise<{ dir: string; runDir: string; html: string }> {
  const dir = tempPlanDir({ "plan.yaml": PLAN });
  const run = await runCli(["run", "plan.yaml"], { cwd: dir });
  assert.equal(run.code, 1, run.stderr);
  const report = await runCli(["report", "last"], { cwd: dir });
  assert.equal(report.code, 0, report.stderr);
  assert.match(
    report.stdout,
    /wrote .*report\.html \(5 tasks, .*\): run \S+ of plan report-demo, failed/,
  );
  const root = join(dir, ".maestro-runs");
  const runDir = join(root, readdirSync(root)[0]!);
  const html = readFileSync(join(runDir, "report.html"), "utf8");
  return { dir, runDir, html };
}

Deno.test("maestro report writes one self-contained page beside the run, and verify still passes", async () => {
  const { dir, runDir, html } = await reportedRun();
  try {
    // self-contained: no external resource of any kind, a CSP that forbids fetching
    assert.doesNotMatch(html, /<link\b|\bsrc=["']?https?:|href=["']https?:|@import|url\(/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    // every task in the table, the DAG and the data; tasks that ran in the timeline
    for (const id of ["setup", "chatty", "evil", "after", "side"]) {
      assert.match(html, new RegExp(`<tr data-task="${id}"`));
      assert.match(html, new RegExp(`<g class="node[^"]*" data-task="${id}"`));
    }
    assert.equal((html.match(/<div class="row" data-task=/g) ?? []).length, 4);
    // untrusted output is escaped, secrets stay masked, a huge log is cut with a note
    assert.ok(!html.includes("<script>window.__pwned"), "log output must be escaped");
    assert.ok(html.includes("&#60;script&#62;window.__pwned=1&#60;/script&#62;"));
    assert.ok(!html.includes("s3cr3t-value-123"));
    assert.ok(html.includes("token=***"));
    assert.match(html, /… \d+ bytes omitted \(the whole log is \d+ bytes: .*chatty\.log\) …/);
    assert.ok(html.includes("\n150000\n"), "the tail of a cut log is shown");
    // the data block parses and matches
    const data = JSON.parse(
      /<script type="application\/json" id="maestro-report-data">(.*?)<\/script>/s.exec(html)![1]!,
    );
    assert.equal(data.run.status, "failed");
    assert.deepEqual(data.tasks.map((t: { id: string }) => t.id), [
      "setup",
      "chatty",
      "evil",
      "after",
      "side",
    ]);
    assert.deepEqual(data.run.counts, { success: 3, failed: 1, skipped: 1 });
    assert.equal(data.critical_path.path[0], "setup");
    // an extra file in the run directory does not break the hash chain check
    const verify = await runCli(["verify", runDir], { cwd: dir });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    // -o elsewhere, -o - to stdout, --json
    const other = await runCli(["report", runDir, "-o", "out/r.html"], { cwd: dir });
    assert.notEqual(other.code, 0, "a folder that does not exist is an error");
    assert.match(other.stderr, /E144 cannot write the report/);
    const stdout = await runCli(["report", runDir, "-o", "-"], { cwd: dir });
    assert.equal(stdout.code, 0, stdout.stderr);
    assert.ok(stdout.stdout.startsWith("<!DOCTYPE html>"));
    const json = await runCli(["report", "last", "--json", "-o", join(dir, "r.html")], {
      cwd: dir,
    });
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.output, join(dir, "r.html"));
    assert.ok(existsSync(doc.output));
    assert.equal(doc.tasks.length, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test({
  name: "maestro report page renders in chromium: tasks in the DOM, script ran, no error, no fetch",
  ignore: !CHROMIUM,
  async fn() {
    const { dir, runDir } = await reportedRun();
    const page = await openPage(pathToFileURL(join(runDir, "report.html")).href);
    try {
      assert.equal(await page.evaluate("document.documentElement.dataset.ready"), "true");
      const ids = await page.evaluate<string[]>(
        "[...document.querySelectorAll('#tasks tbody tr')].map(r => r.dataset.task)",
      );
      assert.deepEqual(ids, ["setup", "chatty", "evil", "after", "side"]);
      assert.equal(await page.evaluate("document.querySelectorAll('svg.dag .node').length"), 5);
      assert.equal(await page.evaluate("document.querySelectorAll('svg.dag .edge').length"), 3);
      assert.equal(await page.evaluate("document.querySelectorAll('.gantt .row').length"), 4);
      // the script converted times to local time (its tooltip keeps the ISO value)
      assert.equal(
        await page.evaluate("document.querySelector('time').title.endsWith('+00:00')"),
        true,
      );
      // the failed task's log is open; the injected markup is text, not elements
      assert.equal(await page.evaluate("document.getElementById('log-evil').open"), true);
      assert.equal(await page.evaluate("window.__pwned === undefined"), true);
      assert.equal(
        await page.evaluate("document.querySelectorAll('pre img, pre script').length"),
        0,
      );
      assert.match(
        await page.evaluate<string>("document.getElementById('log-evil').textContent"),
        /<script>window\.__pwned=1<\/script>/,
      );
      // filtering by status hides the other rows; a click selects a task across the views
      const shown = await page.evaluate(`(() => {
        const s = document.getElementById('filter-status');
        s.value = 'failed';
        s.dispatchEvent(new Event('change'));
        return [...document.querySelectorAll('#tasks tbody tr')]
          .filter(r => !r.classList.contains('hidden')).map(r => r.dataset.task);
      })()`);
      assert.deepEqual(shown, ["evil"]);
      const selected = await page.evaluate(`(() => {
        document.querySelector('.gantt .row[data-task="chatty"]').dispatchEvent(new MouseEvent('click'));
        return [...document.querySelectorAll('.selected')].map(e => e.tagName.toLowerCase());
      })()`);
      assert.deepEqual(new Set(selected as string[]), new Set(["g", "div", "tr", "details"]));
      assert.deepEqual(page.errors, [], "no console error, exception or CSP violation");
      const fetched = page.requests.filter((url) =>
        !url.startsWith("file:") && url !== "about:blank"
      );
      assert.deepEqual(fetched, [], "the page fetches nothing");
    } finally {
      await page.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
