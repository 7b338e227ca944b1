/**
 * SHA-256 (FIPS 180-4) in plain TypeScript, written here because importing `node:crypto` makes
 * Deno 2.9 load its Node compatibility layer: `node:crypto` alone costs ≈ 45 ms of start-up
 * (all `node:` built-ins together ≈ 66 ms) on top of an empty `deno run` of ≈ 70 ms, and every
 * `maestro run` paid that before it spawned its first task. The Web Crypto API needs no such
 * layer but only offers a one-shot, asynchronous `crypto.subtle.digest`, while Maestro hashes
 * synchronously and incrementally (task logs as they are written, manifests, event chains).
 *
 * Strings are hashed as their UTF-8 encoding, a lone surrogate as U+FFFD, as `node:crypto`
 * does. Speed: see `bench/sha256_bench.ts`; whole blocks are compressed straight from the
 * caller's bytes, sixteen rounds unrolled, with the message schedule in local variables, and
 * nothing is allocated per block.
 *
 * @module
 */

/** Round constants: the first 32 fractional bits of the cube roots of the first 64 primes. */
// deno-fmt-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Initial hash value: the first 32 fractional bits of the square roots of the first 8 primes. */
// deno-fmt-ignore
const H0 = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** Two lowercase hex digits for every byte value. */
const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

const encoder = new TextEncoder();
/** Where strings of up to a third of its size are UTF-8 encoded, instead of into a new array. */
const scratch = new Uint8Array(65536);
const scratchView = new DataView(scratch.buffer);

/** Scratch space for {@linkcode Sha256.digest}, which leaves the hash it finishes untouched. */
const finalState = new Int32Array(8);
const finalBlocks = new Uint8Array(128);
const finalView = new DataView(finalBlocks.buffer);

/**
 * Compresses every whole 64-byte block of `view` from `pos` to `end` into `state` and returns
 * the offset after the last one (FIPS 180-4 §6.2.2).
 */
function compress(state: Int32Array, view: DataView, pos: number, end: number): number {
  const k = K;
  let h0 = state[0]!, h1 = state[1]!, h2 = state[2]!, h3 = state[3]!;
  let h4 = state[4]!, h5 = state[5]!, h6 = state[6]!, h7 = state[7]!;
  while (end - pos >= 64) {
    // W[0..15], the block's big-endian words; later W[t] replace W[t - 16] in place.
    let w0 = view.getInt32(pos + 0);
    let w1 = view.getInt32(pos + 4);
    let w2 = view.getInt32(pos + 8);
    let w3 = view.getInt32(pos + 12);
    let w4 = view.getInt32(pos + 16);
    let w5 = view.getInt32(pos + 20);
    let w6 = view.getInt32(pos + 24);
    let w7 = view.getInt32(pos + 28);
    let w8 = view.getInt32(pos + 32);
    let w9 = view.getInt32(pos + 36);
    let w10 = view.getInt32(pos + 40);
    let w11 = view.getInt32(pos + 44);
    let w12 = view.getInt32(pos + 48);
    let w13 = view.getInt32(pos + 52);
    let w14 = view.getInt32(pos + 56);
    let w15 = view.getInt32(pos + 60);
    pos += 64;
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    let x: number, y: number;
    for (let t = 0; t < 64; t += 16) {
      if (t > 0) {
        // W[t] = σ1(W[t - 2]) + W[t - 7] + σ0(W[t - 15]) + W[t - 16]
        x = w1;
        y = w14;
        w0 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w9 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w0) | 0;
        x = w2;
        y = w15;
        w1 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w10 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w1) | 0;
        x = w3;
        y = w0;
        w2 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w11 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w2) | 0;
        x = w4;
        y = w1;
        w3 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w12 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w3) | 0;
        x = w5;
        y = w2;
        w4 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w13 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w4) | 0;
        x = w6;
        y = w3;
        w5 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w14 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w5) | 0;
        x = w7;
        y = w4;
        w6 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w15 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w6) | 0;
        x = w8;
        y = w5;
        w7 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w0 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w7) | 0;
        x = w9;
        y = w6;
        w8 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w1 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w8) | 0;
        x = w10;
        y = w7;
        w9 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w2 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w9) | 0;
        x = w11;
        y = w8;
        w10 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w3 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w10) | 0;
        x = w12;
        y = w9;
        w11 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w4 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w11) | 0;
        x = w13;
        y = w10;
        w12 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w5 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w12) | 0;
        x = w14;
        y = w11;
        w13 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w6 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w13) | 0;
        x = w15;
        y = w12;
        w14 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w7 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w14) | 0;
        x = w0;
        y = w13;
        w15 = ((((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w8 +
          (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w15) | 0;
      }
      // Sixteen rounds; instead of shifting a..h along, each round renames them.
      x = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        (g ^ (e & (f ^ g))) + k[t + 0]! + w0) | 0;
      d = (d + x) | 0;
      h = (x + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) | (c & (a | b)))) | 0;
      x = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) +
        (f ^ (d & (e ^ f))) + k[t + 1]! + w1) | 0;
      c = (c + x) | 0;
      g = (x + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) +
        ((h & a) | (b & (h | a)))) | 0;
      x = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) +
        (e ^ (c & (d ^ e))) + k[t + 2]! + w2) | 0;
      b = (b + x) | 0;
      f = (x + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) +
        ((g & h) | (a & (g | h)))) | 0;
      x = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) +
        (d ^ (b & (c ^ d))) + k[t + 3]! + w3) | 0;
      a = (a + x) | 0;
      e = (x + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) +
        ((f & g) | (h & (f | g)))) | 0;
      x = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) +
        (c ^ (a & (b ^ c))) + k[t + 4]! + w4) | 0;
      h = (h + x) | 0;
      d = (x + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) +
        ((e & f) | (g & (e | f)))) | 0;
      x = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) +
        (b ^ (h & (a ^ b))) + k[t + 5]! + w5) | 0;
      g = (g + x) | 0;
      c = (x + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) +
        ((d & e) | (f & (d | e)))) | 0;
      x = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) +
        (a ^ (g & (h ^ a))) + k[t + 6]! + w6) | 0;
      f = (f + x) | 0;
      b = (x + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) +
        ((c & d) | (e & (c | d)))) | 0;
      x = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) +
        (h ^ (f & (g ^ h))) + k[t + 7]! + w7) | 0;
      e = (e + x) | 0;
      a = (x + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) +
        ((b & c) | (d & (b | c)))) | 0;
      x = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
        (g ^ (e & (f ^ g))) + k[t + 8]! + w8) | 0;
      d = (d + x) | 0;
      h = (x + (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
        ((a & b) | (c & (a | b)))) | 0;
      x = (g + (((d >>> 6) | (d << 26)) ^ ((d >>> 11) | (d << 21)) ^ ((d >>> 25) | (d << 7))) +
        (f ^ (d & (e ^ f))) + k[t + 9]! + w9) | 0;
      c = (c + x) | 0;
      g = (x + (((h >>> 2) | (h << 30)) ^ ((h >>> 13) | (h << 19)) ^ ((h >>> 22) | (h << 10))) +
        ((h & a) | (b & (h | a)))) | 0;
      x = (f + (((c >>> 6) | (c << 26)) ^ ((c >>> 11) | (c << 21)) ^ ((c >>> 25) | (c << 7))) +
        (e ^ (c & (d ^ e))) + k[t + 10]! + w10) | 0;
      b = (b + x) | 0;
      f = (x + (((g >>> 2) | (g << 30)) ^ ((g >>> 13) | (g << 19)) ^ ((g >>> 22) | (g << 10))) +
        ((g & h) | (a & (g | h)))) | 0;
      x = (e + (((b >>> 6) | (b << 26)) ^ ((b >>> 11) | (b << 21)) ^ ((b >>> 25) | (b << 7))) +
        (d ^ (b & (c ^ d))) + k[t + 11]! + w11) | 0;
      a = (a + x) | 0;
      e = (x + (((f >>> 2) | (f << 30)) ^ ((f >>> 13) | (f << 19)) ^ ((f >>> 22) | (f << 10))) +
        ((f & g) | (h & (f | g)))) | 0;
      x = (d + (((a >>> 6) | (a << 26)) ^ ((a >>> 11) | (a << 21)) ^ ((a >>> 25) | (a << 7))) +
        (c ^ (a & (b ^ c))) + k[t + 12]! + w12) | 0;
      h = (h + x) | 0;
      d = (x + (((e >>> 2) | (e << 30)) ^ ((e >>> 13) | (e << 19)) ^ ((e >>> 22) | (e << 10))) +
        ((e & f) | (g & (e | f)))) | 0;
      x = (c + (((h >>> 6) | (h << 26)) ^ ((h >>> 11) | (h << 21)) ^ ((h >>> 25) | (h << 7))) +
        (b ^ (h & (a ^ b))) + k[t + 13]! + w13) | 0;
      g = (g + x) | 0;
      c = (x + (((d >>> 2) | (d << 30)) ^ ((d >>> 13) | (d << 19)) ^ ((d >>> 22) | (d << 10))) +
        ((d & e) | (f & (d | e)))) | 0;
      x = (b + (((g >>> 6) | (g << 26)) ^ ((g >>> 11) | (g << 21)) ^ ((g >>> 25) | (g << 7))) +
        (a ^ (g & (h ^ a))) + k[t + 14]! + w14) | 0;
      f = (f + x) | 0;
      b = (x + (((c >>> 2) | (c << 30)) ^ ((c >>> 13) | (c << 19)) ^ ((c >>> 22) | (c << 10))) +
        ((c & d) | (e & (c | d)))) | 0;
      x = (a + (((f >>> 6) | (f << 26)) ^ ((f >>> 11) | (f << 21)) ^ ((f >>> 25) | (f << 7))) +
        (h ^ (f & (g ^ h))) + k[t + 15]! + w15) | 0;
      e = (e + x) | 0;
      a = (x + (((b >>> 2) | (b << 30)) ^ ((b >>> 13) | (b << 19)) ^ ((b >>> 22) | (b << 10))) +
        ((b & c) | (d & (b | c)))) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  state[0] = h0;
  state[1] = h1;
  state[2] = h2;
  state[3] = h3;
  state[4] = h4;
  state[5] = h5;
  state[6] = h6;
  state[7] = h7;
  return pos;
}

/**
 * An incremental SHA-256 hash, a synchronous stand-in for `createHash("sha256")` of
 * `node:crypto`: feed it with {@linkcode Sha256.update}, read it with {@linkcode Sha256.digest}.
 *
 * @example
 * ```ts
 * const hash = new Sha256().update("a").update(new Uint8Array([0x62, 0x63]));
 * hash.digest(); // "ba7816bf…", the hash of "abc"
 * ```
 */
export class Sha256 {
  #state = H0.slice();
  /** The bytes of a block not yet complete. */
  #block = new Uint8Array(64);
  #blockView = new DataView(this.#block.buffer);
  #blockLength = 0;
  /** How many bytes have been hashed. */
  #length = 0;

  /**
   * Adds `data` to the hashed message: bytes as they are, a string as UTF-8 (a lone surrogate
   * as U+FFFD). Returns this hash, for chaining.
   */
  update(data: string | Uint8Array): this {
    if (typeof data !== "string") return this.#add(data, null, data.length);
    if (data.length === 0) return this;
    if (data.length * 3 <= scratch.length) {
      return this.#add(scratch, scratchView, encoder.encodeInto(data, scratch).written);
    }
    const bytes = encoder.encode(data);
    return this.#add(bytes, null, bytes.length);
  }

  /** Hashes `bytes[0..end)`; `view` is a `DataView` of `bytes`, or null to make one if needed. */
  #add(bytes: Uint8Array, view: DataView | null, end: number): this {
    this.#length += end;
    let pos = 0;
    if (this.#blockLength > 0) {
      pos = Math.min(64 - this.#blockLength, end);
      this.#block.set(bytes.subarray(0, pos), this.#blockLength);
      this.#blockLength += pos;
      if (this.#blockLength < 64) return this;
      compress(this.#state, this.#blockView, 0, 64);
      this.#blockLength = 0;
    }
    if (end - pos >= 64) {
      view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      pos = compress(this.#state, view, pos, end);
    }
    if (pos < end) {
      this.#block.set(bytes.subarray(pos, end), 0);
      this.#blockLength = end - pos;
    }
    return this;
  }

  /**
   * The SHA-256 of everything added so far, as 64 lowercase hex digits (what `digest("hex")`
   * of `node:crypto` returns). Unlike there, the hash stays usable: more data may be added and
   * digested again.
   */
  digest(): string {
    this.#finish();
    let hex = "";
    for (let i = 0; i < 8; i++) {
      const v = finalState[i]!;
      hex += HEX[v >>> 24]! + HEX[(v >>> 16) & 0xff]! + HEX[(v >>> 8) & 0xff]! + HEX[v & 0xff]!;
    }
    return hex;
  }

  /**
   * The SHA-256 of everything added so far, as 32 bytes. The hash stays usable: more data may
   * be added and digested again.
   */
  digestBytes(): Uint8Array {
    this.#finish();
    const out = new Uint8Array(32);
    const view = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) view.setInt32(i * 4, finalState[i]!);
    return out;
  }

  /** Forgets everything added, making this the hash of the empty message again. */
  reset(): this {
    this.#state.set(H0);
    this.#blockLength = 0;
    this.#length = 0;
    return this;
  }

  /** Pads a copy of the pending bytes (FIPS 180-4 §5.1.1) and compresses it into `finalState`. */
  #finish(): void {
    finalState.set(this.#state);
    const n = this.#blockLength;
    finalBlocks.set(this.#block.subarray(0, n), 0);
    finalBlocks[n] = 0x80;
    // The message, a 1 bit, zeros and the message's length in bits (64 bits, big-endian) fill
    // one or two blocks. The length in bytes is below 2 ** 53; in bits it is split at 2 ** 32.
    const end = n + 9 <= 64 ? 64 : 128;
    finalBlocks.fill(0, n + 1, end - 8);
    finalView.setUint32(end - 8, Math.floor(this.#length / 0x20000000));
    finalView.setUint32(end - 4, (this.#length % 0x20000000) * 8);
    compress(finalState, finalView, 0, end);
  }
}

/** The hash {@linkcode sha256Hex} reuses. */
const oneShot = new Sha256();

/**
 * The SHA-256 of `data` (a string as UTF-8) as 64 lowercase hex digits, like
 * `createHash("sha256").update(data).digest("hex")` of `node:crypto`.
 */
export function sha256Hex(data: string | Uint8Array): string {
  return oneShot.reset().update(data).digest();
}
