// The layer-2 election protocol under random interleavings, crashes, partitions, planned
// stops and delayed watches: at no instant may two speakers answer for one VIP, and once the
// faults stop every VIP ends up answered by exactly one node. The API server is modelled as
// a linearizable store of Leases; each speaker runs decideLayer2/confirmClaim exactly as the
// runtime does (write claim, consistent read, confirm or withdraw).
import { describe, expect, it } from 'vitest';
import { confirmClaim, decideLayer2 } from '../../../src/speaker/layer2-election.js';
import { LeaseObserver, OwnLease } from '../../../src/speaker/lease-clock.js';
import type { LeaseRecord } from '../../../src/speaker/lease-clock.js';

const durationMs = 2000;
const marginMs = 200;
const nodeNames = ['a', 'b', 'c'];
const vips = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];

interface Speaker {
  readonly name: string;
  running: boolean;
  partitioned: boolean;
  eligible: boolean;
  observer: LeaseObserver;
  own: OwnLease;
  pending: Set<string>;
  confirmed: Set<string>;
}

class World {
  now = 0;
  revision = 0;
  readonly store = new Map<string, LeaseRecord>();
  readonly speakers: Speaker[];

  constructor(readonly random: () => number) {
    this.speakers = nodeNames.map((name) => this.fresh(name));
  }

  fresh(name: string): Speaker {
    return { name, running: true, partitioned: false, eligible: true, observer: new LeaseObserver(), own: new OwnLease(durationMs, marginMs), pending: new Set(), confirmed: new Set() };
  }

  /** A write of the speaker's own Lease; false when the API server is unreachable. */
  write(s: Speaker, holder = s.name): boolean {
    if (s.partitioned) return false;
    this.revision += 1;
    this.store.set(s.name, { node: s.name, resourceVersion: String(this.revision), holderIdentity: holder, durationMs, claims: new Set([...s.pending, ...s.confirmed]), held: new Set(s.confirmed), epoch: 0, members: [] });
    s.own.renewed(this.now);
    return true;
  }

  /** A consistent list: the speaker observes every Lease as stored now. */
  read(s: Speaker): boolean {
    if (s.partitioned) return false;
    for (const record of this.store.values()) if (record.node !== s.name) s.observer.observe(record, this.now);
    return true;
  }

  /** What a running speaker enforces on its own clock: nothing is answered past validity. */
  expire(s: Speaker): void {
    if (!s.own.isValid(this.now)) {
      s.confirmed.clear();
      s.pending.clear();
    }
  }

  renew(s: Speaker): void {
    this.expire(s);
    this.write(s);
  }

  decide(s: Speaker): void {
    this.expire(s);
    const eligibleNodes = new Set(this.speakers.filter((x) => x.eligible).map((x) => x.name));
    const decision = decideLayer2({
      self: s.name,
      selfValid: s.own.isValid(this.now),
      ownClaims: s.confirmed,
      others: s.observer.liveRecords(this.now, s.name),
      vips: new Map(vips.map((v) => [v, eligibleNodes])),
    });
    for (const v of decision.retract) s.confirmed.delete(v);
    if (decision.retract.length > 0) this.write(s);
    if (decision.claim.length === 0) return;
    for (const v of decision.claim) s.pending.add(v);
    if (!this.write(s)) {
      s.pending.clear();
      return;
    }
    // The confirmation read is a separate step: other speakers may act in between.
    this.later.push(() => this.confirm(s, decision.claim));
  }

  confirm(s: Speaker, claimed: readonly string[]): void {
    if (!s.running) return;
    this.expire(s);
    const ok = this.read(s);
    const others = s.observer.liveRecords(this.now, s.name);
    for (const v of claimed) {
      if (!s.pending.has(v)) continue;
      s.pending.delete(v);
      if (ok && s.own.isValid(this.now) && confirmClaim(v, s.name, others)) s.confirmed.add(v);
    }
    this.write(s);
  }

  readonly later: (() => void)[] = [];

  answering(v: string): string[] {
    return this.speakers.filter((s) => s.running && s.own.isValid(this.now) && s.confirmed.has(v)).map((s) => s.name);
  }

  /** A watch event for one Lease reaches one speaker (in any order, after any delay). */
  deliver(s: Speaker): void {
    if (s.partitioned || this.store.size === 0) return;
    const records = [...this.store.values()].filter((r) => r.node !== s.name);
    const record = records[Math.floor(this.random() * records.length)];
    if (record) s.observer.observe(record, this.now);
  }

  step(faults: boolean): void {
    this.now += Math.floor(this.random() * 250);
    const s = this.speakers[Math.floor(this.random() * this.speakers.length)]!;
    const roll = this.random();
    if (roll < 0.08 && this.later.length > 0) this.later.splice(Math.floor(this.random() * this.later.length), 1)[0]!();
    else if (!s.running) {
      if (roll < 0.15) Object.assign(s, this.fresh(s.name)); // restarted: knows nothing
    } else if (faults && roll < 0.11) {
      s.running = false; // SIGKILL: stops answering at once, its Lease stays as it was
    } else if (faults && roll < 0.14) {
      s.confirmed.clear(); // SIGTERM: stop answering, then release the Lease
      s.pending.clear();
      this.write(s, '');
      s.own.invalidate();
      s.running = false;
    } else if (faults && roll < 0.2) s.partitioned = !s.partitioned;
    else if (faults && roll < 0.24) s.eligible = !s.eligible;
    else if (roll < 0.45) this.renew(s);
    else if (roll < 0.75) this.deliver(s);
    else this.decide(s);
  }
}

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe('layer-2 election protocol (simulated API server)', () => {
  it('never lets two speakers answer for one VIP, through crashes, partitions and planned stops', () => {
    let maxHolders = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const world = new World(seeded(seed));
      for (let i = 0; i < 400; i++) {
        world.step(true);
        for (const v of vips) {
          const holders = world.answering(v);
          maxHolders = Math.max(maxHolders, holders.length);
          if (holders.length > 1) expect.fail(`seed ${seed} step ${i} t=${world.now}: ${v} answered by ${holders.join(', ')}`);
        }
      }
    }
    expect(maxHolders).toBe(1);
  });

  it('settles every VIP on exactly one node once faults stop', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const world = new World(seeded(seed));
      for (let i = 0; i < 200; i++) world.step(true);
      for (const s of world.speakers) {
        if (!s.running) Object.assign(s, world.fresh(s.name));
        s.partitioned = false;
        s.eligible = true;
      }
      for (let i = 0; i < 600; i++) world.step(false);
      // Let pending confirmations finish and one more round run everywhere.
      while (world.later.length > 0) world.later.shift()!();
      for (const s of world.speakers) world.renew(s);
      for (const s of world.speakers) world.read(s);
      for (const s of world.speakers) world.decide(s);
      while (world.later.length > 0) world.later.shift()!();
      for (const v of vips) expect(world.answering(v), `seed ${seed}, ${v}`).toHaveLength(1);
    }
  });
});
