/**
 * `maestro convert <plan> --to yaml|ts [-o FILE]`: rewrites a plan in the other form. The
 * input is validated first; an invalid plan exits 2 with the usual issue lines. With `-o`,
 * the file is written atomically (temp file in the same folder, then rename), so a crash or
 * a full disk never leaves half a plan behind.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { EXIT } from "../errors.ts";
import { convertPlan, type PlanFormat } from "../plan/convert.ts";
import { displayPath, issueLines, paint } from "./output.ts";

/** Options of `maestro convert`. */
export interface ConvertCommandOptions {
  /** The format to write. */
  to: PlanFormat;
  /** Where to write; stdout when absent. */
  output?: string;
}

/**
 * Writes a file atomically: the text goes to a temp file beside the target, which is then
 * renamed over it (rename is atomic within one file system).
 *
 * @param path the target file
 * @param text its new content
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, text, { flag: "wx" });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** `maestro convert`. */
export async function convertCommand(
  path: string,
  options: ConvertCommandOptions,
): Promise<number> {
  const outcome = await convertPlan(path, options.to);
  for (const error of outcome.errors) console.error(issueLines(error, "error"));
  for (const warning of outcome.warnings) console.error(issueLines(warning, "warning"));
  if (outcome.text === undefined) {
    const count = `${outcome.errors.length} error${outcome.errors.length === 1 ? "" : "s"}`;
    console.error(paint(`✖ ${displayPath(path)} is not valid (${count}); nothing written`, "red"));
    return EXIT.invalid;
  }
  if (outcome.warnings.some((w) => w.code === "W01")) {
    console.error("  note: unknown keys are not carried over (the loader ignores them)");
  }
  if (!options.output) {
    const bytes = new TextEncoder().encode(outcome.text);
    // write() may take only part of the buffer when stdout is a pipe
    for (let done = 0; done < bytes.length;) done += await Deno.stdout.write(bytes.subarray(done));
    return EXIT.ok;
  }
  const target = resolve(options.output);
  try {
    await writeFileAtomic(target, outcome.text);
  } catch (error) {
    console.error(`maestro: cannot write ${displayPath(target)}: ${(error as Error).message}`);
    return EXIT.failed;
  }
  if (dirname(target) !== dirname(resolve(path))) {
    console.error(
      "  note: relative paths in the plan resolve against its own folder; keep the new file " +
        "beside the old one or adjust them",
    );
  }
  console.log(`${paint("✓", "green")} wrote ${displayPath(target)}`);
  return EXIT.ok;
}
