// The rules of ADR 0017 as plain state: quorum sizes, timings, contact and holding (rules 1-2),
// quiet and declarations (rule 3), verdicts (rule 4). The safety claim is in quorum-safety.test.ts.
import { describe, expect, it } from 'vitest';
import { ContactTracker, defaultPeerTiming, peerTimingProblems, QuietMonitor, quorumOf, Verdicts, verdictSizeOf } from '../../../speakers/peer/quorum.js';

describe('quorum and verdict sizes', () => {
  it.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 2, 2],
    [4, 3, 2],
    [5, 3, 3],
    [6, 4, 3],
    [7, 4, 4],
    [8, 5, 4],
  ])('a configuration of %i holds with %i and is judged by %i declarations', (n, q, s) => {
    expect(quorumOf(n)).toBe(q);
    expect(verdictSizeOf(n)).toBe(s);
  });

  it.each([2, 3, 4, 5, 6, 7, 8])('for %i, two quorums intersect and s declarers leave the holder q - 2 others', (n) => {
    expect(2 * quorumOf(n)).toBeGreaterThan(n);
    // The ADR's arithmetic: after s of the n - 1 others declared, at most q - 2 can be in contact.
    expect(n - 1 - verdictSizeOf(n)).toBe(quorumOf(n) - 2);
  });
});

describe('peer timings', () => {
  it('accepts the defaults of 50, 200 and 300 ms', () => {
    expect(defaultPeerTiming).toEqual({ pingIntervalMs: 50, holdMs: 200, quietMs: 300 });
    expect(peerTimingProblems(defaultPeerTiming)).toEqual([]);
  });

  it.each([
    ['a quiet time equal to the hold time', { pingIntervalMs: 50, holdMs: 300, quietMs: 300 }, 'the quiet time must exceed the hold time by at least 50 ms'],
    ['a quiet time shorter than the hold time', { pingIntervalMs: 50, holdMs: 300, quietMs: 200 }, 'the quiet time must exceed the hold time by at least 50 ms'],
    ['a hold time no longer than the ping interval', { pingIntervalMs: 50, holdMs: 50, quietMs: 300 }, 'the hold time must be longer than the ping interval'],
    ['a ping interval of zero', { pingIntervalMs: 0, holdMs: 200, quietMs: 300 }, 'the ping interval must be positive'],
    ['a NaN quiet time', { pingIntervalMs: 50, holdMs: 200, quietMs: Number.NaN }, 'the quiet time must exceed the hold time by at least 50 ms'],
  ])('refuses %s', (_why, timing, problem) => {
    expect(peerTimingProblems(timing)).toContain(problem);
  });
});

describe('ContactTracker: contact and holding (rules 1 and 2)', () => {
  it('counts an accepted ack of our own ping for the hold time after the ping was sent', () => {
    const c = new ContactTracker(200);
    c.sent(1, 'b', 100);
    expect(c.inContact('b', 100)).toBe(false);
    // The ack arrives late; contact still runs from the ping's send time, not the ack's arrival.
    expect(c.acked('b', 1, true)).toBe(true);
    expect(c.inContact('b', 150)).toBe(true);
    expect(c.inContact('b', 299)).toBe(true);
    expect(c.inContact('b', 300)).toBe(false);
  });

  it('ignores an ack from a member the ping was not sent to', () => {
    const c = new ContactTracker(200);
    c.sent(1, 'b', 0);
    expect(c.acked('c', 1, true)).toBe(false);
    expect(c.inContact('c', 10)).toBe(false);
    expect(c.inContact('b', 10)).toBe(false);
  });

  it('ignores an ack for a sequence we never sent', () => {
    const c = new ContactTracker(200);
    c.sent(1, 'b', 0);
    expect(c.acked('b', 2, true)).toBe(false);
    expect(c.inContact('b', 10)).toBe(false);
  });

  it('ignores an ack that does not accept our epoch', () => {
    const c = new ContactTracker(200);
    c.sent(1, 'b', 0);
    expect(c.acked('b', 1, false)).toBe(false);
    expect(c.inContact('b', 10)).toBe(false);
    // A later accepted ack of the same ping still counts.
    expect(c.acked('b', 1, true)).toBe(true);
    expect(c.inContact('b', 10)).toBe(true);
  });

  it('forgets pings older than the hold time, so their acks no longer count', () => {
    const c = new ContactTracker(200);
    c.sent(1, 'b', 0);
    c.sent(2, 'c', 201);
    expect(c.acked('b', 1, true)).toBe(false);
    expect(c.inContact('b', 201)).toBe(false);
    expect(c.acked('c', 2, true)).toBe(true);
  });

  it('keeps the freshest ping acked: a late ack of an older ping does not shorten contact', () => {
    const c = new ContactTracker(200);
    c.sent(1, 'b', 0);
    c.sent(2, 'b', 50);
    c.acked('b', 2, true);
    c.acked('b', 1, true);
    expect(c.inContact('b', 249)).toBe(true);
    expect(c.contacts(['a', 'b', 'c'], 249)).toEqual(['b']);
  });

  /** A tracker whose members[i] (i >= 1) acked a ping sent at ackedAt[i - 1]; undefined for none. */
  function trackerWith(members: readonly string[], ackedAt: readonly (number | undefined)[]): ContactTracker {
    const c = new ContactTracker(200);
    let seq = 0;
    ackedAt.forEach((at, i) => {
      if (at === undefined) return;
      c.sent(++seq, members[i + 1]!, at);
      c.acked(members[i + 1]!, seq, true);
    });
    return c;
  }

  it.each([
    // n, acks of the others (ping send times), holds until
    [3, [100, 40], 300], // q = 2: the freshest other
    [3, [undefined, 40], 240],
    [3, [undefined, undefined], Number.NEGATIVE_INFINITY],
    [4, [100, 40, 70], 270], // q = 3: the second freshest
    [4, [100, undefined, undefined], Number.NEGATIVE_INFINITY],
    [5, [10, 90, 30, 60], 260], // q = 3: the second freshest
    [5, [10, undefined, undefined, undefined], Number.NEGATIVE_INFINITY],
    [7, [60, 10, 50, 20, 40, 30], 240], // q = 4: the third freshest
    [7, [60, 50, undefined, undefined, undefined, undefined], Number.NEGATIVE_INFINITY],
  ] as const)('with %i members and acks of pings sent at %j, holds until %d', (n, acks, until) => {
    const members = ['self', ...Array.from({ length: n - 1 }, (_, i) => `m${i}`)];
    const c = trackerWith(members, acks);
    expect(c.holdsUntil('self', members)).toBe(until);
    // The order of the configuration does not matter.
    expect(c.holdsUntil('self', [...members].reverse())).toBe(until);
  });

  it('holds alone in a configuration of one', () => {
    expect(new ContactTracker(200).holdsUntil('self', ['self'])).toBe(Number.POSITIVE_INFINITY);
  });

  it('counts only members of the configuration', () => {
    const c = new ContactTracker(200);
    c.sent(1, 'outsider', 100);
    c.acked('outsider', 1, true);
    expect(c.inContact('outsider', 150)).toBe(true);
    expect(c.holdsUntil('self', ['self', 'b', 'c'])).toBe(Number.NEGATIVE_INFINITY);
  });

  it('forgets every ping and ack on reset: a new epoch starts with no contact', () => {
    const members = ['self', 'b', 'c'];
    const c = new ContactTracker(200);
    c.sent(1, 'b', 0);
    c.sent(2, 'c', 0);
    c.acked('b', 1, true);
    expect(c.holdsUntil('self', members)).toBe(200);
    c.reset();
    expect(c.holdsUntil('self', members)).toBe(Number.NEGATIVE_INFINITY);
    expect(c.inContact('b', 10)).toBe(false);
    // The ack of a ping sent before the reset arrives after it: it confirms nothing.
    expect(c.acked('c', 2, true)).toBe(false);
    expect(c.holdsUntil('self', members)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('QuietMonitor: declaring quiet speakers (rule 3)', () => {
  it('declares a subject after the quiet time without pings, once per epoch', () => {
    const q = new QuietMonitor(300);
    q.watch('h', 1, 0);
    expect(q.due(299)).toEqual([]);
    expect(q.due(300)).toEqual([{ subject: 'h', epoch: 1 }]);
    expect(q.deadThrough('h')).toBe(1);
    expect(q.due(301)).toEqual([]);
    expect(q.due(10_000)).toEqual([]);
  });

  it('starts the quiet time again with every ping heard', () => {
    const q = new QuietMonitor(300);
    q.watch('h', 1, 0);
    expect(q.heard('h', 1, 250)).toBe(true);
    expect(q.due(549)).toEqual([]);
    expect(q.due(550)).toEqual([{ subject: 'h', epoch: 1 }]);
  });

  it('starts watching a speaker at its first ping', () => {
    const q = new QuietMonitor(300);
    expect(q.heard('h', 2, 100)).toBe(true);
    expect(q.subjects()).toEqual(['h']);
    expect(q.due(400)).toEqual([{ subject: 'h', epoch: 2 }]);
  });

  it('gives a new epoch learned later its own full quiet time', () => {
    const q = new QuietMonitor(300);
    q.watch('h', 1, 0);
    expect(q.due(300)).toEqual([{ subject: 'h', epoch: 1 }]);
    // Epoch 2 appears in h's Lease at 500: it is judged from 500, not from h's last ping.
    q.watch('h', 2, 500);
    expect(q.due(799)).toEqual([]);
    expect(q.due(800)).toEqual([{ subject: 'h', epoch: 2 }]);
    expect(q.deadThrough('h')).toBe(2);
  });

  it('gives a new epoch learned before the old one was declared its own quiet time too', () => {
    const q = new QuietMonitor(300);
    q.watch('h', 1, 0);
    q.watch('h', 2, 200);
    expect(q.due(300)).toEqual([]);
    expect(q.due(500)).toEqual([{ subject: 'h', epoch: 2 }]);
  });

  it('does not move back to an older epoch learned late', () => {
    const q = new QuietMonitor(300);
    q.watch('h', 3, 0);
    q.watch('h', 2, 100);
    expect(q.due(300)).toEqual([{ subject: 'h', epoch: 3 }]);
  });

  it('refuses pings of a declared epoch, and keeps refusing after it stops watching', () => {
    const q = new QuietMonitor(300);
    q.watch('h', 2, 0);
    q.due(300);
    expect(q.heard('h', 2, 310)).toBe(false);
    expect(q.heard('h', 1, 310)).toBe(false);
    q.unwatch('h');
    expect(q.subjects()).toEqual([]);
    expect(q.heard('h', 2, 400)).toBe(false);
    expect(q.deadThrough('h')).toBe(2);
    // A later epoch is a new start.
    expect(q.heard('h', 3, 400)).toBe(true);
    expect(q.due(699)).toEqual([]);
    expect(q.due(700)).toEqual([{ subject: 'h', epoch: 3 }]);
  });

  it('does not let refused pings postpone the next declaration', () => {
    const q = new QuietMonitor(300);
    q.watch('h', 1, 0);
    q.due(300);
    q.watch('h', 2, 300);
    expect(q.heard('h', 1, 500)).toBe(false);
    expect(q.due(600)).toEqual([{ subject: 'h', epoch: 2 }]);
  });

  it('stops declaring a subject it no longer watches', () => {
    const q = new QuietMonitor(300);
    q.watch('h', 1, 0);
    q.unwatch('h');
    expect(q.due(1000)).toEqual([]);
    expect(q.deadThrough('h')).toBe(0);
  });

  it('reports when the next declaration falls due', () => {
    const q = new QuietMonitor(300);
    expect(q.nextDue()).toBe(Number.POSITIVE_INFINITY);
    q.watch('a', 1, 100);
    q.watch('b', 1, 50);
    expect(q.nextDue()).toBe(350);
    q.heard('b', 1, 200);
    expect(q.nextDue()).toBe(400);
    expect(q.due(400)).toEqual([{ subject: 'a', epoch: 1 }]);
    expect(q.nextDue()).toBe(500);
    expect(q.due(500)).toEqual([{ subject: 'b', epoch: 1 }]);
    expect(q.nextDue()).toBe(Number.POSITIVE_INFINITY);
  });

  it('declares several subjects that fell quiet together', () => {
    const q = new QuietMonitor(300);
    q.watch('a', 4, 0);
    q.watch('b', 7, 10);
    q.watch('c', 1, 200);
    expect(q.due(310)).toEqual([
      { subject: 'a', epoch: 4 },
      { subject: 'b', epoch: 7 },
    ]);
  });
});

describe('Verdicts: declarations and abandons (rule 4)', () => {
  const members5 = ['h', 'a', 'b', 'c', 'd'];

  it.each([3, 4, 5, 6, 7])('in a configuration of %i, a verdict needs verdictSizeOf(n) distinct other members', (n) => {
    const members = ['h', ...Array.from({ length: n - 1 }, (_, i) => `m${i}`)];
    const s = verdictSizeOf(n);
    const v = new Verdicts();
    for (let i = 0; i < s - 1; i++) v.declare(`m${i}`, 'h', 1);
    // The same declarer again does not add up.
    v.declare('m0', 'h', 1);
    v.declare('m0', 'h', 2);
    expect(v.isVoid('h', 1, members)).toBe(false);
    v.declare(`m${s - 1}`, 'h', 1);
    expect(v.isVoid('h', 1, members)).toBe(true);
  });

  it('counts declarations of the epoch or later against an epoch, not earlier ones', () => {
    const v = new Verdicts();
    v.declare('a', 'h', 5);
    v.declare('b', 'h', 3);
    v.declare('c', 'h', 4);
    // 3 needed of 5.
    expect(v.isVoid('h', 3, members5)).toBe(true);
    expect(v.isVoid('h', 4, members5)).toBe(false);
    v.declare('d', 'h', 4);
    expect(v.isVoid('h', 4, members5)).toBe(true);
    expect(v.isVoid('h', 5, members5)).toBe(false);
  });

  it('does not count declarations from outside the configuration', () => {
    const v = new Verdicts();
    v.declare('a', 'h', 1);
    v.declare('x', 'h', 1);
    v.declare('y', 'h', 1);
    expect(v.isVoid('h', 1, members5)).toBe(false);
    expect(v.isVoid('h', 1, ['h', 'a', 'x', 'y', 'z'])).toBe(true);
  });

  it('does not count the subject declaring itself', () => {
    const v = new Verdicts();
    expect(v.declare('h', 'h', 1)).toBe(false);
    v.declare('a', 'h', 1);
    expect(v.isVoid('h', 1, ['h', 'a', 'b'])).toBe(false);
    expect(v.declarers('h')).toEqual(new Map([['a', 1]]));
  });

  it('says whether a declaration is news', () => {
    const v = new Verdicts();
    expect(v.declare('a', 'h', 2)).toBe(true);
    expect(v.declare('a', 'h', 2)).toBe(false);
    expect(v.declare('a', 'h', 1)).toBe(false);
    expect(v.declare('a', 'h', 3)).toBe(true);
    expect(v.declarers('h').get('a')).toBe(3);
    expect(v.declarers('nobody').size).toBe(0);
  });

  it('voids the abandoned epoch and earlier ones, not later ones', () => {
    const v = new Verdicts();
    expect(v.abandon('h', 4)).toBe(true);
    expect(v.abandon('h', 3)).toBe(false);
    expect(v.isVoid('h', 4, members5)).toBe(true);
    expect(v.isVoid('h', 2, members5)).toBe(true);
    expect(v.isVoid('h', 5, members5)).toBe(false);
    expect(v.isVoid('a', 4, members5)).toBe(false);
  });

  it('keeps a verdict for good, whatever arrives later', () => {
    const v = new Verdicts();
    v.declare('a', 'h', 1);
    v.declare('b', 'h', 1);
    expect(v.isVoid('h', 1, ['h', 'a', 'b'])).toBe(true);
    v.declare('a', 'h', 1);
    v.abandon('h', 0);
    expect(v.isVoid('h', 1, ['h', 'a', 'b'])).toBe(true);
  });
});
