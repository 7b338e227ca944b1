/**
 * `maestro verify <run-dir>`: checks a run's hash chain and artifact hashes. Exit 0 when
 * everything matches (a half-written last line is reported, not an error), 1 on tampering,
 * 2 when the folder is not a run directory.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { join } from "../path.ts";
import { EXIT, MaestroError } from "../errors.ts";
import { RUN_FILES } from "../run/artifacts.ts";
import { verifyRun } from "../run/verify.ts";
import { displayPath, paint, printJson } from "./output.ts";

/** `maestro verify <run-dir> [--json]`. */
export async function verifyCommand(runDir: string, options: { json?: boolean }): Promise<number> {
  if (!pathExists(join(runDir, RUN_FILES.events))) {
    throw new MaestroError("E113", `${runDir} is not a run directory (no ${RUN_FILES.events})`, {
      exitCode: EXIT.invalid,
    });
  }
  const report = await verifyRun(runDir);
  if (options.json) {
    printJson(report);
  } else {
    for (const problem of report.problems) {
      console.log(
        paint("✖", "red") + " " + problem.message.replaceAll(runDir, displayPath(runDir)),
      );
    }
    if (report.partial_last_line) {
      console.log(
        "note: the last line of events.jsonl is incomplete (the run was killed); ignored",
      );
    }
    if (!report.complete) console.log("note: the run did not finish (no run_complete event)");
    const verdict = report.status === "valid"
      ? paint(
        `✓ ${displayPath(runDir)}: ${report.events} events, chain and artifacts valid`,
        "green",
      )
      : paint(`✖ ${displayPath(runDir)}: tampered (${report.problems.length} problem(s))`, "red");
    console.log(verdict);
  }
  return report.status === "valid" ? EXIT.ok : EXIT.failed;
}
