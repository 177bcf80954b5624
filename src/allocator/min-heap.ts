/** A binary min-heap of bigints: push and pop the smallest in O(log n). */
export class MinHeap {
  private readonly items: bigint[] = [];

  /** The number of values held. */
  get size(): number {
    return this.items.length;
  }

  /** Adds a value. */
  push(value: bigint): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as bigint) <= value) break;
      items[i] = items[parent] as bigint;
      i = parent;
    }
    items[i] = value;
  }

  /** Removes and returns the smallest value, or undefined when empty. */
  pop(): bigint | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as bigint) < (items[left] as bigint) ? right : left;
      if ((items[child] as bigint) >= last) break;
      items[i] = items[child] as bigint;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
