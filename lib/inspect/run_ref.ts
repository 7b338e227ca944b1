/**
 * What a `<run>` argument of `report`, `diff` and `blame` names, in this order:
 *
 * 1. an existing folder: a run directory (E113, exit 2, when it is not one);
 * 2. `last`, or `last~N` (N runs before the newest): the newest runs in the store, of the plan
 *    `--plan` names if given;
 * 3. a run id, a unique prefix of one, or a run directory's name: looked up in the store.
 *
 * The store is found as for `maestro runs` and is opened only for 2 and 3. When there is no
 * store, or it does not know the run (a run made with `--no-store`), the `.maestro-runs`
 * folders beside the store and in the current folder are searched by directory name.
 *
 * @module
 */
import { isDirectory, pathExists, readDirNamesSync } from "../fs.ts";
import { dirname, join, resolve } from "../path.ts";
import { EXIT, MaestroError } from "../errors.ts";
import { RUN_FILES, sanitizePlanName } from "../run/artifacts.ts";
import { displayLocation, type StoreLocation } from "../store/location.ts";
import { storeForRead } from "../store/resolve.ts";
import type { Store } from "../store/store.ts";
import { looksLikeRunDir } from "./run_view.ts";

/** Options of {@linkcode RunResolver}. */
export interface RunResolverOptions {
  /** `--db`: a store path or URL. */
  db?: string;
  /** `--plan`: `last` means the newest run of this plan; ids must belong to it. */
  plan?: string;
  /** Folder relative paths are resolved against. @default {Deno.cwd()} */
  cwd?: string;
}

/** A resolved `<run>`. */
export interface ResolvedRun {
  /** Absolute run directory. */
  dir: string;
  /** How it was found. */
  via: "path" | "store" | "run-root";
}

const RUN_ID = /^\d{8}_\d{6}_\d{6}_[0-9a-f]{6}/;
const LAST = /^last(?:~(\d+))?$/;
/** Default folder of run directories beside a plan. */
const RUN_ROOT = ".maestro-runs";

function notFound(ref: string, where: string, plan?: string): MaestroError {
  return new MaestroError(
    "E140",
    `no run ${JSON.stringify(ref)}${plan ? ` of plan ${JSON.stringify(plan)}` : ""} in ${where}`,
    {
      exitCode: EXIT.invalid,
      hint: "give a run directory, a run id (or a unique prefix), or last / last~N; " +
        "`maestro runs` lists the runs the store knows",
    },
  );
}

function ambiguous(ref: string, candidates: string[]): MaestroError {
  return new MaestroError(
    "E141",
    `run ${JSON.stringify(ref)} is ambiguous: ${candidates.slice(0, 5).join(", ")}${
      candidates.length > 5 ? ", …" : ""
    }`,
    { exitCode: EXIT.invalid, hint: "give more characters of the run id" },
  );
}

/** Resolves `<run>` arguments; holds the store open between them. Call `close()` after. */
export class RunResolver {
  readonly #options: RunResolverOptions;
  readonly #cwd: string;
  #store: Store | undefined;
  #location: StoreLocation | null | undefined;

  /** @param options `--db`, `--plan`, current folder */
  constructor(options: RunResolverOptions = {}) {
    this.#options = options;
    this.#cwd = options.cwd ?? Deno.cwd();
  }

  /**
   * The run directory a `<run>` argument names.
   *
   * @param ref the argument
   * @throws {MaestroError} E113 a folder that is not a run directory, E140 no such run, E141
   *   ambiguous prefix (all exit 2), E142 the store's run directory is gone (exit 1), E120/E121/
   *   E122 store problems
   */
  async resolve(ref: string): Promise<ResolvedRun> {
    const path = resolve(this.#cwd, ref);
    if (isDirectory(path)) {
      if (!looksLikeRunDir(path)) {
        throw new MaestroError(
          "E113",
          `${ref} is not a run directory (no ${RUN_FILES.events}, no ${RUN_FILES.manifest})`,
          { exitCode: EXIT.invalid },
        );
      }
      return { dir: path, via: "path" };
    }
    const last = LAST.exec(ref);
    const offset = last ? Number(last[1] ?? 0) : -1;
    if (!last && (ref.includes("/") || ref === "" || ref.includes("\\"))) {
      // a file (a plan, a log) is a path that exists but is no run directory
      const exists = ref !== "" && pathExists(ref);
      throw new MaestroError(
        "E113",
        exists ? `${ref} is not a run directory (it is a file)` : `${ref} does not exist`,
        { exitCode: EXIT.invalid, hint: "give a run directory, a run id, or last / last~N" },
      );
    }
    const id = last ? "" : (RUN_ID.exec(ref)?.[0] ?? ref);
    const store = await this.#open();
    if (store) {
      const rows = last ? await this.#newest(store, offset) : await this.#byPrefix(store, id);
      if (rows.length > 1) throw ambiguous(ref, rows.map((r) => r.run_id));
      const row = rows[0];
      if (row) {
        if (!looksLikeRunDir(row.run_dir)) {
          throw new MaestroError(
            "E142",
            `run ${row.run_id} is in the store but its directory ${row.run_dir} is gone`,
            { hint: "it was deleted or moved; `maestro runs` lists the runs the store knows" },
          );
        }
        return { dir: row.run_dir, via: "store" };
      }
    }
    const found = this.#fromRunRoots(last ? null : id, offset);
    if (found.length > 1) throw ambiguous(ref, found.map((d) => d.split("/").pop()!));
    if (found[0]) return { dir: found[0], via: "run-root" };
    const where = [
      this.#location ? displayLocation(this.#location, this.#cwd) : null,
      ...this.#runRoots().filter((root) => pathExists(root)),
    ].filter(Boolean).join(", ") || `${RUN_ROOT} (none here)`;
    throw notFound(ref, where, this.#options.plan);
  }

  /** Closes the store, if it was opened. */
  close(): void {
    this.#store?.close();
    this.#store = undefined;
  }

  async #open(): Promise<Store | undefined> {
    if (this.#location === undefined) {
      try {
        this.#location = storeForRead({ db: this.#options.db, cwd: this.#cwd });
      } catch (error) {
        // no store found (E120): the run roots may still have the run
        if (error instanceof MaestroError && error.code === "E120") this.#location = null;
        else throw error;
      }
      if (this.#location) {
        const { openStore } = await import("../store/store.ts");
        this.#store = await openStore(this.#location, { busyTimeoutMs: 1_000, create: false });
      }
    }
    return this.#store;
  }

  async #newest(store: Store, offset: number): Promise<{ run_id: string; run_dir: string }[]> {
    const plan = this.#options.plan;
    const rows = await store.read(
      `SELECT run_id, run_dir FROM runs ${plan !== undefined ? "WHERE plan_name = ?" : ""}
       ORDER BY started_at DESC, run_id DESC LIMIT 1 OFFSET ?`,
      plan !== undefined ? [plan, offset] : [offset],
    );
    return rows.map((r) => ({ run_id: String(r["run_id"]), run_dir: String(r["run_dir"]) }));
  }

  async #byPrefix(store: Store, prefix: string): Promise<{ run_id: string; run_dir: string }[]> {
    const plan = this.#options.plan;
    // a range on the primary key: run ids are ASCII below DEL
    const rows = await store.read(
      `SELECT run_id, run_dir FROM runs WHERE run_id >= ? AND run_id < ?
       ${plan !== undefined ? "AND plan_name = ?" : ""} ORDER BY run_id LIMIT 6`,
      plan !== undefined ? [prefix, `${prefix}\x7f`, plan] : [prefix, `${prefix}\x7f`],
    );
    const list = rows.map((r) => ({ run_id: String(r["run_id"]), run_dir: String(r["run_dir"]) }));
    const exact = list.find((r) => r.run_id === prefix);
    return exact ? [exact] : list;
  }

  /** `.maestro-runs` beside the store (when it is a default one) and in the current folder. */
  #runRoots(): string[] {
    const roots = [join(this.#cwd, RUN_ROOT)];
    const location = this.#location;
    if (location && location.kind === "file") {
      const beside = join(dirname(dirname(location.path)), RUN_ROOT);
      if (!roots.includes(beside)) roots.unshift(beside);
    }
    return roots;
  }

  #fromRunRoots(prefix: string | null, offset: number): string[] {
    const plan = this.#options.plan;
    const suffix = plan !== undefined ? `_${sanitizePlanName(plan)}` : "";
    const dirs: string[] = [];
    for (const root of this.#runRoots()) {
      let names: string[];
      try {
        names = readDirNamesSync(root);
      } catch {
        continue;
      }
      for (const name of names) {
        if (!RUN_ID.test(name) || !name.endsWith(suffix)) continue;
        if (prefix !== null && !name.startsWith(prefix)) continue;
        const dir = join(root, name);
        if (looksLikeRunDir(dir)) dirs.push(dir);
      }
    }
    // names start with the UTC time: sorting them sorts by start, newest first
    const byName = (d: string) => d.slice(d.lastIndexOf("/") + 1);
    dirs.sort((a, b) => byName(b).localeCompare(byName(a)));
    if (prefix === null) return dirs[offset] ? [dirs[offset]] : [];
    const exact = dirs.filter((d) => byName(d).startsWith(`${prefix}_`) || byName(d) === prefix);
    return exact.length === 1 ? exact : dirs;
  }
}
