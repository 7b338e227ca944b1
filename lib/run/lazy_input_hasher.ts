/**
 * An {@linkcode InputHasher} that is imported when a task's `inputs:` are first hashed.
 * cache_inputs.ts matches globs with `node:fs`'s `globSync` and `node:path`'s `matchesGlob`,
 * and importing any `node:` built-in makes Deno load its Node compatibility layer (≈ 50 ms of
 * start-up): through this class only a run (or `maestro cache explain`) of a plan whose tasks
 * declare `inputs:` pays for it.
 *
 * @module
 */
import { importLater } from "../import_later.ts";
import type { InputHasher } from "./cache_inputs.ts";

/** What the cache's `KeyBuilder` (cache.ts) uses of an {@linkcode InputHasher}. */
export type InputHashing = Pick<InputHasher, "hashInputs" | "invalidate">;

/** An {@linkcode InputHasher}, created on the first {@linkcode LazyInputHasher.hashInputs}. */
export class LazyInputHasher implements InputHashing {
  #hasher: InputHasher | undefined;
  #loading: Promise<InputHasher> | undefined;

  /** Forgets glob results and settled hashes (nothing to forget before the first hash). */
  invalidate(): void {
    this.#hasher?.invalidate();
  }

  /** {@linkcode InputHasher.hashInputs}, once cache_inputs.ts is loaded. */
  async hashInputs(workdir: string, patterns: readonly string[]): Promise<Record<string, string>> {
    this.#loading ??= importLater<typeof import("./cache_inputs.ts")>(
      new URL("./cache_inputs.ts", import.meta.url),
    ).then(({ InputHasher }) => this.#hasher = new InputHasher());
    const hasher = this.#hasher ?? await this.#loading;
    return await hasher.hashInputs(workdir, patterns);
  }
}
