/**
 * Imports that stay out of Deno's start-up module graph.
 *
 * Before running anything, Deno loads every module that a statically analyzable
 * `import("./x.ts")` names, transitively, although it evaluates none of them until the call.
 * For `maestro` that was the whole tool: `--version` paid ≈ 30 ms for about 300 modules it never
 * runs, and `validate` loaded the run-time, the store and libSQL's npm graph. A specifier
 * passed through this function is only known at run time, so Deno loads that part of the graph
 * when (and if) the call happens. The price: `deno compile` must be told to include these
 * modules (`--include lib/`), and `deno publish` warns about each call site here (one).
 *
 * @module
 */

/**
 * Imports `url` when called. Pass `new URL("./x.ts", import.meta.url)` and the module's type:
 * `importLater<typeof import("./x.ts")>(new URL("./x.ts", import.meta.url))` (a type-only
 * `import()` adds no run-time edge).
 */
export function importLater<T>(url: URL): Promise<T> {
  return import(url.href) as Promise<T>;
}
