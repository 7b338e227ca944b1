/**
 * `maestro convert <plan> --to yaml|ts [-o FILE]`: rewrites a plan in the other form. The
 * input is validated first; an invalid plan exits 2 with the usual issue lines. With `-o`,
 * the file is written atomically (temp file in the same folder, then rename), so a crash or
 * a full disk never leaves half a plan behind.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "../path.ts";
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
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const random = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  const temp = join(dirname(path), `.${basename(path)}.${random}.tmp`);
  try {
    await Deno.writeTextFile(temp, text, { createNew: true });
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch((gone) => {
      if (!(gone instanceof Deno.errors.NotFound)) throw gone;
    });
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
