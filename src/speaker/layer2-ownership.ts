// Runs the layer-2 ownership of one speaker (ADR 0017; ADR 0013 for one or two speakers):
// keeps the node's Lease, follows the other speakers' Leases and the peer channel, decides with
// decideLayer2, confirms claims by a consistent read, and tells its hooks when to start and
// stop answering for a VIP. It never answers past its right to: the hooks' gate (mayAnswer) is
// asked before every frame, and a timer silences everything the moment that right ends.
import type { PeerMesh, PeerTimers } from '../../speakers/peer/mesh.js';
import { NEVER } from '../../speakers/peer/codec.js';
import { confirmClaim, decideLayer2, rendezvousScore, type ClaimReason } from './layer2-election.js';
import { LeaseObserver, type SpeakerLeaseRecord } from './lease-clock.js';
import { isPeerQuorumRecord, leaseRecordFrom, type SpeakerLease, type SpeakerLeaseObject, type SpeakerLeaseState } from './speaker-lease.js';

/** What the election drives: the layer-2 speakers and the status reporting. */
export interface OwnershipHooks {
  /** Start answering for the VIP (announce burst, reply to requests). */
  answer(vip: string): void;
  /** Stop answering for the VIP at once. */
  silence(vip: string, reason: ClaimReason | 'stopping'): void;
  /** A note for the log. */
  log?(message: string, fields: Record<string, unknown>): void;
  /** The API server answers again after an outage of about `outageMs` that these VIPs were kept through. */
  keptThroughOutage?(vips: readonly string[], outageMs: number): void;
}

/** Timings of the peer-quorum ownership (ADR 0017), in milliseconds. */
export interface OwnershipTiming {
  /** A Lease in a configuration of three or more is rewritten at least this often... */
  readonly peerRenewMs: number;
  /**
   * ...or, past peerRenewMs / this many speakers, this often times the number of speakers, so
   * that the watch events every speaker's renewals cause stay linear in the speakers (ADR 0017).
   */
  readonly peerRenewPerSpeakerMs: number;
  /** A holder whose API requests failed this long, while a member reached the API, steps down. */
  readonly stepDownAfterMs: number;
  /** A peer's API success counts for step-down only this long after our first failure. */
  readonly stepDownMarginMs: number;
  /**
   * A speaker whose Lease has not changed this long, while the API answered us, leaves
   * configurations; stretched in proportion when renewals are (peerRenewPerSpeakerMs).
   */
  readonly memberTimeoutMs: number;
  /** The largest configuration: the speaker and this many minus one others. */
  readonly maxMembers: number;
}

/** Defaults of ADR 0017. */
export const defaultOwnershipTiming: OwnershipTiming = { peerRenewMs: 30_000, peerRenewPerSpeakerMs: 300, stepDownAfterMs: 1500, stepDownMarginMs: 250, memberTimeoutMs: 90_000, maxMembers: 7 };

/**
 * How often a speaker in a configuration of three or more rewrites its Lease when nothing
 * changed, with `speakers` Leases observed: every 30 s up to 100 speakers, then 300 ms per
 * speaker. Renewals then cost min(N/30, 3.3) writes/s and N × min(N/30, 3.3) watch events/s
 * cluster-wide (every speaker watches every Lease): linear in N past 100 (ADR 0017).
 */
export function peerRenewIntervalMs(timing: OwnershipTiming, speakers: number): number {
  return Math.max(timing.peerRenewMs, speakers * timing.peerRenewPerSpeakerMs);
}

/** How long a silent member stays in configurations: the same multiple of the renewal interval. */
export function memberTimeoutMs(timing: OwnershipTiming, speakers: number): number {
  return (timing.memberTimeoutMs * peerRenewIntervalMs(timing, speakers)) / timing.peerRenewMs;
}

/** What the speaker sees about its right to answer, for status and metrics. */
export interface OwnershipStatus {
  readonly mode: 'peer-quorum' | 'lease';
  readonly epoch: number;
  readonly members: readonly string[];
  readonly contacts: readonly string[];
  readonly holding: boolean;
  readonly apiOkAgeMs: number | undefined;
}

/** Newly confirmed VIPs answered in one go; a larger batch is answered in slices of this size. */
const answerSlice = 200;

/** Node's timers (the renewal loop keeps the process alive; as before, it is not unref'd). */
const realTimers: PeerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The election loop of one speaker. */
export class Layer2Ownership {
  readonly observer = new LeaseObserver();
  readonly #pending = new Set<string>();
  readonly #confirmed = new Set<string>();
  /** Confirmed VIPs the hooks were told to answer for (a large batch is told in slices). */
  readonly #answered = new Set<string>();
  readonly #timing: OwnershipTiming;
  #vips = new Map<string, ReadonlySet<string>>();
  /** VIPs we would answer for but for our link (ADR 0022), and what our last accepted write said of them. */
  #declined: ReadonlySet<string> = new Set();
  #declinedWritten: ReadonlySet<string> = new Set();
  readonly #timers: PeerTimers;
  #renewTimer: unknown;
  #expiryTimer: unknown;
  #peerTimer: unknown;
  #deciding: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  /** The epoch of our next write; 0 until our previous one has been read. */
  #epoch = 0;
  /** Every epoch up to this one has had its claims dropped. */
  #droppedThrough = 0;
  /** What the last accepted write said. */
  #recorded: { readonly epoch: number; readonly members: readonly string[]; readonly claims: number } | undefined;
  /** The configuration our writes carry; changed only with a new epoch (rule 7). */
  #members: readonly string[] = [];
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #outageNoted = false;
  /** The VIPs held when an API outage was noted, for the Event once it ends. */
  readonly #keptThroughOutage = new Set<string>();
  /** How many claims this speaker confirmed (metric). */
  elections = 0;
  /** The reason per VIP from the last decision (for status). */
  reasons = new Map<string, { readonly reason: ClaimReason; readonly owner?: string | undefined }>();

  constructor(
    private readonly lease: SpeakerLease,
    private readonly clock: () => number,
    private readonly hooks: OwnershipHooks,
    private readonly peer?: PeerMesh,
    timing: Partial<OwnershipTiming> = {},
    timers: PeerTimers = realTimers,
  ) {
    this.#timing = { ...defaultOwnershipTiming, ...timing };
    this.#timers = timers;
  }

  /** The VIPs answered for now: confirmed, and handed to the hooks (a large batch goes in slices). */
  held(): ReadonlySet<string> {
    return this.#answered;
  }

  /** Starts renewing and deciding. */
  start(): void {
    this.#stopped = false;
    this.peer?.start();
    const tick = (): void => {
      void this.#tick().finally(() => {
        if (!this.#stopped) this.#renewTimer = this.#timers.setTimeout(tick, this.lease.timing.renewIntervalMs);
      });
    };
    tick();
  }

  /**
   * Replaces the set of layer-2 VIPs with the nodes eligible for each, and the VIPs this node
   * declines for want of a link (published in our Lease so the others pass us over), and
   * decides again.
   */
  setVips(vips: Map<string, ReadonlySet<string>>, declined: ReadonlySet<string> = new Set()): void {
    this.#vips = vips;
    this.#declined = declined;
    this.decideSoon();
  }

  /** A speaker Lease was added or changed (from the watch). */
  observeLease(object: SpeakerLeaseObject): void {
    const record = leaseRecordFrom(object);
    if (!record || record.node === this.lease.node) return;
    this.observer.observe(record, this.clock());
    this.#syncPeer();
    this.decideSoon();
  }

  /** A speaker Lease was deleted. */
  forgetLease(object: SpeakerLeaseObject): void {
    const record = leaseRecordFrom(object);
    if (!record || record.node === this.lease.node) return;
    this.observer.forget(record.node);
    this.#syncPeer();
    this.decideSoon();
  }

  /** The peer channel reported a change (contact, a declaration, an abandon). */
  peerChanged(): void {
    this.#enforceValidity();
    this.decideSoon();
  }

  /**
   * Whether this speaker may answer for `vip` now: asked before every frame. True only for a
   * confirmed claim of the current epoch while the speaker holds (ADR 0017 rule 2) or, in a
   * configuration of one or two, while its Lease is valid (ADR 0013).
   */
  mayAnswer(vip: string): boolean {
    return this.#confirmed.has(vip) && this.#valid(this.clock());
  }

  /** What this speaker sees of its configuration, for status and metrics. */
  status(): OwnershipStatus {
    const now = this.clock();
    const members = this.#recorded?.members ?? [];
    return {
      mode: this.#peerMode() ? 'peer-quorum' : 'lease',
      epoch: this.#recorded?.epoch ?? 0,
      members,
      contacts: this.peer ? this.peer.contact.contacts(members, now, this.#recorded?.epoch) : [],
      holding: this.#valid(now),
      apiOkAgeMs: Number.isFinite(this.lease.apiOkAt) ? Math.round(now - this.lease.apiOkAt) : undefined,
    };
  }

  /** Planned stop: silence everything, then release the Lease so peers take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of [this.#renewTimer, this.#expiryTimer, this.#peerTimer]) this.#timers.clearTimeout(timer);
    this.#silenceAll('stopping');
    this.#pending.clear();
    // The abandon lets peers take over even when the release below cannot reach the API.
    if (this.peer && this.#recorded) this.peer.abandon(this.#recorded.epoch);
    await this.#deciding?.catch(() => undefined);
    await this.lease.write(() => ({ claims: new Set(), held: new Set(), epoch: this.#epoch, members: [] }), true);
    this.peer?.stop();
  }

  /** Runs a decision after the current one, coalescing bursts of events. */
  decideSoon(): void {
    if (this.#stopped) return;
    if (this.#deciding) {
      this.#again = true;
      return;
    }
    this.#deciding = (async () => {
      do {
        this.#again = false;
        await this.#decide();
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#deciding = undefined;
    });
  }

  /** Whether our recorded configuration has three or more members and a peer channel. */
  #peerMode(): boolean {
    return this.peer !== undefined && (this.#recorded?.members.length ?? 0) >= 3;
  }

  #valid(now: number): boolean {
    const recorded = this.#recorded;
    if (!recorded || recorded.epoch <= this.#droppedThrough) return false;
    if (!this.#peerMode() || !this.peer) return this.lease.own.isValid(now);
    // A member that declared our epoch dead counts no more as contact for it, even when it acks
    // our pings of a later epoch; one declaration alone ends nothing (a verdict needs several).
    return now < this.peer.contact.holdsUntil(this.lease.node, recorded.members, recorded.epoch);
  }

  async #tick(): Promise<void> {
    if (this.#epoch === 0) {
      // Our previous incarnation's epoch is in the Lease; ours must be higher (ADR 0017).
      try {
        const own = await this.lease.readOwn();
        if (this.#stopped) return;
        const previous = own?.metadata ? (leaseRecordFrom(own)?.epoch ?? 0) : 0;
        this.#epoch = previous + 1;
        this.#droppedThrough = previous;
      } catch (error) {
        this.hooks.log?.('cannot read our own Lease yet', { error: String(error) });
        return;
      }
    }
    this.#enforceValidity();
    const now = this.clock();
    const members = this.#desiredMembers(now);
    const recorded = this.#recorded;
    // Ping a new configuration before recording it, and record it only once it would hold,
    // so a configuration change never costs the VIPs (rule 7).
    this.peer?.setMembers(union(recorded?.members ?? [], members));
    const changed = !recorded || (!sameMembers(recorded.members, members) && this.#couldHold(members, now));
    if (changed && recorded && recorded.epoch >= this.#epoch) this.#epoch = recorded.epoch + 1;
    if (changed) this.#members = members;
    const leaseMode = this.peer === undefined || members.length < 3 || (recorded?.members.length ?? 0) < 3;
    // An epoch that has ended (we dropped it, or peers declared it dead) is replaced by a new
    // one as soon as the new one could hold, and at once when the Lease still shows claims.
    const ended = recorded !== undefined && (recorded.epoch <= this.#droppedThrough || (this.peer?.deadToPeers ?? 0) >= recorded.epoch);
    if (ended) {
      this.#epoch = Math.max(this.#epoch, this.#droppedThrough + 1, (this.peer?.deadToPeers ?? 0) + 1);
      this.peer?.setEpoch(this.#epoch);
    }
    const renew = ended && (recorded.claims > 0 || this.#couldHold(this.#members, now));
    if (leaseMode || changed || renew || now - this.#lastWriteAt >= this.#renewIntervalMs()) {
      if (await this.#write()) this.#armExpiry();
    } else {
      // Not awaited: one slow answer must not hold up the next probe, or a single request
      // stuck until its timeout would look like an API outage of this node (rule 6).
      void this.lease.readOwn().catch(() => undefined);
    }
    this.#checkApi();
    this.decideSoon();
  }

  #renewIntervalMs(): number {
    return peerRenewIntervalMs(this.#timing, this.observer.size);
  }

  #memberTimeoutMs(): number {
    return memberTimeoutMs(this.#timing, this.observer.size);
  }

  /** Whether a new epoch with these members would hold now (always, for one or two). */
  #couldHold(members: readonly string[], now: number): boolean {
    if (!this.peer || members.length < 3) return true;
    return now < this.peer.contact.holdsUntil(this.lease.node, members, this.#epoch);
  }

  /** The configuration we would record now: ourselves and the best-ranked other speakers. */
  #desiredMembers(now: number): string[] {
    if (!this.peer) return [this.lease.node];
    const timeoutMs = this.#memberTimeoutMs();
    const apiSteady = now - (this.lease.lastFailureAt ?? Number.NEGATIVE_INFINITY) > timeoutMs;
    const candidates = this.observer.records().filter((record) => {
      if (record.node === this.lease.node || record.holderIdentity === '' || !record.peer) return false;
      if (this.#isVoid(record)) return false;
      const age = now - (this.observer.changedAt(record.node) ?? now);
      return !(apiSteady && age > timeoutMs);
    });
    const self = this.lease.node;
    const chosen = candidates
      .map((record) => record.node)
      .sort((a, b) => {
        const sa = rendezvousScore(a, self);
        const sb = rendezvousScore(b, self);
        return sa === sb ? (a < b ? -1 : 1) : sa > sb ? -1 : 1;
      })
      .slice(0, this.#timing.maxMembers - 1);
    return [self, ...chosen].sort();
  }

  /** Whether a record's claims are void (ADR 0017 rule 5, or ADR 0013 expiry for one or two). */
  #isVoid(record: SpeakerLeaseRecord): boolean {
    if (record.holderIdentity === '') return true;
    if (isPeerQuorumRecord(record)) return this.peer ? this.peer.verdicts.isVoid(record.node, record.epoch, record.members) : false;
    return !this.observer.isLive(record.node, this.clock());
  }

  /** Other speakers whose claims stand, for the decision and the confirmation read. */
  #standingOthers(): SpeakerLeaseRecord[] {
    return this.observer.records().filter((record) => record.node !== this.lease.node && !this.#isVoid(record));
  }

  /** The peers whose Lease still shows claims we hold void, with that epoch: what we may take over. */
  #voids(): Map<string, number> {
    const voids = new Map<string, number>();
    for (const record of this.observer.records()) {
      if (record.node !== this.lease.node && record.claims.size > 0 && isPeerQuorumRecord(record) && this.#isVoid(record)) voids.set(record.node, record.epoch);
    }
    return voids;
  }

  /** Tells the peer channel where every speaker listens and which ones list us. */
  #syncPeer(): void {
    if (!this.peer) return;
    const now = this.clock();
    const endpoints = new Map<string, { address: string; port: number }>();
    for (const record of this.observer.records()) {
      if (record.peer && record.holderIdentity !== '') endpoints.set(record.node, record.peer);
      if (record.members.includes(this.lease.node) && record.holderIdentity !== '') this.peer.quiet.watch(record.node, record.epoch, now);
      else this.peer.quiet.unwatch(record.node);
    }
    this.peer.setEndpoints(endpoints);
  }

  /** Writes our Lease with the state of the moment it is sent; true when the server accepted it. */
  #write(): Promise<boolean> {
    const state = (): SpeakerLeaseState => ({
      claims: new Set([...this.#pending, ...this.#confirmed]),
      held: new Set(this.#answered),
      epoch: this.#epoch,
      members: this.#members.length > 0 ? this.#members : [this.lease.node],
      voids: this.#voids(),
      declined: this.#declined,
    });
    return this.lease.write(state).then(({ ok, state: sent, sentAt }) => {
      if (!ok || !sent) return false;
      this.#lastWriteAt = sentAt;
      this.#declinedWritten = sent.declined ?? new Set();
      // A write whose epoch was dropped while it was in flight carries nothing (rule 7).
      if (!this.#recorded || sent.epoch >= this.#recorded.epoch) {
        this.#recorded = { epoch: sent.epoch, members: sent.members, claims: sent.claims.size };
        this.peer?.setEpoch(sent.epoch);
      }
      return true;
    });
  }

  /** Steps down when our API requests fail while a member of our configuration reaches the API (rule 6). */
  #checkApi(): void {
    if (!this.peer || !this.#peerMode() || !this.#recorded) return;
    const now = this.clock();
    const failingSince = this.lease.apiFailingSince;
    const failing = failingSince !== undefined && failingSince > this.lease.apiOkAt;
    if (!failing) {
      if (this.#outageNoted) {
        const kept = [...this.#confirmed].filter((vip) => this.#keptThroughOutage.has(vip));
        const outageMs = Math.round(this.lease.apiOkAt - (failingSince ?? this.lease.apiOkAt));
        this.hooks.log?.('API server reachable again; VIPs kept through the outage', { vips: kept, outageMs });
        if (kept.length > 0) this.hooks.keptThroughOutage?.(kept, outageMs);
      }
      this.#outageNoted = false;
      this.#keptThroughOutage.clear();
      return;
    }
    if (now - this.lease.apiOkAt < this.#timing.stepDownAfterMs) return;
    // A member reached the API after our failures began, and one of ours failed after that: the
    // API works, for others. (A member's success alone is not enough: while an API server comes
    // back, its first answers reach some nodes before others.)
    const lastFailure = this.lease.lastFailureAt ?? Number.NEGATIVE_INFINITY;
    if (this.peer.peerReachedApiAfter(failingSince + this.#timing.stepDownMarginMs, lastFailure - this.#timing.stepDownMarginMs)) {
      const epoch = this.#recorded.epoch;
      if (this.#drop('api-unreachable')) {
        this.hooks.log?.('API server unreachable from this node but not from its peers: stepped down', { epoch });
        this.peer.abandon(epoch);
      }
    } else if (!this.#outageNoted && this.#confirmed.size > 0 && this.#valid(now)) {
      this.#outageNoted = true;
      for (const vip of this.#confirmed) this.#keptThroughOutage.add(vip);
      this.hooks.log?.('API server unreachable; keeping our VIPs while a majority of our configuration is in contact', {
        vips: [...this.#confirmed],
        contacts: this.peer.contact.contacts(this.#recorded.members, now, this.#recorded.epoch),
      });
    }
  }

  /** Silences everything when we may no longer answer; the next write then claims nothing. */
  #enforceValidity(): void {
    if (this.#valid(this.clock())) return;
    this.#drop(this.#peerMode() ? 'lost-peer-quorum' : 'own-lease-invalid');
  }

  /**
   * Silences every VIP and ends the epoch we answered in; false when there was nothing to end.
   * With confirmed claims, an epoch still in flight (a configuration change carrying them) ends
   * too (rule 7). Unconfirmed claims are left alone: they are confirmed only while valid.
   */
  #drop(reason: ClaimReason): boolean {
    const recorded = this.#recorded;
    const recordedLive = recorded !== undefined && recorded.epoch > this.#droppedThrough;
    const answering = this.#confirmed.size > 0;
    if (!recordedLive && !answering) return false;
    if (answering) this.hooks.log?.('stopped answering', { reason, vips: [...this.#confirmed], epoch: recorded?.epoch });
    this.#silenceAll(reason);
    this.#droppedThrough = Math.max(this.#droppedThrough, recorded?.epoch ?? 0, answering ? this.#epoch : 0);
    this.#epoch = Math.max(this.#epoch, this.#droppedThrough + 1);
    // Pings go on in the next epoch: members refuse to ack the ended one, and without acks
    // the next one could never be recorded.
    this.peer?.setEpoch(this.#epoch);
    return true;
  }

  #armExpiry(): void {
    this.#timers.clearTimeout(this.#expiryTimer);
    // A renewal that was in flight when stop() began must not arm it again: after a planned
    // stop nothing may keep the process alive (it once held the exit for the 1.6 s validity).
    if (this.#stopped) return;
    const now = this.clock();
    const until = this.#peerMode() && this.peer && this.#recorded ? this.peer.contact.holdsUntil(this.lease.node, this.#recorded.members, this.#recorded.epoch) : this.lease.own.validUntil;
    if (!Number.isFinite(until)) return;
    this.#expiryTimer = this.#timers.setTimeout(() => {
      this.#enforceValidity();
      if (this.#valid(this.clock())) this.#armExpiry();
    }, Math.max(0, until - now) + 1);
  }

  async #decide(): Promise<void> {
    this.#enforceValidity();
    this.#armExpiry();
    const now = this.clock();
    const decision = decideLayer2({
      self: this.lease.node,
      selfValid: this.#valid(now),
      ownClaims: this.#confirmed,
      others: this.#standingOthers(),
      vips: this.#vips,
    });
    this.reasons = new Map(decision.reasons);
    for (const vip of decision.retract) {
      this.#confirmed.delete(vip);
      if (this.#answered.delete(vip)) this.hooks.silence(vip, decision.reasons.get(vip)?.reason ?? 'vip-gone');
    }
    if ((decision.retract.length > 0 || !sameSet(this.#declined, this.#declinedWritten)) && (await this.#write())) this.#armExpiry();
    if (decision.claim.length > 0 && !this.#stopped) await this.#claim(decision.claim);
    this.#armPeerTimer();
  }

  /** Writes the claims, reads every Lease from etcd, and answers for those that stand. */
  async #claim(vips: readonly string[]): Promise<void> {
    for (const vip of vips) this.#pending.add(vip);
    const epoch = this.#epoch;
    let standing: string[] = [];
    if (await this.#write()) {
      this.#armExpiry();
      try {
        const readAt = this.clock();
        for (const object of await this.lease.listAll()) {
          const record = leaseRecordFrom(object);
          if (record && record.node !== this.lease.node) this.observer.observe(record, readAt);
        }
        this.#syncPeer();
        const others = this.#standingOthers();
        standing = vips.filter((vip) => confirmClaim(vip, this.lease.node, others));
      } catch (error) {
        this.hooks.log?.('claim confirmation read failed', { error: String(error) });
      }
    }
    for (const vip of vips) this.#pending.delete(vip);
    // The claims count only in the epoch they were written in, and only while we may answer.
    if (this.#stopped || this.#epoch !== epoch || this.#recorded?.epoch !== epoch || !this.#valid(this.clock())) standing = [];
    for (const vip of standing) {
      this.#confirmed.add(vip);
      this.elections++;
    }
    await this.#answerInSlices(standing);
    if (vips.length > standing.length) {
      const stood = new Set(standing);
      this.hooks.log?.('claim withdrawn: another node claimed first, or we may not answer now', { vips: vips.filter((v) => !stood.has(v)) });
    }
    if (await this.#write()) this.#armExpiry();
  }

  /**
   * Tells the hooks to answer for newly confirmed VIPs. Each answer costs a burst of frames, a
   * log line and an Event: a batch of thousands at once would stall the event loop past the
   * peers' ping timeout, they would declare us dead, and every claim would be lost and made
   * again, forever (issue 18, 5,000 VIPs). So a large batch goes in slices, with the event loop
   * free between them; a VIP silenced or retracted meanwhile is skipped.
   */
  async #answerInSlices(vips: readonly string[]): Promise<void> {
    for (let from = 0; from < vips.length; from += answerSlice) {
      if (from > 0) await new Promise((resolve) => setImmediate(resolve));
      // The right to answer may have ended between slices, before its timer silenced us.
      if (this.#stopped || !this.#valid(this.clock())) return;
      for (const vip of vips.slice(from, from + answerSlice)) {
        if (!this.#confirmed.has(vip) || this.#answered.has(vip)) continue;
        this.#answered.add(vip);
        this.hooks.answer(vip);
      }
    }
  }

  /** Silences every VIP answered for and forgets every confirmed claim. */
  #silenceAll(reason: ClaimReason | 'stopping'): void {
    for (const vip of this.#answered) this.hooks.silence(vip, reason);
    this.#answered.clear();
    this.#confirmed.clear();
  }

  /** Decides again when a one- or two-member peer's claim would expire, since no event announces that. */
  #armPeerTimer(): void {
    this.#timers.clearTimeout(this.#peerTimer);
    if (this.#stopped) return;
    const now = this.clock();
    let next = Number.POSITIVE_INFINITY;
    for (const record of this.observer.liveRecords(now, this.lease.node)) {
      if (record.claims.size === 0 || isPeerQuorumRecord(record)) continue;
      next = Math.min(next, this.observer.expiresAt(record.node) ?? next);
    }
    if (Number.isFinite(next)) this.#peerTimer = this.#timers.setTimeout(() => this.decideSoon(), Math.max(0, next - now) + 1);
  }
}

/** Milliseconds since the send time of the last API success, as the peer channel carries it. */
export function apiOkAgeMs(lease: Pick<SpeakerLease, 'apiOkAt'>, now: number): number {
  return Number.isFinite(lease.apiOkAt) ? Math.min(NEVER - 1, Math.max(0, Math.round(now - lease.apiOkAt))) : NEVER;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((v) => b.has(v));
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((m, i) => m === b[i]);
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
