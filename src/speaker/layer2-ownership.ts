// Runs the layer-2 election for one speaker (ADR 0013): renews the node's Lease, follows the
// other speakers' Leases, decides with decideLayer2, confirms claims by a consistent read, and
// tells its hooks when to start and stop answering for a VIP. It never answers past its own
// Lease's validity: a timer silences everything the moment validity ends.
import { confirmClaim, decideLayer2, type ClaimReason } from './layer2-election.js';
import { LeaseObserver } from './lease-clock.js';
import { leaseRecordFrom, type SpeakerLease, type SpeakerLeaseObject } from './speaker-lease.js';

/** What the election drives: the layer-2 speakers and the status reporting. */
export interface OwnershipHooks {
  /** Start answering for the VIP (announce burst, reply to requests). */
  answer(vip: string): void;
  /** Stop answering for the VIP at once. */
  silence(vip: string, reason: ClaimReason | 'stopping'): void;
  /** A note for the log. */
  log?(message: string, fields: Record<string, unknown>): void;
}

/** The election loop of one speaker. */
export class Layer2Ownership {
  readonly observer = new LeaseObserver();
  readonly #pending = new Set<string>();
  readonly #confirmed = new Set<string>();
  #vips = new Map<string, ReadonlySet<string>>();
  #renewTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #peerTimer: NodeJS.Timeout | undefined;
  #deciding: Promise<void> | undefined;
  #again = false;
  #stopped = true;
  /** How many claims this speaker confirmed (metric). */
  elections = 0;
  /** The reason per VIP from the last decision (for status). */
  reasons = new Map<string, { readonly reason: ClaimReason; readonly owner?: string | undefined }>();

  constructor(
    private readonly lease: SpeakerLease,
    private readonly clock: () => number,
    private readonly hooks: OwnershipHooks,
  ) {}

  /** The VIPs answered for now. */
  held(): ReadonlySet<string> {
    return this.#confirmed;
  }

  /** Starts renewing and deciding. */
  start(): void {
    this.#stopped = false;
    const tick = (): void => {
      void this.#renew().finally(() => {
        if (!this.#stopped) this.#renewTimer = setTimeout(tick, this.lease.timing.renewIntervalMs);
      });
    };
    tick();
  }

  /** Replaces the set of layer-2 VIPs with the nodes eligible for each, and decides again. */
  setVips(vips: Map<string, ReadonlySet<string>>): void {
    this.#vips = vips;
    this.decideSoon();
  }

  /** A speaker Lease was added or changed (from the watch). */
  observeLease(object: SpeakerLeaseObject): void {
    const record = leaseRecordFrom(object);
    if (!record || record.node === this.lease.node) return;
    this.observer.observe(record, this.clock());
    this.decideSoon();
  }

  /** A speaker Lease was deleted. */
  forgetLease(object: SpeakerLeaseObject): void {
    const record = leaseRecordFrom(object);
    if (!record || record.node === this.lease.node) return;
    this.observer.forget(record.node);
    this.decideSoon();
  }

  /** Planned stop: silence everything, then release the Lease so peers take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of [this.#renewTimer, this.#expiryTimer, this.#peerTimer]) clearTimeout(timer);
    for (const vip of this.#confirmed) this.hooks.silence(vip, 'stopping');
    this.#confirmed.clear();
    this.#pending.clear();
    await this.#deciding?.catch(() => undefined);
    await this.lease.write(new Set(), new Set(), true);
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

  async #renew(): Promise<void> {
    this.#enforceValidity();
    if (await this.#write()) this.#armExpiry();
    this.decideSoon();
  }

  #write(): Promise<boolean> {
    return this.lease.write(this.#pending, this.#confirmed);
  }

  /** Silences everything when our Lease is no longer valid; the next write then claims nothing. */
  #enforceValidity(): void {
    if (this.lease.own.isValid(this.clock())) return;
    if (this.#confirmed.size > 0) this.hooks.log?.('own Lease lapsed: stopped answering', { vips: [...this.#confirmed] });
    for (const vip of this.#confirmed) this.hooks.silence(vip, 'own-lease-invalid');
    this.#confirmed.clear();
    this.#pending.clear();
  }

  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    // A renewal that was in flight when stop() began must not arm it again: after a planned
    // stop nothing may keep the process alive (it once held the exit for the 1.6 s validity).
    if (this.#stopped) return;
    const wait = this.lease.own.validUntil - this.clock();
    this.#expiryTimer = setTimeout(() => this.#enforceValidity(), Math.max(0, wait) + 1);
  }

  async #decide(): Promise<void> {
    this.#enforceValidity();
    const now = this.clock();
    const decision = decideLayer2({
      self: this.lease.node,
      selfValid: this.lease.own.isValid(now),
      ownClaims: this.#confirmed,
      others: this.observer.liveRecords(now, this.lease.node),
      vips: this.#vips,
    });
    this.reasons = new Map(decision.reasons);
    for (const vip of decision.retract) {
      this.#confirmed.delete(vip);
      this.hooks.silence(vip, decision.reasons.get(vip)?.reason ?? 'vip-gone');
    }
    if (decision.retract.length > 0 && (await this.#write())) this.#armExpiry();
    if (decision.claim.length > 0 && !this.#stopped) await this.#claim(decision.claim);
    this.#armPeerTimer();
  }

  /** Writes the claims, reads every Lease from etcd, and answers for those that stand. */
  async #claim(vips: readonly string[]): Promise<void> {
    for (const vip of vips) this.#pending.add(vip);
    let standing: string[] = [];
    if (await this.#write()) {
      this.#armExpiry();
      try {
        const readAt = this.clock();
        for (const object of await this.lease.listAll()) {
          const record = leaseRecordFrom(object);
          if (record && record.node !== this.lease.node) this.observer.observe(record, readAt);
        }
        const others = this.observer.liveRecords(this.clock(), this.lease.node);
        standing = vips.filter((vip) => confirmClaim(vip, this.lease.node, others));
      } catch (error) {
        this.hooks.log?.('claim confirmation read failed', { error: String(error) });
      }
    }
    for (const vip of vips) this.#pending.delete(vip);
    if (this.#stopped || !this.lease.own.isValid(this.clock())) standing = [];
    for (const vip of standing) {
      this.#confirmed.add(vip);
      this.elections++;
      this.hooks.answer(vip);
    }
    if (vips.length > standing.length) this.hooks.log?.('claim withdrawn: another node claimed first', { vips: vips.filter((v) => !standing.includes(v)) });
    if (await this.#write()) this.#armExpiry();
  }

  /** Decides again when a peer holding a claim would expire, since no event announces that. */
  #armPeerTimer(): void {
    clearTimeout(this.#peerTimer);
    if (this.#stopped) return;
    const now = this.clock();
    let next = Number.POSITIVE_INFINITY;
    for (const record of this.observer.liveRecords(now, this.lease.node)) {
      if (record.claims.size === 0) continue;
      next = Math.min(next, this.observer.expiresAt(record.node) ?? next);
    }
    if (Number.isFinite(next)) this.#peerTimer = setTimeout(() => this.decideSoon(), Math.max(0, next - now) + 1);
  }
}
