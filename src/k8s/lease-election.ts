// Lease-based election as pure functions, the one core of every Lease vipcast keeps: what a
// candidate may do with the Lease it just read (the controller's LeaderElector in
// src/k8s/leader-election.ts, the control-plane agent in src/control-plane/agent.ts), what it
// writes, and when a holder must give up. Expiry of someone else's Lease is judged on OUR
// monotonic clock from when we first saw its current record, never by comparing wall clocks
// across nodes (ADR 0012); the speakers' own Leases are judged the same way
// (src/speaker/lease-clock.ts, through observeKey).

/** The fields of a coordination.k8s.io/v1 Lease the election reads and writes. */
export interface LeaseRecord {
  /** metadata.resourceVersion, for optimistic concurrency. */
  readonly resourceVersion: string;
  /** spec.holderIdentity; "" when released. */
  readonly holder: string;
  /** spec.leaseDurationSeconds. */
  readonly durationSeconds: number;
  /** spec.renewTime (MicroTime text), only used to tell records apart. */
  readonly renewTime: string;
  /** spec.acquireTime (MicroTime text). */
  readonly acquireTime: string;
  /** spec.leaseTransitions. */
  readonly transitions: number;
}

/** What an observer remembers of the last record it saw. */
export interface Observation {
  /** What identifies the record: it changes whenever the record does (recordKey, or a resourceVersion). */
  readonly key: string;
  /** Monotonic ms when this record was first seen. */
  readonly seenAtMs: number;
}

/** What to do after reading the Lease. */
export type Decision =
  | { readonly kind: 'create' }
  | { readonly kind: 'acquire'; readonly from: string }
  | { readonly kind: 'renew' }
  | { readonly kind: 'wait'; readonly holder: string; readonly expiresInMs: number };

/** Election timings (ms). */
export interface ElectionTimings {
  /** How long a Lease holds without renewal; written as leaseDurationSeconds (whole seconds). */
  readonly leaseDurationMs: number;
  /** The holder lets the VIP go when it has not renewed for this long; below the lease duration. */
  readonly renewDeadlineMs: number;
  /** Time between attempts to acquire or renew; below the renew deadline. */
  readonly retryPeriodMs: number;
}

/**
 * Checks the ordering retry < renew deadline < lease duration, and that the lease duration is
 * a whole number of seconds (it is written as leaseDurationSeconds, so anything else would
 * be rounded without a word); throws RangeError.
 */
export function validateTimings(t: ElectionTimings): ElectionTimings {
  if (t.leaseDurationMs < 1000 || t.leaseDurationMs % 1000 !== 0) throw new RangeError('the lease duration must be a whole number of seconds, at least 1s');
  if (t.renewDeadlineMs <= 0 || t.renewDeadlineMs >= t.leaseDurationMs) throw new RangeError('the renew deadline must be positive and shorter than the lease duration');
  if (t.retryPeriodMs <= 0 || t.retryPeriodMs >= t.renewDeadlineMs) throw new RangeError('the retry period must be positive and shorter than the renew deadline');
  return t;
}

/** The key that changes whenever the Lease record changes. */
export function recordKey(lease: LeaseRecord): string {
  return `${lease.holder}|${lease.renewTime}|${lease.resourceVersion}`;
}

/** Updates the observation with a record just read at nowMs: the clock restarts when the record changed. */
export function observe(previous: Observation | undefined, lease: LeaseRecord, nowMs: number): Observation {
  return observeKey(previous, recordKey(lease), nowMs);
}

/** The same for a record known by its key alone. */
export function observeKey(previous: Observation | undefined, key: string, nowMs: number): Observation {
  return previous?.key === key ? previous : { key, seenAtMs: nowMs };
}

/**
 * Decides what a healthy candidate does with the Lease it read (undefined: it does not exist).
 * It renews its own, takes a released or expired one, and otherwise waits.
 */
export function decide(lease: LeaseRecord | undefined, observation: Observation | undefined, identity: string, nowMs: number): Decision {
  if (lease === undefined) return { kind: 'create' };
  if (lease.holder === identity) return { kind: 'renew' };
  if (lease.holder === '') return { kind: 'acquire', from: '' };
  const seenAt = observation?.key === recordKey(lease) ? observation.seenAtMs : nowMs;
  const expiresInMs = seenAt + lease.durationSeconds * 1000 - nowMs;
  if (expiresInMs <= 0) return { kind: 'acquire', from: lease.holder };
  return { kind: 'wait', holder: lease.holder, expiresInMs };
}

/** The spec to write for a create, acquire or renew decided at wall time `wall` (MicroTime text). */
export function nextSpec(lease: LeaseRecord | undefined, identity: string, timings: ElectionTimings, wall: string): Record<string, unknown> {
  const mine = lease?.holder === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: timings.leaseDurationMs / 1000,
    acquireTime: mine && lease.acquireTime !== '' ? lease.acquireTime : wall,
    renewTime: wall,
    leaseTransitions: (lease?.transitions ?? 0) + (lease === undefined || mine ? 0 : 1),
  };
}

/** The spec that gives the Lease up at wall time `wall`: no holder, and a one-second duration for whoever reads it next. */
export function releasedSpec(lease: LeaseRecord, wall: string): Record<string, unknown> {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: lease.acquireTime || wall, renewTime: wall, leaseTransitions: lease.transitions };
}

/**
 * Whether a holder whose last successful renewal STARTED at lastRenewStartMs must give up the
 * VIP now. Measuring from the start of the request (before the server wrote the record others
 * see) keeps the holder's deadline ahead of everyone else's expiry.
 */
export function mustLetGo(lastRenewStartMs: number, nowMs: number, timings: ElectionTimings): boolean {
  return nowMs - lastRenewStartMs >= timings.renewDeadlineMs;
}

/** Parses a Lease object from the API into a record; undefined for anything that is not one. */
export function leaseRecordFrom(json: unknown): LeaseRecord | undefined {
  const lease = json as { metadata?: { resourceVersion?: unknown }; spec?: Record<string, unknown> } | undefined;
  if (lease?.metadata === undefined) return undefined;
  const spec = lease.spec ?? {};
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const number = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
  return {
    resourceVersion: text(lease.metadata.resourceVersion),
    holder: text(spec['holderIdentity']),
    durationSeconds: number(spec['leaseDurationSeconds'], 15),
    renewTime: text(spec['renewTime']),
    acquireTime: text(spec['acquireTime']),
    transitions: number(spec['leaseTransitions'], 0),
  };
}
