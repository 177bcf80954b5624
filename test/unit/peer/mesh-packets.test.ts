// What PeerMesh does with packets it must not trust (ADR 0017: sealed, from a known speaker at its
// known address, never replayed): each is dropped, counted and changes nothing; and receive()
// never throws, whatever arrives.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePeerMessage } from '../../../speakers/peer/codec.js';
import type { PeerDropReason, PeerEndpoint } from '../../../speakers/peer/mesh.js';
import { seal } from '../../../speakers/peer/seal.js';
import { messageArb } from './arbitraries.js';
import { craft, endpoints, fromB, incarnations, key, noDrops, snapshot, totalDropped, unsealed, World } from './mesh-world.js';

const declareC = { type: 'declare', declarations: [{ subject: 'c', epoch: 1 }] } as const;
const pingEpoch5 = { type: 'ping', epoch: 5, apiOkAgeMs: 0 } as const;
const bodies = [
  ['a declaration', declareC],
  ['a ping', pingEpoch5],
] as const;

interface DropCase {
  readonly why: string;
  readonly reason: PeerDropReason;
  /** Prepares the world if needed and returns the bad packet and where it seems to come from. */
  readonly bad: (world: World, body: (typeof bodies)[number][1]) => { packet: Buffer; from: PeerEndpoint };
}

const dropCases: readonly DropCase[] = [
  { why: 'sealed with another key', reason: 'seal', bad: (_w, body) => ({ packet: craft('b', body, 1_000_000, { key: Buffer.alloc(32, 0x43) }), from: fromB }) },
  { why: 'cut by one byte', reason: 'seal', bad: (_w, body) => ({ packet: craft('b', body, 1_000_000).subarray(0, -1), from: fromB }) },
  { why: 'cut to its seal', reason: 'short', bad: (_w, body) => ({ packet: craft('b', body, 1_000_000).subarray(-16), from: fromB }) },
  { why: 'cut to five bytes', reason: 'short', bad: (_w, body) => ({ packet: craft('b', body, 1_000_000).subarray(0, 5), from: fromB }) },
  { why: 'with a byte added to its message', reason: 'malformed', bad: (_w, body) => ({ packet: seal(key, Buffer.concat([unsealed(craft('b', body, 1_000_000)), Buffer.alloc(1)])), from: fromB }) },
  { why: 'of a version we do not speak', reason: 'malformed', bad: (_w, body) => ({ packet: seal(key, Buffer.concat([Buffer.from([2]), unsealed(craft('b', body, 1_000_000)).subarray(1)])), from: fromB }) },
  {
    why: 'sent twice (the last packet b sent a)',
    reason: 'replay',
    bad: (w) => {
      // Delivered already: sent at least the 1 ms delay ago.
      const last = w.log.filter((p) => p.from === 'b' && p.to === 'a' && p.sentAt < w.time.now).at(-1)!;
      return { packet: last.bytes, from: fromB };
    },
  },
  {
    why: 'with a sequence already used',
    reason: 'replay',
    bad: (w, body) => {
      w.mesh('a').receive(craft('b', { type: 'abandon', epoch: 0 }, 2_000_000), fromB);
      return { packet: craft('b', body, 2_000_000), from: fromB };
    },
  },
  { why: 'from an older incarnation', reason: 'replay', bad: (_w, body) => ({ packet: craft('b', body, 1_000_000, { incarnation: 199n }), from: fromB }) },
  { why: 'from a speaker we have no endpoint for', reason: 'unknown-sender', bad: (_w, body) => ({ packet: craft('mallory', body, 1), from: { address: '10.0.0.66', port: 7947 } }) },
  { why: 'in our own name', reason: 'unknown-sender', bad: (_w, body) => ({ packet: craft('a', body, 1_000_000), from: fromB }) },
  { why: "from c's address in b's name", reason: 'wrong-address', bad: (_w, body) => ({ packet: craft('b', body, 1_000_000), from: endpoints.get('c')! }) },
  { why: 'from an address no speaker has', reason: 'wrong-address', bad: (_w, body) => ({ packet: craft('b', body, 1_000_000), from: { address: '10.0.0.99', port: 7947 } }) },
];

describe('PeerMesh: packets it must not trust are counted and change nothing', () => {
  const cases = dropCases.flatMap((c) => bodies.map(([what, body]) => [c.why, what, c, body] as const));

  it.each(cases)('drops a packet %s (%s)', (_why, _what, c, body) => {
    const world = new World().start();
    world.time.advance(200);
    const a = world.mesh('a');
    const { packet, from } = c.bad(world, body);
    const before = snapshot(world, 'a');
    const dropped = { ...a.counters.dropped };
    const received = a.counters.received;
    a.receive(packet, from);
    expect(a.counters.received).toBe(received + 1);
    expect(a.counters.dropped).toEqual({ ...dropped, [c.reason]: dropped[c.reason] + 1 });
    expect(snapshot(world, 'a')).toEqual(before);
    // The same message sent properly is taken, and does change what a knows.
    a.receive(craft('b', body, 3_000_000), fromB);
    expect(a.counters.dropped).toEqual({ ...dropped, [c.reason]: dropped[c.reason] + 1 });
    expect(snapshot(world, 'a')).not.toEqual(before);
  });

  it('takes a restarted speaker\'s new incarnation from sequence 1', () => {
    const world = new World().start();
    world.time.advance(200);
    const a = world.mesh('a');
    a.receive(craft('b', declareC, 1, { incarnation: 201n }), fromB);
    expect(a.counters.dropped).toEqual(noDrops);
    expect(a.verdicts.declarers('c')).toEqual(new Map([['b', 1]]));
    // Its old incarnation is a replay from now on.
    a.receive(craft('b', { type: 'declare', declarations: [{ subject: 'c', epoch: 2 }] }, 4_000_000), fromB);
    expect(a.counters.dropped.replay).toBe(1);
    expect(a.verdicts.declarers('c').get('b')).toBe(1);
  });
});

describe('PeerMesh: receive() never throws, whatever arrives', () => {
  const sources = [...endpoints.values(), { address: '10.0.0.99', port: 1 }];
  const sourceArb = fc.constantFrom(...sources);

  it('for random bytes, all of them dropped', () => {
    const world = new World().start();
    world.time.advance(200);
    const a = world.mesh('a');
    const before = snapshot(world, 'a');
    let fed = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), sourceArb, (raw, from) => {
        a.receive(Buffer.from(raw), from);
        fed++;
      }),
      { numRuns: 2000 },
    );
    expect(a.counters.dropped.short + a.counters.dropped.seal).toBe(fed);
    expect(snapshot(world, 'a')).toEqual(before);
  });

  it('for packets that peers really sent, changed, cut or extended: dropped by the seal', () => {
    const world = new World().start();
    world.time.advance(300);
    const captured = world.log.filter((p) => p.to === 'a').map((p) => p.bytes);
    const a = world.mesh('a');
    const before = snapshot(world, 'a');
    let fed = 0;
    fc.assert(
      fc.property(fc.constantFrom(...captured), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.integer({ min: -40, max: 8 }), sourceArb, (packet, at, xor, extra, from) => {
        const b = Buffer.from(packet);
        b[at % b.length]! ^= xor;
        const sized = extra >= 0 ? Buffer.concat([b, Buffer.alloc(extra)]) : b.subarray(0, Math.max(0, b.length + extra));
        a.receive(sized, from);
        fed++;
      }),
      { numRuns: 2000 },
    );
    expect(a.counters.dropped.short + a.counters.dropped.seal).toBe(fed);
    expect(snapshot(world, 'a')).toEqual(before);
  });

  it('for messages sealed with the cluster key and then changed, cut or extended', () => {
    const world = new World().start();
    world.time.advance(300);
    const captured = world.log.filter((p) => p.to === 'a').map((p) => ({ body: unsealed(p.bytes), from: endpoints.get(p.from)! }));
    const a = world.mesh('a');
    let handled = 0;
    fc.assert(
      fc.property(fc.constantFrom(...captured), fc.nat(), fc.nat({ max: 255 }), fc.integer({ min: -10, max: 3 }), (sample, at, value, extra) => {
        const b = Buffer.from(sample.body);
        b[at % b.length] = value;
        const sized = extra >= 0 ? Buffer.concat([b, Buffer.alloc(extra, value)]) : b.subarray(0, Math.max(0, b.length + extra));
        const dropped = totalDropped(a);
        a.receive(seal(key, sized), sample.from);
        if (totalDropped(a) === dropped) handled++;
      }),
      { numRuns: 2000 },
    );
    // Many fail to decode; some still decode and reach the handlers.
    expect(a.counters.dropped.malformed).toBeGreaterThan(200);
    expect(handled).toBeGreaterThan(0);
  });

  it('for well-formed messages with any fields in a peer\'s name', () => {
    const world = new World().start();
    world.time.advance(300);
    const a = world.mesh('a');
    // Half from a new incarnation each, so the replay check lets them through to the handlers;
    // the others in the peer's current incarnation with any sequence.
    let incarnation = 10_000n;
    let handled = 0;
    fc.assert(
      fc.property(messageArb, fc.constantFrom('b', 'c'), fc.boolean(), (m, name, fresh) => {
        const dropped = totalDropped(a);
        a.receive(seal(key, encodePeerMessage({ ...m, from: name, incarnation: fresh ? ++incarnation : incarnations.get(name)! })), endpoints.get(name)!);
        if (totalDropped(a) === dropped) handled++;
        // Time moves on, so the quiet timers and ticks run against what was received.
        world.time.advance(7);
      }),
      { numRuns: 1000 },
    );
    expect(handled).toBeGreaterThan(400);
    expect(a.counters.sendErrors).toBe(0);
  });
});
