/**
 * The scheduler's set of ready tasks, by plan index. Dispatch order is plan order (the lowest
 * ready index first), so the set is a binary min-heap of indices: `add` and `take` are
 * O(log ready), `has` is O(1) through a membership bitmap. The array it replaces paid O(ready)
 * per operation (`shift`, sorted `splice`, `includes`), i.e. O(n²) for a very wide plan.
 *
 * @module
 */

/** Indices `0 .. capacity-1`, taken smallest first; each index is in the set at most once. */
export class ReadySet {
  #heap: Int32Array;
  #size = 0;
  /** 1 while an index is in the heap: `has` without a scan, double adds ignored. */
  #member: Uint8Array;

  /** @param capacity the number of tasks (indices are `0 .. capacity-1`) */
  constructor(capacity: number) {
    // each index is present at most once, so `capacity` slots always suffice
    this.#heap = new Int32Array(Math.max(1, capacity));
    this.#member = new Uint8Array(Math.max(1, capacity));
  }

  /** How many indices are ready. */
  get size(): number {
    return this.#size;
  }

  /** Whether `index` is in the set. */
  has(index: number): boolean {
    return this.#member[index] === 1;
  }

  /** Adds `index` (ignored when already present). */
  add(index: number): void {
    if (index < 0 || index >= this.#member.length) {
      throw new RangeError(`ready index ${index} out of range`);
    }
    if (this.#member[index] === 1) return;
    this.#member[index] = 1;
    const heap = this.#heap;
    // sift up
    let at = this.#size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent]! <= index) break;
      heap[at] = heap[parent]!;
      at = parent;
    }
    heap[at] = index;
  }

  /** Removes and returns the smallest index, or undefined when empty. */
  take(): number | undefined {
    if (this.#size === 0) return undefined;
    const heap = this.#heap;
    const top = heap[0]!;
    this.#member[top] = 0;
    const last = heap[--this.#size]!;
    // sift the last element down from the root
    let at = 0;
    const size = this.#size;
    while (true) {
      const left = 2 * at + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && heap[right]! < heap[left]! ? right : left;
      if (heap[child]! >= last) break;
      heap[at] = heap[child]!;
      at = child;
    }
    if (size > 0) heap[at] = last;
    return top;
  }

  /** Empties the set. */
  clear(): void {
    while (this.#size > 0) this.#member[this.#heap[--this.#size]!] = 0;
  }
}
