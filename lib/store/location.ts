/**
 * Where a run store lives: a local libSQL file, or a libSQL server reached over HTTP. This file
 * only parses and prints locations; it loads nothing from libSQL, so a command can reject a bad
 * `--db` or `MAESTRO_DB_URL` before it does any work.
 *
 * @module
 */
import { isDirectory } from "../fs.ts";
import { fromFileUrl, isAbsolute, relative, resolve } from "../path.ts";
import { EXIT, MaestroError } from "../errors.ts";

/** The store's folder beside a plan (or in a folder a read command searches). */
export const STORE_DIR = ".maestro";
/** The store's file name inside {@linkcode STORE_DIR}. */
export const STORE_FILE = "maestro.db";
/** Environment variable that selects the store (a path or a URL), like `--db`. */
export const DB_URL_ENV = "MAESTRO_DB_URL";
/** Environment variable holding the auth token of a libSQL server. */
export const DB_AUTH_TOKEN_ENV = "MAESTRO_DB_AUTH_TOKEN";

/** A store location: a file on this machine, or a libSQL server. */
export type StoreLocation =
  | {
    /** An embedded libSQL database file. */
    kind: "file";
    /** Absolute path of the database file. */
    path: string;
  }
  | {
    /** A libSQL server (sqld, Turso) spoken to over HTTP. */
    kind: "remote";
    /** The URL as given: `http://`, `https://` or `libsql://`. */
    url: string;
    /** Token sent as a bearer token, from `MAESTRO_DB_AUTH_TOKEN` (never printed). */
    authToken: string | undefined;
  };

/** Options of {@linkcode parseStoreLocation}. */
export interface ParseStoreOptions {
  /** Folder a relative path is resolved against. */
  cwd: string;
  /** Where the text came from, for messages: `--db` or `MAESTRO_DB_URL`. */
  source: string;
  /** The server's auth token (from `MAESTRO_DB_AUTH_TOKEN`). */
  authToken?: string;
}

const REMOTE_SCHEMES = new Set(["http:", "https:", "libsql:"]);

function invalid(source: string, text: string, why: string, hint?: string): MaestroError {
  return new MaestroError("E121", `${source}: invalid run store "${text}": ${why}`, {
    exitCode: EXIT.invalid,
    hint: hint ??
      "give a file path (e.g. .maestro/maestro.db) or a libSQL server URL (http://, https://, libsql://)",
  });
}

/**
 * Parses a store given as a file path, a `file:` URL, or a libSQL server URL.
 *
 * @param text what the user gave
 * @param options folder for relative paths, source name for messages, auth token
 * @returns the location
 * @throws {MaestroError} E121 (exit 2) when the text cannot name a store
 */
export function parseStoreLocation(text: string, options: ParseStoreOptions): StoreLocation {
  const trimmed = text.trim();
  if (trimmed === "") throw invalid(options.source, text, "it is empty");
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(trimmed)?.[1]?.toLowerCase();
  // `name:rest` without `//` is a file name that contains a colon, except for `file:`
  const looksLikeUrl = scheme !== undefined && (trimmed.includes("://") || scheme === "file");
  if (!looksLikeUrl) return filePath(resolve(options.cwd, trimmed), options.source, text);
  if (scheme === "file") {
    // `file:rel.db` is relative; `file:/abs` and `file:///abs` are absolute
    const rest = trimmed.slice("file:".length);
    if (rest.startsWith("//")) {
      try {
        return filePath(fromFileUrl(trimmed), options.source, text);
      } catch (error) {
        throw invalid(options.source, text, error instanceof Error ? error.message : String(error));
      }
    }
    if (rest === "") throw invalid(options.source, text, "the file URL has no path");
    return filePath(isAbsolute(rest) ? rest : resolve(options.cwd, rest), options.source, text);
  }
  if (scheme === "ws" || scheme === "wss") {
    throw invalid(
      options.source,
      text,
      `"${scheme}:" is not supported`,
      "use the server's http:// or https:// URL (or libsql://, which means https://)",
    );
  }
  if (!REMOTE_SCHEMES.has(`${scheme}:`)) {
    throw invalid(options.source, text, `unsupported scheme "${scheme}:"`);
  }
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw invalid(options.source, text, "it is not a valid URL");
  }
  if (url.hostname === "") throw invalid(options.source, text, "the URL has no host");
  if (url.hash !== "") throw invalid(options.source, text, "URL fragments are not supported");
  for (const key of url.searchParams.keys()) {
    // the only query parameters @libsql/client accepts; anything else fails later and less clearly
    if (key !== "tls" && key !== "authToken") {
      throw invalid(options.source, text, `unsupported URL parameter "${key}"`);
    }
  }
  const tokenInUrl = url.searchParams.get("authToken") ?? undefined;
  return { kind: "remote", url: trimmed, authToken: options.authToken || tokenInUrl };
}

function filePath(path: string, source: string, text: string): StoreLocation {
  if (isDirectory(path)) {
    throw invalid(
      source,
      text,
      "it is a folder",
      `name the database file, e.g. ${resolve(path, STORE_FILE)}`,
    );
  }
  return { kind: "file", path };
}

/**
 * The location for messages: a file relative to `cwd` when it is under it; a URL without its
 * credentials (user info and `authToken` are never printed).
 *
 * @param location the store
 * @param cwd folder that relative paths are shown from
 */
export function displayLocation(location: StoreLocation, cwd: string = Deno.cwd()): string {
  if (location.kind === "file") {
    const rel = relative(cwd, location.path);
    return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : location.path;
  }
  try {
    const url = new URL(location.url);
    url.username = "";
    url.password = "";
    url.searchParams.delete("authToken");
    return url.toString();
  } catch {
    return location.url;
  }
}
