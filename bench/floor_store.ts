/**
 * Opens a maestro store with `@libsql/client` and reads its cache entries in one query: the
 * store's share of `bench/floor_hit_run.ts` (imported directly, or through
 * `floor_store_worker.ts` in a Worker).
 *
 * @module
 */
import { createClient } from "@libsql/client";
import { toFileUrl } from "../lib/path.ts";

/** Reads every cache entry of the store in `file`; returns how many there are. */
export async function readCacheEntries(file: string): Promise<number> {
  const client = createClient({ url: toFileUrl(file).href });
  try {
    const result = await client.execute("SELECT * FROM cache_entries");
    return result.rows.length;
  } finally {
    client.close();
  }
}
