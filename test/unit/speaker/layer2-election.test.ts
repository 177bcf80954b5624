import { describe, expect, it } from 'vitest';
import { confirmClaim, decideLayer2, rendezvousWinner } from '../../../src/speaker/layer2-election.js';
import type { ElectionView } from '../../../src/speaker/layer2-election.js';
import { LeaseObserver, OwnLease } from '../../../src/speaker/lease-clock.js';
import type { SpeakerLeaseRecord } from '../../../src/speaker/lease-clock.js';

const nodes = ['node-a', 'node-b', 'node-c'];
const vip = '192.0.2.10';

function lease(node: string, claims: string[] = [], held: string[] = claims, declined: string[] = []): SpeakerLeaseRecord {
  return { node, resourceVersion: '1', holderIdentity: node, durationMs: 2000, claims: new Set(claims), held: new Set(held), declined: new Set(declined), epoch: 0, members: [] };
}

function view(self: string, others: SpeakerLeaseRecord[], ownClaims: string[] = [], eligible = nodes, selfValid = true): ElectionView {
  return { self, selfValid, ownClaims: new Set(ownClaims), others, vips: new Map([[vip, new Set(eligible)]]) };
}

describe('layer-2 election', () => {
  it('with no claim, exactly the rendezvous winner among live eligible nodes claims the VIP', () => {
    const winner = rendezvousWinner(vip, nodes);
    const claimers = nodes.filter((self) => decideLayer2(view(self, nodes.filter((n) => n !== self).map((n) => lease(n)))).claim.includes(vip));
    expect(claimers).toEqual([winner]);
  });

  it('spreads VIPs over nodes', () => {
    const owners = new Set(Array.from({ length: 64 }, (_, i) => rendezvousWinner(`10.0.0.${i}`, nodes)));
    expect(owners).toEqual(new Set(nodes));
  });

  it('does not take a VIP back when a higher-ranked node returns while the holder is eligible', () => {
    const winner = rendezvousWinner(vip, nodes)!;
    const holder = nodes.find((n) => n !== winner)!;
    const decision = decideLayer2(view(winner, [lease(holder, [vip])]));
    expect(decision.claim).toEqual([]);
    expect(decision.reasons.get(vip)).toEqual({ reason: 'held-by-other', owner: holder });
  });

  it('waits for an ineligible holder to release instead of claiming over it', () => {
    const [holder, other] = ['node-a', 'node-b'];
    const decision = decideLayer2(view(other, [lease(holder, [vip])], [], ['node-b', 'node-c']));
    expect(decision.claim).toEqual([]);
    expect(decision.reasons.get(vip)?.reason).toBe('waiting-for-release');
  });

  it('passes over a node whose Lease declines the VIP (its link is down), so the VIP does not wait for it', () => {
    const winner = rendezvousWinner(vip, nodes)!;
    const next = rendezvousWinner(vip, nodes.filter((n) => n !== winner))!;
    const others = (self: string, declines: boolean): SpeakerLeaseRecord[] => nodes.filter((n) => n !== self).map((n) => lease(n, [], [], n === winner && declines ? [vip] : []));
    expect(decideLayer2(view(next, others(next, false))).claim).toEqual([]);
    expect(decideLayer2(view(next, others(next, true))).claim).toEqual([vip]);
    // A holder that declines is about to retract: wait for it rather than claim over it.
    const holding = nodes.filter((n) => n !== next).map((n) => (n === winner ? lease(n, [vip], [vip], [vip]) : lease(n)));
    expect(decideLayer2(view(next, holding)).reasons.get(vip)).toEqual({ reason: 'waiting-for-release', owner: winner });
  });

  it('drops what it holds when its own Lease is no longer valid, or it becomes ineligible, or the VIP goes', () => {
    expect(decideLayer2(view('node-a', [], [vip], nodes, false)).retract).toEqual([vip]);
    expect(decideLayer2(view('node-a', [], [vip], ['node-b'])).retract).toEqual([vip]);
    const gone: ElectionView = { ...view('node-a', [], [vip]), vips: new Map() };
    expect(decideLayer2(gone).retract).toEqual([vip]);
  });

  it('keeps a VIP against a rival that has only claimed it, and yields a double hold to the higher rank', () => {
    const winner = rendezvousWinner(vip, nodes)!;
    const loser = nodes.find((n) => n !== winner)!;
    expect(decideLayer2(view(loser, [lease(winner, [vip], [])], [vip])).keep).toEqual([vip]);
    expect(decideLayer2(view(loser, [lease(winner, [vip], [vip])], [vip])).retract).toEqual([vip]);
    expect(decideLayer2(view(winner, [lease(loser, [vip], [vip])], [vip])).keep).toEqual([vip]);
  });

  it('confirms a claim only when no other live Lease claims the VIP, confirmed or not', () => {
    expect(confirmClaim(vip, 'node-a', [lease('node-b')])).toBe(true);
    expect(confirmClaim(vip, 'node-a', [lease('node-b', [vip], [])])).toBe(false);
  });
});

describe('lease clocks', () => {
  it('judges another Lease from when a change was observed, not from its own timestamps', () => {
    const observer = new LeaseObserver();
    observer.observe(lease('node-b'), 1000);
    observer.observe(lease('node-b'), 2500); // same resourceVersion: no renewal seen
    expect(observer.isLive('node-b', 2999)).toBe(true);
    expect(observer.isLive('node-b', 3000)).toBe(false);
    observer.observe({ ...lease('node-b'), resourceVersion: '2' }, 3100);
    expect(observer.isLive('node-b', 5000)).toBe(true);
    observer.observe({ ...lease('node-b'), resourceVersion: '3', holderIdentity: '' }, 5001);
    expect(observer.isLive('node-b', 5001)).toBe(false);
  });

  it('keeps our own Lease valid until one duration less the margin after the last accepted renewal was sent', () => {
    const own = new OwnLease(2000, 200);
    expect(own.isValid(0)).toBe(false);
    own.renewed(1000);
    own.renewed(500); // a slow reply to an older request does not shorten validity
    expect(own.isValid(2799)).toBe(true);
    expect(own.isValid(2800)).toBe(false);
    own.invalidate();
    expect(own.isValid(1500)).toBe(false);
    expect(() => new OwnLease(2000, 2000)).toThrow(RangeError);
  });
});
