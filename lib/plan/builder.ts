/**
 * The TypeScript front end's builder: a plan module default-exports what {@linkcode plan}
 * returns. Option keys are the YAML keys in camelCase (`maxParallel`, `dependsOn`,
 * `timeoutSec`); maps keyed by the author (`env`, `matrix`) and free-form blocks (`judge`,
 * `assert`, `outputSchema`'s JSON Schema, `imports` entries) keep their keys as written.
 *
 * Task ids are tracked in the builder's type, so `dependsOn: ["biuld"]` fails `deno check`.
 * The builder does no validation: the plan's JSON goes through the same pipeline as YAML.
 *
 * This file must stay light: the sandbox child loads it, and nothing else of Maestro, to
 * evaluate a plan module. Only type imports here.
 *
 * @module
 */
import type {
  AuthoredDefaults,
  AuthoredEngineDefaults,
  AuthoredEngineName,
  AuthoredImport,
  AuthoredPlan,
  AuthoredTask,
} from "./authored_types.ts";
import { type CamelKeys, renameKeys, snakeCase } from "./camel.ts";

// The sandbox maps `@maestro/core` to this file, so a plan module may import these types from
// there as it would from the package.
export type {
  AuthoredCircuitBreaker,
  AuthoredDefaults,
  AuthoredEngineDefaults,
  AuthoredEngineName,
  AuthoredImport,
  AuthoredJudge,
  AuthoredPlan,
  AuthoredTask,
} from "./authored_types.ts";
export type { CamelCase, CamelKeys } from "./camel.ts";

/** Per-engine defaults (`defaults.claude`, ...) with camelCase keys. */
export type EngineDefaultsOptions = CamelKeys<AuthoredEngineDefaults>;

/** `defaults` with camelCase keys, its per-engine blocks too. */
export type DefaultsOptions = CamelKeys<
  {
    [K in keyof AuthoredDefaults]: K extends AuthoredEngineName
      ? EngineDefaultsOptions | null | undefined
      : AuthoredDefaults[K];
  }
>;

/** One `imports` entry; `Prefix` is inferred so that imported ids can be depended on. */
export type ImportOptions<Prefix extends string = string> =
  & Omit<AuthoredImport, "prefix">
  & { prefix: Prefix };

/** Plan-level options: the YAML plan keys in camelCase, without `tasks`. */
export type PlanOptions<Prefix extends string = string> =
  & Omit<CamelKeys<AuthoredPlan>, "tasks" | "defaults" | "imports">
  & {
    /** Defaults applied to every task (YAML: `defaults`). */
    defaults?: DefaultsOptions | null;
    /** Plans whose tasks are inlined as `<prefix>/<id>` (YAML: `imports`). */
    imports?: readonly ImportOptions<Prefix>[] | null;
  };

/**
 * The ids a task may name: tasks declared before it, and tasks of imported plans
 * (`<prefix>/<id>`).
 */
export type TaskRef<Ids extends string, Prefix extends string> = Ids | `${Prefix}/${string}`;

/** A task's options: the YAML task keys in camelCase, without `id` (the first argument). */
export type TaskOptions<Ref extends string = string> =
  & Omit<CamelKeys<AuthoredTask>, "id" | "dependsOn" | "contextFrom">
  & {
    /** Tasks that must finish first: ids declared earlier in the chain (YAML: `depends_on`). */
    dependsOn?: readonly Ref[] | null;
    /** Upstream tasks whose results feed this one's context, or `*` (YAML: `context_from`). */
    contextFrom?: readonly (Ref | "*")[] | null;
  };

/** Where something was written: a module URL with a 1-based line and column. */
export interface CallSite {
  /** The module's URL (`file:///...`). */
  url: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/**
 * Where a plan and each of its tasks were written: the call stack of each `plan(...)` and
 * `.task(...)` call outside the builder, innermost frame first (a task added by a helper
 * function also carries the plan module's line that called the helper).
 */
export interface PlanSites {
  /** The `plan(...)` call. */
  plan: CallSite[];
  /** The `.task(...)` call of each task, in task order. */
  tasks: CallSite[][];
}

const OWN_URL = import.meta.url;
const FRAME = /((?:file|https?|jsr|npm|data):[^\s()]+):(\d+):(\d+)\)?\s*$/;
const MAX_FRAMES = 8;

/** The stack frames outside this file: the author's call and its callers. */
function callerStack(): CallSite[] {
  const stack = new Error().stack ?? "";
  const sites: CallSite[] = [];
  for (const line of stack.split("\n").slice(1)) {
    const match = FRAME.exec(line);
    if (match && match[1] !== OWN_URL) {
      sites.push({ url: match[1]!, line: Number(match[2]), column: Number(match[3]) });
      if (sites.length === MAX_FRAMES) break;
    }
  }
  return sites;
}

function snakeDefaults(defaults: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out = renameKeys(defaults, snakeCase);
  for (const [key, value] of Object.entries(out)) {
    // per-engine blocks are the only nested level of `defaults` with camelCase keys
    if (key !== "env" && value !== null && typeof value === "object" && !Array.isArray(value)) {
      out[key] = renameKeys(value as Record<string, unknown>, snakeCase);
    }
  }
  return out;
}

/** One task of a builder and the `.task(...)` call that added it. */
interface TaskLink {
  readonly task: AuthoredTask;
  readonly site: CallSite[];
  readonly previous: TaskLink | undefined;
}

/**
 * A plan under construction. Immutable: every call returns a new builder, so a base plan can
 * be extended in several ways and loops can use `reduce`.
 *
 * @typeParam Ids ids declared so far (what `dependsOn` accepts)
 * @typeParam Prefix prefixes of imported plans
 */
export class PlanBuilder<Ids extends string = never, Prefix extends string = never> {
  readonly #options: Readonly<Record<string, unknown>>;
  readonly #planSite: readonly CallSite[];
  /** The last task added; each points at the one before (shared by every later builder). */
  readonly #last: TaskLink | undefined;

  private constructor(
    options: Readonly<Record<string, unknown>>,
    planSite: readonly CallSite[],
    last: TaskLink | undefined,
  ) {
    this.#options = options;
    this.#planSite = planSite;
    this.#last = last;
  }

  /** The tasks, first to last, with their call sites. */
  #links(): TaskLink[] {
    const links: TaskLink[] = [];
    for (let link = this.#last; link; link = link.previous) links.push(link);
    return links.reverse();
  }

  /**
   * Starts a plan; use {@linkcode plan} rather than calling this directly.
   *
   * @param options plan-level options
   * @param site the call stack of `plan(...)`
   */
  static start<Prefix extends string>(
    options: PlanOptions<Prefix>,
    site: CallSite[],
  ): PlanBuilder<never, Prefix> {
    return new PlanBuilder<never, Prefix>(options, site, undefined);
  }

  /**
   * Adds a task. `dependsOn` and `contextFrom` may name tasks added before this one, or
   * imported ones (`<prefix>/<id>`); for a task added later, {@linkcode PlanBuilder.declare}
   * its id first.
   *
   * @param id unique task id: letters, digits, `_ - . /`
   * @param options the task's keys in camelCase (`command`, `engine`, `prompt`, ...)
   * @returns a new builder that knows `id`
   */
  task<const Id extends string>(
    id: Id,
    options: TaskOptions<TaskRef<Ids, Prefix>> = {},
  ): PlanBuilder<Ids | Id, Prefix> {
    const task = { id, ...renameKeys(options, snakeCase) } as AuthoredTask;
    // a link, not a copy of every task so far: a loop adding n tasks stays linear
    const last = { task, site: callerStack(), previous: this.#last };
    return new PlanBuilder<Ids | Id, Prefix>(this.#options, this.#planSite, last);
  }

  /**
   * Declares ids of tasks added further down (or of matrix children), so that earlier tasks
   * may name them. Validation still reports an id that no task ends up having.
   *
   * @param ids the ids
   * @returns a new builder that knows them
   */
  declare<const Later extends string>(...ids: Later[]): PlanBuilder<Ids | Later, Prefix> {
    void ids;
    return new PlanBuilder<Ids | Later, Prefix>(this.#options, this.#planSite, this.#last);
  }

  /**
   * Adds tasks computed from a list, keeping their ids in the type:
   * `.each(services, (b, s) => b.task(\`build-${s}\`, { command: \`make ${s}\` }))`.
   *
   * @param items what to loop over
   * @param add adds the tasks of one item to the builder it is given
   * @returns the builder after every item
   */
  each<T, const Added extends string>(
    items: Iterable<T>,
    add: (
      builder: PlanBuilder<Ids, Prefix>,
      item: T,
      index: number,
    ) => PlanBuilder<Ids | Added, Prefix>,
  ): PlanBuilder<Ids | Added, Prefix> {
    let builder: PlanBuilder<Ids | Added, Prefix> | undefined;
    let index = 0;
    for (const item of items) {
      builder = add((builder ?? this) as PlanBuilder<Ids, Prefix>, item, index++);
    }
    return builder ?? this;
  }

  /** The plan as authored data, snake_case keys: exactly what the YAML file would hold. */
  toJSON(): AuthoredPlan {
    const plan = renameKeys(this.#options, snakeCase);
    if (plan.defaults && typeof plan.defaults === "object") {
      plan.defaults = snakeDefaults(plan.defaults as Record<string, unknown>);
    }
    return { ...plan, tasks: this.#links().map(({ task }) => ({ ...task })) } as AuthoredPlan;
  }

  /** Where the plan and each task were written (from the call stack, for error positions). */
  get sites(): PlanSites {
    return { plan: [...this.#planSite], tasks: this.#links().map(({ site }) => [...site]) };
  }
}

/**
 * Starts a plan. Chain `.task(id, options)` calls and default-export the result:
 *
 * ```ts
 * import { plan } from "jsr:@maestro/core";
 *
 * export default plan({ name: "demo", maxParallel: 2 })
 *   .task("build", { command: "make" })
 *   .task("test", { dependsOn: ["build"], command: "make test" });
 * ```
 *
 * @param options plan-level keys in camelCase (`name`, `goal`, `maxParallel`, `defaults`, ...)
 * @returns a builder with no tasks yet
 */
export function plan<const Prefix extends string = never>(
  options: PlanOptions<Prefix> = {},
): PlanBuilder<never, Prefix> {
  return PlanBuilder.start(options, callerStack());
}
