/**
 * Worker entry of `bench/floor_hit_run.ts --worker`: is sent the store's database file, answers
 * with the number of cache entries read from it.
 *
 * @module
 */
import { readCacheEntries } from "./floor_store.ts";

const scope = self as unknown as {
  onmessage: (event: MessageEvent<string>) => void;
  postMessage: (rows: number) => void;
};
scope.onmessage = async (event) => scope.postMessage(await readCacheEntries(event.data));
