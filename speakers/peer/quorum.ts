// The rules of ADR 0017 as plain state over monotonic times passed in: contact and holding
// (rules 1-2), quiet and declarations (rule 3), verdicts (rule 4). No sockets, no clocks.

/** Timings of the peer channel, in milliseconds. */
export interface PeerTiming {
  /** How often a speaker pings each member of its configuration. */
  readonly pingIntervalMs: number;
  /** An ack confirms contact for this long after its ping was sent (T_hold). */
  readonly holdMs: number;
  /** A member that hears nothing from a speaker for this long declares its epoch dead (T_quiet). */
  readonly quietMs: number;
}

/** Defaults: 50 ms pings, 200 ms hold, 300 ms quiet (ADR 0017). */
export const defaultPeerTiming: PeerTiming = { pingIntervalMs: 50, holdMs: 200, quietMs: 300 };

/** Refuses timings that would break the safety argument or never hold. */
export function peerTimingProblems(t: PeerTiming): string[] {
  const problems: string[] = [];
  if (!(t.pingIntervalMs > 0)) problems.push('the ping interval must be positive');
  if (!(t.holdMs > t.pingIntervalMs)) problems.push('the hold time must be longer than the ping interval');
  // The margin between hold and quiet is what keeps a holder from answering after a verdict.
  if (!(t.quietMs >= t.holdMs + 50)) problems.push('the quiet time must exceed the hold time by at least 50 ms');
  return problems;
}

/** The number of speakers (the holder included) that a configuration of n needs to hold. */
export function quorumOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** The number of other members whose declarations make a verdict against a holder of n. */
export function verdictSizeOf(n: number): number {
  return n - quorumOf(n) + 1;
}

/** Contact of one speaker with the members of its configuration (rules 1 and 2). */
export class ContactTracker {
  readonly #sent = new Map<number, { readonly to: string; readonly at: number }>();
  /** Per member, the send time of the freshest ping it acked and the epoch it said it had declared dead then. */
  readonly #acked = new Map<string, { at: number; deadThrough: number }>();

  constructor(private readonly holdMs: number) {}

  /** Forgets every ping and ack (contact carries over epochs; this is for a new start). */
  reset(): void {
    this.#sent.clear();
    this.#acked.clear();
  }

  /** Records a ping sent to `to` with sequence `seq` at `at`. */
  sent(seq: number, to: string, at: number): void {
    this.#sent.set(seq, { to, at });
    for (const [s, ping] of this.#sent) {
      if (at - ping.at <= this.holdMs) break;
      this.#sent.delete(s);
    }
  }

  /**
   * Records an ack; true when it confirms contact (an accepted answer to our own recent ping).
   * `deadThrough` is the highest epoch of ours the member says it declared dead.
   */
  acked(from: string, forSeq: number, accepted: boolean, deadThrough = 0): boolean {
    const ping = this.#sent.get(forSeq);
    if (!accepted || !ping || ping.to !== from) return false;
    const previous = this.#acked.get(from);
    if (!previous || previous.at < ping.at) this.#acked.set(from, { at: ping.at, deadThrough: Math.max(deadThrough, previous?.deadThrough ?? 0) });
    else previous.deadThrough = Math.max(previous.deadThrough, deadThrough);
    return true;
  }

  /**
   * The send time of the freshest ping `member` acked that counts for `epoch`: none once it
   * said it declared that epoch dead (it then acks only pings of later epochs, which say
   * nothing about this one).
   */
  #ackedAt(member: string, epoch: number): number {
    const ack = this.#acked.get(member);
    return ack && ack.deadThrough < epoch ? ack.at : Number.NEGATIVE_INFINITY;
  }

  /** Whether `member` is in contact at `now`, for `epoch` (every epoch by default). */
  inContact(member: string, now: number, epoch = Number.POSITIVE_INFINITY): boolean {
    return now < this.#ackedAt(member, epoch) + this.holdMs;
  }

  /** The members in contact at `now`, for `epoch` (every epoch by default). */
  contacts(members: readonly string[], now: number, epoch = Number.POSITIVE_INFINITY): string[] {
    return members.filter((m) => this.inContact(m, now, epoch));
  }

  /**
   * The time until which `self` holds `epoch` with this configuration without another ack: the
   * freshest acks of quorum-minus-one other members. −Infinity when it does not hold at all.
   */
  holdsUntil(self: string, members: readonly string[], epoch = Number.POSITIVE_INFINITY): number {
    const others = members.filter((m) => m !== self);
    const needed = quorumOf(others.length + 1) - 1;
    if (needed <= 0) return Number.POSITIVE_INFINITY;
    const fresh = others.map((m) => this.#ackedAt(m, epoch)).sort((a, b) => b - a);
    return (fresh[needed - 1] ?? Number.NEGATIVE_INFINITY) + this.holdMs;
  }
}

interface Watched {
  /** When this epoch of the subject came to our notice, or we were last heard from it. */
  lastHeard: number;
  /** The highest epoch of the subject seen in a ping or its Lease. */
  epoch: number;
}

/**
 * The speakers whose configuration lists us, and when we last heard from each (rule 3). What
 * we declared dead stays dead even after we stop watching: acking it again would let a holder
 * count us after a verdict.
 */
export class QuietMonitor {
  readonly #watched = new Map<string, Watched>();
  readonly #dead = new Map<string, number>();

  constructor(private readonly quietMs: number) {}

  /** Starts watching `subject` at `epoch`; a new epoch of a watched one gets its own quiet time. */
  watch(subject: string, epoch: number, now: number): void {
    const w = this.#watched.get(subject);
    if (!w) this.#watched.set(subject, { lastHeard: now, epoch });
    else if (epoch > w.epoch) {
      w.epoch = epoch;
      w.lastHeard = Math.max(w.lastHeard, now);
    }
  }

  /** Stops watching (its configuration no longer lists us, or its Lease is gone). */
  unwatch(subject: string): void {
    this.#watched.delete(subject);
  }

  /** The subjects watched. */
  subjects(): string[] {
    return [...this.#watched.keys()];
  }

  /**
   * A ping from `subject` at `epoch`: true when we accept it (and ack it as contact); false
   * when we declared that epoch dead, which the ack then tells the pinger.
   */
  heard(subject: string, epoch: number, now: number): boolean {
    if (epoch <= this.deadThrough(subject)) return false;
    const w = this.#watched.get(subject);
    if (!w) this.#watched.set(subject, { lastHeard: now, epoch });
    else {
      if (epoch > w.epoch) w.epoch = epoch;
      w.lastHeard = Math.max(w.lastHeard, now);
    }
    return true;
  }

  /** Gives every watched speaker a fresh quiet time from `now` (after our own stall). */
  forgive(now: number): void {
    for (const w of this.#watched.values()) w.lastHeard = Math.max(w.lastHeard, now);
  }

  /** The highest epoch of `subject` we declared dead, 0 for none. */
  deadThrough(subject: string): number {
    return this.#dead.get(subject) ?? 0;
  }

  /** Declares every subject quiet for the quiet time; each declaration is made once per epoch. */
  due(now: number): { subject: string; epoch: number }[] {
    const declared: { subject: string; epoch: number }[] = [];
    for (const [subject, w] of this.#watched) {
      if (w.epoch <= this.deadThrough(subject) || now - w.lastHeard < this.quietMs) continue;
      this.#dead.set(subject, w.epoch);
      declared.push({ subject, epoch: w.epoch });
    }
    return declared;
  }

  /** The earliest time a subject not yet declared becomes quiet, or +Infinity. */
  nextDue(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const [subject, w] of this.#watched) if (w.epoch > this.deadThrough(subject)) next = Math.min(next, w.lastHeard + this.quietMs);
    return next;
  }
}

/** Declarations and abandons received, and the verdicts they make (rule 4). Permanent. */
export class Verdicts {
  readonly #declared = new Map<string, Map<string, number>>();
  readonly #abandoned = new Map<string, number>();

  /** `declarer` declared `subject`'s epochs through `epoch` dead; true when that is news. */
  declare(declarer: string, subject: string, epoch: number): boolean {
    if (declarer === subject) return false;
    let bySubject = this.#declared.get(subject);
    if (!bySubject) this.#declared.set(subject, (bySubject = new Map<string, number>()));
    if ((bySubject.get(declarer) ?? 0) >= epoch) return false;
    bySubject.set(declarer, epoch);
    return true;
  }

  /** `subject` abandoned its epochs through `epoch`; true when that is news. */
  abandon(subject: string, epoch: number): boolean {
    if ((this.#abandoned.get(subject) ?? 0) >= epoch) return false;
    this.#abandoned.set(subject, epoch);
    return true;
  }

  /** Whether the claims `subject` made at `epoch` with configuration `members` are void. */
  isVoid(subject: string, epoch: number, members: readonly string[]): boolean {
    if ((this.#abandoned.get(subject) ?? 0) >= epoch) return true;
    const others = new Set(members.filter((m) => m !== subject));
    const declarers = this.#declared.get(subject);
    if (!declarers) return false;
    let count = 0;
    for (const [declarer, through] of declarers) if (others.has(declarer) && through >= epoch) count++;
    return count >= verdictSizeOf(others.size + 1);
  }

  /** The declarations held about `subject`, for status. */
  declarers(subject: string): ReadonlyMap<string, number> {
    return this.#declared.get(subject) ?? new Map();
  }
}
