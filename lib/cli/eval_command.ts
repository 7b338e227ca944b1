/**
 * `maestro eval <eval.yaml> <run-dir>`: re-grades a finished run's recorded outputs with the
 * guards, assertions and judges of an eval file (lib/gates/eval.ts), without re-running any
 * agent. Prints one line per graded task (or one JSON document with `--json`); exit 0 when no
 * grade fails, 1 when one fails or errors (with `--strict`, also when one warns), 2 when the
 * eval file or the run directory is unusable.
 *
 * @module
 */
import { pathExists } from "../fs.ts";
import { join } from "../path.ts";
import { EXIT, MaestroError, PlanError } from "../errors.ts";
import { type EvalReport, loadEvalFile, runEval } from "../gates/eval.ts";
import { taskEnvironment } from "../run/env.ts";
import { EventBus } from "../run/events.ts";
import { createMasker, secretValues } from "../security/mask.ts";
import { displayPath, paint, printJson } from "./output.ts";

/** Options of `maestro eval`. */
export interface EvalCommandOptions {
  /** Print one JSON document. */
  json?: boolean;
  /** Also write the JSON report to this file. */
  out?: string;
  /** A warn verdict fails the eval too. */
  strict?: boolean;
}

const MARK: Record<string, string> = { pass: "✓", warn: "⚠", fail: "✗", error: "✗" };
const COLOR: Record<string, "green" | "yellow" | "red"> = {
  pass: "green",
  warn: "yellow",
  fail: "red",
  error: "red",
};

function printReport(report: EvalReport): void {
  for (const grade of report.grades) {
    const scores = grade.gates.filter((g) => g.score !== null)
      .map((g) => ` score ${g.score!.toFixed(2)}/${g.threshold?.toFixed(2)}`).join("");
    const line =
      `${MARK[grade.verdict]} #${grade.grade} ${grade.task_id} ${grade.verdict}${scores}` +
      (grade.recorded_status !== "success" ? ` (recorded ${grade.recorded_status})` : "");
    console.log(paint(line, COLOR[grade.verdict]!));
    for (const gate of grade.gates) {
      if (gate.verdict === "pass") continue;
      for (const reason of gate.reasons.slice(0, 5)) {
        console.log(`    ${gate.gate}: ${reason.split("\n")[0]!.slice(0, 200)}`);
      }
    }
    if (grade.gates.length === 0 && grade.message) console.log(`    ${grade.message}`);
  }
  const count = (v: string) => report.grades.filter((g) => g.verdict === v).length;
  const cost = report.cost_usd === null ? "" : `, judge cost $${report.cost_usd}`;
  const summary = `${report.passed ? "PASSED" : "FAILED"} ${count("pass")} pass / ` +
    `${count("warn")} warn / ${count("fail")} fail / ${count("error")} error${cost}`;
  console.log(paint(summary, report.passed ? "green" : "red"));
}

/** `maestro eval <eval.yaml> <run-dir> [--json] [--out file] [--strict]`. */
export async function evalCommand(
  evalPath: string,
  runDir: string,
  options: EvalCommandOptions = {},
): Promise<number> {
  if (!pathExists(join(runDir, "events.jsonl")) && !pathExists(join(runDir, "run_manifest.json"))) {
    throw new MaestroError("E113", `${runDir} is not a run directory (no events.jsonl)`, {
      exitCode: EXIT.invalid,
      hint: "pass the folder of one run, e.g. .maestro-runs/<run-id>_<plan>",
    });
  }
  const { file, issues } = loadEvalFile(evalPath);
  if (!file) throw new PlanError(issues);
  const parentEnv = Deno.env.toObject();
  const mask = createMasker(secretValues({ secrets: "auto", envLayers: [parentEnv] }));
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  let report: EvalReport;
  try {
    report = await runEval(file, runDir, {
      env: taskEnvironment(parentEnv, {}, { runId: "eval", taskId: "eval", planName: "eval" }),
      parentEnv,
      mask,
      bus: new EventBus("eval", { mask }),
      signal: controller.signal,
      strict: options.strict === true,
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  if (options.out) await Deno.writeTextFile(options.out, JSON.stringify(report, null, 2) + "\n");
  if (options.json) printJson(report);
  else {
    console.log(`maestro eval: ${displayPath(evalPath)} on ${displayPath(runDir)}`);
    printReport(report);
  }
  return report.passed ? EXIT.ok : EXIT.failed;
}
