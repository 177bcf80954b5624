// Lease liveness judged on the local monotonic clock (design.md, "Who announces"), by the
// shared election core's rule (src/k8s/lease-election.ts, observeKey). Another node's Lease
// is live while it keeps changing: each new resourceVersion we observe restarts its timer,
// and it expires one lease duration after the last change *we saw*. Wall-clock
// renewTime fields are never compared across nodes. Our own Lease is judged from the moment
// we *sent* the renewal that succeeded, which is never later than any observer's moment, so
// we always stop announcing before anyone else may start.

import { observeKey, type Observation } from '../k8s/lease-election.js';

/** What a speaker Lease says, as read from the API. */
export interface SpeakerLeaseRecord {
  /** The node the Lease belongs to (its holder while held). */
  readonly node: string;
  readonly resourceVersion: string;
  /** Empty when the holder released it on a planned stop. */
  readonly holderIdentity: string;
  readonly durationMs: number;
  /** The layer-2 VIPs the node claims (canonical text), confirmed or not yet confirmed. */
  readonly claims: ReadonlySet<string>;
  /** The subset of `claims` the node has confirmed and answers for. */
  readonly held: ReadonlySet<string>;
  /** Layer-2 VIPs the node may not answer for though the API says it may: its link is down (ADR 0022). */
  readonly declined?: ReadonlySet<string>;
  /** The node's epoch when it wrote this (ADR 0017); 0 for a speaker that writes none. */
  readonly epoch: number;
  /** The node's configuration at that epoch, itself included; empty for none. */
  readonly members: readonly string[];
  /** Where the node listens on the peer channel, when it runs one. */
  readonly peer?: { readonly address: string; readonly port: number } | undefined;
}

interface Seen {
  readonly record: SpeakerLeaseRecord;
  /** Keyed by resourceVersion; `seenAtMs` is when this one was first seen (monotonic ms). */
  readonly observation: Observation;
}

/** Tracks other nodes' Leases and says which are live now. Time is passed in, never read. */
export class LeaseObserver {
  readonly #seen = new Map<string, Seen>();

  /** Records a Lease as read from a watch or a list at monotonic time `now`. */
  observe(record: SpeakerLeaseRecord, now: number): void {
    const previous = this.#seen.get(record.node);
    const observation = observeKey(previous?.observation, record.resourceVersion, now);
    if (previous?.observation === observation) return;
    this.#seen.set(record.node, { record, observation });
  }

  /** Forgets a deleted Lease. */
  forget(node: string): void {
    this.#seen.delete(node);
  }

  /** Whether the node's Lease is held and has changed within its duration before `now`. */
  isLive(node: string, now: number): boolean {
    const seen = this.#seen.get(node);
    if (!seen || seen.record.holderIdentity === '') return false;
    return now - seen.observation.seenAtMs < seen.record.durationMs;
  }

  /** The last record seen for a node. */
  record(node: string): SpeakerLeaseRecord | undefined {
    return this.#seen.get(node)?.record;
  }

  /** Live Leases other than `self`, at `now`. */
  liveRecords(now: number, self: string): SpeakerLeaseRecord[] {
    const live: SpeakerLeaseRecord[] = [];
    for (const [node, seen] of this.#seen) if (node !== self && this.isLive(node, now)) live.push(seen.record);
    return live;
  }

  /** Monotonic time at which the node's Lease last changed as we saw it. */
  changedAt(node: string): number | undefined {
    return this.#seen.get(node)?.observation.seenAtMs;
  }

  /** How many speakers' Leases are observed, live or not. */
  get size(): number {
    return this.#seen.size;
  }

  /** Every record seen, live or not. */
  records(): SpeakerLeaseRecord[] {
    return [...this.#seen.values()].map((seen) => seen.record);
  }

  /** Monotonic time at which a node's Lease stops being live if it does not change again. */
  expiresAt(node: string): number | undefined {
    const seen = this.#seen.get(node);
    return seen ? seen.observation.seenAtMs + seen.record.durationMs : undefined;
  }
}

/**
 * Our own Lease: valid until one duration, less a safety margin, after we sent the last
 * renewal that succeeded. The margin absorbs clock-rate differences between nodes.
 */
export class OwnLease {
  #validUntil = Number.NEGATIVE_INFINITY;

  constructor(
    readonly durationMs: number,
    readonly marginMs: number,
  ) {
    if (marginMs < 0 || marginMs >= durationMs) throw new RangeError(`lease margin ${marginMs} ms must be in [0, ${durationMs}) ms`);
  }

  /** Records a renewal that the API server accepted; `sentAt` is when the request left. */
  renewed(sentAt: number): void {
    this.#validUntil = Math.max(this.#validUntil, sentAt + this.durationMs - this.marginMs);
  }

  /** Ends validity at once (planned stop, or the Lease was taken from us). */
  invalidate(): void {
    this.#validUntil = Number.NEGATIVE_INFINITY;
  }

  /** Whether we may act as the Lease's holder at `now`. */
  isValid(now: number): boolean {
    return now < this.#validUntil;
  }

  /** Monotonic time at which validity ends without another renewal. */
  get validUntil(): number {
    return this.#validUntil;
  }
}
