/**
 * `deno run -A bench/sha256_bench.ts`: the pure TypeScript SHA-256 of `lib/sha256.ts` next to
 * `node:crypto`'s native one, which Maestro stopped importing for its start-up cost.
 *
 * 1. Throughput: a 64 MiB buffer hashed in 64 KiB `update()` calls, as a task log is.
 * 2. Small inputs: a 300-byte string (some of it multi-byte UTF-8) hashed whole 100 000 times,
 *    as event lines and cache keys are.
 *
 * Each measurement alternates the two implementations for `--rounds` rounds (default 5) and
 * reports the median and best round.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { Sha256, sha256Hex } from "../lib/sha256.ts";
import { stats } from "./measure.ts";

const args = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "5" } },
});
const rounds = Math.max(1, Number(args.values.rounds));

const BIG = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;
const SMALL_CALLS = 100_000;

const big = new Uint8Array(BIG);
for (let i = 0; i < BIG; i += CHUNK) crypto.getRandomValues(big.subarray(i, i + CHUNK));
// 300 bytes of UTF-8: 240 ASCII characters and 30 two-byte ones.
const small = "maestro event line: ".repeat(12) + "ü".repeat(30);
if (new TextEncoder().encode(small).length !== 300) throw new Error("small input is not 300 bytes");

/** Milliseconds taken by `fn`, and what it returned. */
function time(fn: () => string): [number, string] {
  const start = performance.now();
  const result = fn();
  return [performance.now() - start, result];
}

const bigOurs = () => {
  const hash = new Sha256();
  for (let i = 0; i < BIG; i += CHUNK) hash.update(big.subarray(i, i + CHUNK));
  return hash.digest();
};
const bigNode = () => {
  const hash = createHash("sha256");
  for (let i = 0; i < BIG; i += CHUNK) hash.update(big.subarray(i, i + CHUNK));
  return hash.digest("hex");
};
const smallOurs = () => {
  let last = "";
  for (let i = 0; i < SMALL_CALLS; i++) last = sha256Hex(small);
  return last;
};
const smallNode = () => {
  let last = "";
  for (let i = 0; i < SMALL_CALLS; i++) last = createHash("sha256").update(small).digest("hex");
  return last;
};

/** Runs both implementations `rounds` times, interleaved, after one warm-up round each. */
function compare(ours: () => string, node: () => string): { ours: number[]; node: number[] } {
  if (ours() !== node()) throw new Error("lib/sha256.ts and node:crypto disagree");
  const out = { ours: [] as number[], node: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    out.ours.push(time(ours)[0]);
    out.node.push(time(node)[0]);
  }
  return out;
}

const mb = BIG / 1e6;
const throughput = compare(bigOurs, bigNode);
console.log(`SHA-256 of ${BIG / 2 ** 20} MiB in ${CHUNK / 1024} KiB updates (${rounds} rounds):`);
const rows = (r: { ours: number[]; node: number[] }): [string, number[]][] => [
  ["lib/sha256.ts", r.ours],
  ["node:crypto", r.node],
];
for (const [name, ms] of rows(throughput)) {
  const s = stats(ms);
  console.log(
    `  ${name.padEnd(14)} ${(mb / (s.median / 1000)).toFixed(0).padStart(5)} MB/s` +
      ` median, ${(mb / (s.min / 1000)).toFixed(0).padStart(5)} MB/s best`,
  );
}

const perCall = compare(smallOurs, smallNode);
console.log(`SHA-256 of a 300-byte string, ${SMALL_CALLS} times (${rounds} rounds):`);
for (const [name, ms] of rows(perCall)) {
  const s = stats(ms);
  console.log(
    `  ${name.padEnd(14)} ${(s.median * 1000 / SMALL_CALLS).toFixed(2).padStart(5)} µs` +
      ` per hash median, ${(s.min * 1000 / SMALL_CALLS).toFixed(2).padStart(5)} µs best`,
  );
}
