/**
 * `maestro verify`: recomputes the hash chain of a run's events.jsonl and the hash of every
 * artifact an event names (task logs and results, the manifest and the summary), and names the
 * first line or file that does not match. A half-written last line (a run killed while
 * writing) is reported but is not tampering.
 *
 * @module
 */
import { join } from "../path.ts";
import { fileHash, RUN_FILES, taskFiles } from "./artifacts.ts";
import { eventHash, GENESIS_HASH } from "./events.ts";
import { wholeLines } from "./resume.ts";

/** One mismatch. */
export interface VerifyProblem {
  /** 1-based line of events.jsonl, when the problem is a line. */
  line?: number;
  /** The artifact file, when the problem is a file. */
  file?: string;
  /** What does not match. */
  message: string;
}

/** The verdict (the reference's `verify --json` keys first). */
export interface VerifyReport {
  /** valid | tampered. */
  status: "valid" | "tampered";
  chain_status: "valid" | "broken";
  artefact_status: "valid" | "mismatch";
  /** Whole event lines checked. */
  events: number;
  /** The log ends with a half-written line, which was ignored. */
  partial_last_line: boolean;
  /** The run ended normally (a run_complete event is present). */
  complete: boolean;
  /** Every problem found, the first one first. */
  problems: VerifyProblem[];
}

type EventLine = Record<string, unknown> & { seq?: unknown; prev_hash?: unknown; hash?: unknown };

async function checkArtifact(
  path: string,
  expected: unknown,
  line: number,
  problems: VerifyProblem[],
): Promise<boolean> {
  if (typeof expected !== "string") return true;
  const actual = await fileHash(path);
  if (actual === expected) return true;
  problems.push({
    line,
    file: path,
    message: actual === null
      ? `${path} is missing (named by line ${line})`
      : `${path} does not match the hash recorded on line ${line}`,
  });
  return false;
}

/**
 * Verifies a run directory.
 *
 * @param runPath the run directory
 * @throws when events.jsonl cannot be read at all
 */
export async function verifyRun(runPath: string): Promise<VerifyReport> {
  const text = await Deno.readTextFile(join(runPath, RUN_FILES.events));
  const { lines, partial } = wholeLines(text);
  const problems: VerifyProblem[] = [];
  let chainOk = true;
  let artifactsOk = true;
  let complete = false;
  let prev = GENESIS_HASH;
  for (const [i, raw] of lines.entries()) {
    const n = i + 1;
    let event: EventLine;
    try {
      event = JSON.parse(raw);
    } catch {
      problems.push({ line: n, message: `line ${n} is not valid JSON` });
      chainOk = false;
      break;
    }
    const { seq, prev_hash: prevHash, hash, ...body } = event;
    if (seq !== i || prevHash !== prev || hash !== eventHash(body, prev)) {
      const what = seq !== i
        ? `seq is ${JSON.stringify(seq)}, expected ${i}`
        : prevHash !== prev
        ? "prev_hash does not match the previous line"
        : "hash does not match the line's content";
      problems.push({ line: n, message: `line ${n} (${String(body.event)}): ${what}` });
      chainOk = false;
      break;
    }
    prev = hash as string;
    const taskId = typeof body.task_id === "string" ? body.task_id : undefined;
    if (taskId && (body.event === "task_complete" || body.event === "task_skip")) {
      const files = taskFiles(runPath, taskId);
      artifactsOk = await checkArtifact(files.result, body.result_hash, n, problems) && artifactsOk;
      if (body.event === "task_complete") {
        artifactsOk = await checkArtifact(files.log, body.log_hash, n, problems) && artifactsOk;
      }
    }
    if (body.event === "run_complete") {
      complete = true;
      const manifest = join(runPath, RUN_FILES.manifest);
      const summary = join(runPath, RUN_FILES.summary);
      artifactsOk = await checkArtifact(manifest, body.manifest_hash, n, problems) && artifactsOk;
      artifactsOk = await checkArtifact(summary, body.summary_hash, n, problems) && artifactsOk;
    }
  }
  return {
    status: chainOk && artifactsOk ? "valid" : "tampered",
    chain_status: chainOk ? "valid" : "broken",
    artefact_status: artifactsOk ? "valid" : "mismatch",
    events: lines.length,
    partial_last_line: partial,
    complete,
    problems,
  };
}
