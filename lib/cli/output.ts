/**
 * Printing helpers shared by the commands: issue lines, colours (only on a TTY and never with
 * NO_COLOR), and paths shown relative to the current folder.
 *
 * @module
 */
import { relative } from "../path.ts";
import type { PlanIssue } from "../errors.ts";

/** Whether stdout gets colours. */
export function useColor(): boolean {
  return Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
}

/** Wraps text in an ANSI colour when colours are on. */
export function paint(text: string, color: "red" | "yellow" | "green" | "dim" | "bold"): string {
  if (!useColor()) return text;
  const codes = { red: 31, yellow: 33, green: 32, dim: 2, bold: 1 };
  return `\x1b[${codes[color]}m${text}\x1b[0m`;
}

/** A path as the user would type it: relative when under the current folder. */
export function displayPath(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

/** `file:line:col CODE message` plus an indented hint line. */
export function issueLines(issue: PlanIssue, kind: "error" | "warning"): string {
  const where = issue.line > 0
    ? `${displayPath(issue.file)}:${issue.line}:${issue.column}`
    : displayPath(issue.file);
  const label = kind === "error" ? paint(`${issue.code}`, "red") : paint(`${issue.code}`, "yellow");
  const head = `${where} ${label} ${issue.message}`;
  return issue.hint ? `${head}\n  ${paint("hint:", "dim")} ${issue.hint}` : head;
}

/** An issue as JSON, with the file shown as the user would type it. */
export function issueJson(issue: PlanIssue): PlanIssue {
  return { ...issue, file: displayPath(issue.file) };
}

/** Prints an object as one pretty JSON document. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Local time `YYYY-MM-DD HH:MM:SS` of an ISO-8601 timestamp (as given when unreadable). */
export function localTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}
