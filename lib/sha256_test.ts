import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Sha256, sha256Hex } from "./sha256.ts";

/** The reference: `node:crypto`, which these tests are allowed to load. */
function nodeHex(...parts: (string | Uint8Array)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/** A small deterministic generator (xorshift32), so that failures can be reproduced. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}

/** Splits `length` at random points into pieces, some of them empty. */
function randomCuts(next: () => number, length: number): number[] {
  const cuts = [0];
  const count = next() % 12;
  for (let i = 0; i < count; i++) cuts.push(next() % (length + 1));
  cuts.push(length);
  return cuts.sort((a, b) => a - b);
}

Deno.test("sha256: FIPS 180-4 example vectors", () => {
  const vectors: [string, string][] = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr" +
      "lmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
  ];
  for (const [input, expected] of vectors) {
    assert.equal(nodeHex(input), expected, "the reference itself");
    assert.equal(sha256Hex(input), expected, JSON.stringify(input));
    assert.equal(new Sha256().update(input).digest(), expected);
    assert.equal(sha256Hex(new TextEncoder().encode(input)), expected);
  }
  // One million "a": many blocks, a length needing more than 16 bits.
  const million = "a".repeat(1_000_000);
  const expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  assert.equal(sha256Hex(million), expected);
  assert.equal(nodeHex(million), expected);
});

Deno.test("sha256: random byte arrays of every length 0..200 match node:crypto", () => {
  const next = rng(0x5eed);
  for (let length = 0; length <= 200; length++) {
    for (let round = 0; round < 3; round++) {
      const bytes = randomBytes(next, length);
      const expected = nodeHex(bytes);
      assert.equal(sha256Hex(bytes), expected, `length ${length}`);
      assert.equal(new Sha256().update(bytes).digest(), expected, `length ${length}`);
    }
  }
});

Deno.test("sha256: large inputs match node:crypto", () => {
  const next = rng(0xb16);
  for (const length of [1 << 20, (1 << 20) + 17, 3 * (1 << 20) - 1]) {
    const bytes = randomBytes(next, length);
    assert.equal(sha256Hex(bytes), nodeHex(bytes), `length ${length}`);
  }
  // A long string takes another path than a short one (encoded whole rather than into scratch).
  const text = "größere Zeilen 🎼 " + "x".repeat(70_000) + "\ud800 Ende";
  assert.equal(sha256Hex(text), nodeHex(text));
});

Deno.test("sha256: views into a larger buffer hash only their own bytes", () => {
  const next = rng(7);
  const buffer = randomBytes(next, 4096);
  for (const [start, end] of [[1, 65], [3, 200], [63, 4000], [100, 100], [4095, 4096]]) {
    const view = buffer.subarray(start, end);
    assert.equal(sha256Hex(view), nodeHex(view), `${start}..${end}`);
    assert.equal(sha256Hex(view), nodeHex(buffer.slice(start, end)));
  }
});

Deno.test("sha256: strings are UTF-8, lone surrogates as U+FFFD like node:crypto", () => {
  const strings = [
    "ü",
    "Grüße, naïve café",
    "😀",
    "emoji 🎼🎻 and CJK 指挥家",
    "\ud800",
    "\udfff",
    "a\ud83dz",
    "\ude00\ud83d",
    "end with a high surrogate \ud83d",
    "\u0000\u007f\u0080\u07ff\u0800\uffff",
    "x".repeat(63) + "ü",
    "ü".repeat(1000),
    "😀".repeat(5000),
    // Three UTF-8 bytes per UTF-16 unit, around the size where strings stop being encoded into
    // the reused buffer.
    "指".repeat(21845),
    "指".repeat(21846),
    "指".repeat(30000),
  ];
  for (const text of strings) {
    const expected = nodeHex(text);
    assert.equal(sha256Hex(text), expected, JSON.stringify(text));
    assert.equal(new Sha256().update(text).digest(), expected, JSON.stringify(text));
  }
  assert.equal(sha256Hex("\ud800"), sha256Hex("\ufffd"));
});

Deno.test("sha256: random splits across update() equal one-shot hashing", () => {
  const next = rng(0xc0ffee);
  for (let round = 0; round < 300; round++) {
    const length = next() % (round < 250 ? 300 : 5000);
    const bytes = randomBytes(next, length);
    const expected = sha256Hex(bytes);
    assert.equal(expected, nodeHex(bytes));
    for (let split = 0; split < 5; split++) {
      const cuts = randomCuts(next, length);
      const hash = new Sha256();
      for (let i = 1; i < cuts.length; i++) hash.update(bytes.subarray(cuts[i - 1], cuts[i]));
      assert.equal(hash.digest(), expected, `length ${length}, cuts ${cuts}`);
    }
  }
});

Deno.test("sha256: strings and bytes mixed across update() match node:crypto", () => {
  const next = rng(99);
  const alphabet = ["a", "ü", "指", "😀", "\ud800", "\n", "\u0000"];
  for (let round = 0; round < 200; round++) {
    const parts: (string | Uint8Array)[] = [];
    const count = next() % 8;
    for (let i = 0; i < count; i++) {
      if (next() % 2) parts.push(randomBytes(next, next() % 150));
      else {
        let text = "";
        for (let n = next() % 90; n > 0; n--) text += alphabet[next() % alphabet.length];
        parts.push(text);
      }
    }
    const hash = new Sha256();
    for (const part of parts) hash.update(part);
    assert.equal(hash.digest(), nodeHex(...parts));
  }
});

Deno.test("sha256: digest leaves the hash usable; reset starts over", () => {
  const hash = new Sha256().update("ab");
  assert.equal(hash.digest(), nodeHex("ab"));
  assert.equal(hash.digest(), nodeHex("ab"));
  hash.update("c");
  assert.equal(hash.digest(), nodeHex("abc"));
  assert.deepEqual(hash.digestBytes(), new Uint8Array(createHash("sha256").update("abc").digest()));
  assert.equal(hash.reset().digest(), nodeHex(""));
  assert.equal(hash.update("xyz").digest(), nodeHex("xyz"));
  // sha256Hex shares one hash between calls; a call does not disturb other instances.
  const other = new Sha256().update("abc".repeat(30));
  sha256Hex("something else");
  assert.equal(other.update("!").digest(), nodeHex("abc".repeat(30) + "!"));
});
