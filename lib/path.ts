/**
 * POSIX path functions with `node:path`'s results, written here because importing any `node:`
 * built-in makes Deno 2.9 load its Node compatibility layer: `node:path` alone costs ≈ 20 ms
 * of start-up, `node:fs` ≈ 50, `node:crypto` ≈ 45, together ≈ 66 ms (docs/performance.md),
 * which every `maestro` command paid before its first line of work. Maestro supervises process
 * groups with `setsid` and so runs on POSIX systems only; Windows paths are not handled.
 *
 * @module
 */

/** The path segment separator. */
export const sep = "/";
/** The separator of `PATH`-like lists. */
export const delimiter = ":";

/** Resolves `.` and `..` segments of a path; `absolute` paths cannot climb above `/`. */
function normalizeSegments(path: string, absolute: boolean): string {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(segment);
  }
  return out.join("/");
}

/** Normalizes a path: collapses separators, resolves `.` and `..`, keeps a trailing slash. */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  let body = normalizeSegments(path, absolute);
  if (body === "" && !absolute) body = ".";
  if (body !== "" && trailing) body += "/";
  return absolute ? "/" + body : body;
}

/** True when `path` starts at the root. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** Joins segments with `/` and normalizes the result (empty segments are skipped). */
export function join(...paths: string[]): string {
  const parts = paths.filter((p) => p.length > 0);
  return parts.length === 0 ? "." : normalize(parts.join("/"));
}

/** An absolute, normalized path: segments right to left until one is absolute, then the cwd. */
export function resolve(...paths: string[]): string {
  let resolved = "";
  for (let i = paths.length - 1; i >= 0 && !resolved.startsWith("/"); i--) {
    const path = paths[i]!;
    if (path.length === 0) continue;
    resolved = resolved === "" ? path : `${path}/${resolved}`;
  }
  if (!resolved.startsWith("/")) resolved = `${Deno.cwd()}/${resolved}`;
  return "/" + normalizeSegments(resolved, true);
}

/** The directory part of a path (`.` for a bare name, `/` for the root), as `node:path` gives it. */
export function dirname(path: string): string {
  if (path === "") return ".";
  const rooted = path.startsWith("/");
  // the last separator that follows a segment; node:path keeps any separators before it
  let end = -1;
  let trailing = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] !== "/") trailing = false;
    else if (!trailing) {
      end = i;
      break;
    }
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return path.slice(0, end);
}

/** The last segment of a path, without trailing slashes (and without `suffix` if it ends so). */
export function basename(path: string, suffix?: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  const base = path.slice(path.lastIndexOf("/", end - 1) + 1, end);
  if (suffix !== undefined && suffix !== base && base.endsWith(suffix)) {
    return base.slice(0, base.length - suffix.length);
  }
  return base;
}

/** The extension of the last segment, from its last `.` (none for dot-files such as `.env`). */
export function extname(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  return dot <= 0 || base === ".." ? "" : base.slice(dot);
}

/** The path from `from` to `to`, both resolved first (`""` when they are the same). */
export function relative(from: string, to: string): string {
  const a = resolve(from).split("/").filter((s) => s.length > 0);
  const b = resolve(to).split("/").filter((s) => s.length > 0);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...Array(a.length - common).fill(".."), ...b.slice(common)].join("/");
}

/** The `file:` URL of a path (resolved against the cwd), percent-encoded as `node:url` does. */
export function toFileUrl(path: string): URL {
  const absolute = resolve(path) + (path.endsWith("/") && path !== "/" ? "/" : "");
  const url = new URL("file:///");
  // the URL parser would treat these as delimiters or drop them: encode them first
  url.pathname = absolute.replace(/%/g, "%25").replace(/\\/g, "%5C").replace(/\n/g, "%0A")
    .replace(/\r/g, "%0D").replace(/\t/g, "%09").replace(/#/g, "%23").replace(/\?/g, "%3F");
  return url;
}

/**
 * The path of a `file:` URL (string or URL). Throws a TypeError for any other scheme and, as
 * `node:url`'s `fileURLToPath` does, for a host (`file://host/x`) or an encoded `/` (`%2F`).
 */
export function fromFileUrl(url: string | URL): string {
  const parsed = url instanceof URL ? url : new URL(url);
  if (parsed.protocol !== "file:") throw new TypeError(`not a file URL: ${parsed.href}`);
  if (parsed.hostname !== "") {
    throw new TypeError(`File URL host must be "localhost" or empty on ${Deno.build.os}`);
  }
  if (/%2f/i.test(parsed.pathname)) {
    throw new TypeError("File URL path must not include encoded / characters");
  }
  return decodeURIComponent(parsed.pathname.replace(/%(?![0-9A-Fa-f]{2})/g, "%25"));
}
