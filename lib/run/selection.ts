/**
 * `--only`, `--skip`, `--tags` and `--skip-tags`: which tasks of a plan run. A task left out
 * still appears in the manifest, as `skipped` with the reason, and counts as success-like for
 * its dependents (like a condition that was not met).
 *
 * @module
 */
import { didYouMean, EXIT, MaestroError } from "../errors.ts";
import type { TaskIR } from "../plan/ir.ts";

/** The task filters of a run. */
export interface Selection {
  /** Run only these ids and what they depend on (transitively). */
  only?: readonly string[];
  /** Never run these ids. */
  skip?: readonly string[];
  /** Run only tasks with at least one of these tags (and what they depend on). */
  tags?: readonly string[];
  /** Never run tasks with one of these tags. */
  skipTags?: readonly string[];
}

function checkIds(ids: readonly string[], known: ReadonlySet<string>, flag: string): void {
  for (const id of ids) {
    if (known.has(id)) continue;
    const guess = didYouMean(id, known);
    throw new MaestroError("E110", `${flag}: unknown task id "${id}"`, {
      hint: guess ? `did you mean "${guess}"?` : "see `maestro graph <plan>` for the task ids",
      exitCode: EXIT.invalid,
    });
  }
}

// a mistyped tag would select nothing (or exclude nothing) and still report success
function checkTags(tags: readonly string[], known: ReadonlySet<string>, flag: string): void {
  for (const tag of tags) {
    if (known.has(tag)) continue;
    const guess = didYouMean(tag, known);
    throw new MaestroError("E110", `${flag}: no task has the tag "${tag}"`, {
      hint: guess
        ? `did you mean "${guess}"?`
        : known.size > 0
        ? `the plan's tags: ${[...known].sort().join(", ")}`
        : "the plan's tasks have no tags",
      exitCode: EXIT.invalid,
    });
  }
}

/**
 * The tasks excluded by a selection, each with its reason.
 *
 * @throws {MaestroError} E110 (exit 2) when an id or a tag given does not exist in the plan
 */
export function excludedTasks(tasks: readonly TaskIR[], selection: Selection): Map<string, string> {
  const known = new Set(tasks.map((t) => t.id));
  const byId = new Map(tasks.map((t) => [t.id, t]));
  checkIds(selection.only ?? [], known, "--only");
  checkIds(selection.skip ?? [], known, "--skip");
  const tags = new Set(tasks.flatMap((t) => t.tags));
  checkTags(selection.tags ?? [], tags, "--tags");
  checkTags(selection.skipTags ?? [], tags, "--skip-tags");
  const excluded = new Map<string, string>();
  const roots = [
    ...(selection.only ?? []),
    ...(selection.tags?.length
      ? tasks.filter((t) => t.tags.some((tag) => selection.tags!.includes(tag))).map((t) => t.id)
      : []),
  ];
  if ((selection.only?.length ?? 0) > 0 || (selection.tags?.length ?? 0) > 0) {
    const keep = new Set<string>();
    const stack = [...roots];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (keep.has(id)) continue;
      keep.add(id);
      stack.push(...(byId.get(id)?.depends_on ?? []));
    }
    for (const task of tasks) {
      if (!keep.has(task.id)) excluded.set(task.id, "Not selected (--only/--tags)");
    }
  }
  for (const id of selection.skip ?? []) excluded.set(id, "Excluded by --skip");
  for (const task of tasks) {
    if (task.tags.some((tag) => selection.skipTags?.includes(tag))) {
      excluded.set(task.id, "Excluded by --skip-tags");
    }
  }
  return excluded;
}
