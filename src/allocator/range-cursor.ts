// Finding the lowest free address of a range without enumerating it. Everything below
// `next` has been handed out at least once; released addresses below it wait in a heap.
// Each allocation costs O(log n) amortised, n the number of allocations, whatever the
// range's size: a /8 and a /64 cost the same.
import type { AddressRange } from '../net/address.js';
import { isBuggyAddress } from '../config/pool-address.js';
import { MinHeap } from './min-heap.js';

/** Hands out the lowest free address of one range. */
export class RangeCursor {
  private next: bigint;
  private readonly holes = new MinHeap();

  constructor(
    readonly range: AddressRange,
    private readonly avoidBuggy: boolean,
  ) {
    this.next = range.first;
  }

  /** Whether the range offers this address at all (inside it, and not skipped as buggy). */
  offers(value: bigint): boolean {
    return value >= this.range.first && value <= this.range.last && !(this.avoidBuggy && isBuggyAddress(this.range.family, value));
  }

  /**
   * Takes the lowest address for which isFree holds, or returns undefined when none is
   * left. The caller records the allocation; if it changes its mind it calls giveBack.
   */
  take(isFree: (value: bigint) => boolean): bigint | undefined {
    // Holes may be stale (an address taken since by an explicit request): skip those.
    for (let hole = this.holes.pop(); hole !== undefined; hole = this.holes.pop()) {
      if (isFree(hole)) return hole;
    }
    while (this.next <= this.range.last) {
      const value = this.next;
      this.next += 1n;
      if (this.avoidBuggy && isBuggyAddress(this.range.family, value)) continue;
      if (isFree(value)) return value;
    }
    return undefined;
  }

  /** Makes an address of this range available again. */
  giveBack(value: bigint): void {
    // Addresses at or above `next` will be found by the scan; only those below need a note.
    if (value < this.next) this.holes.push(value);
  }
}
