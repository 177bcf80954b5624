// Test harness for PeerMesh: three speakers on an in-memory network whose delays and losses the
// tests choose, on a fake monotonic clock with fake timers (ADR 0017).
import { Buffer } from 'node:buffer';
import { expect } from 'vitest';
import { decodePeerMessage, encodePeerMessage, NEVER, type PeerMessage } from '../../../speakers/peer/codec.js';
import { PeerMesh, type PeerDropReason, type PeerEndpoint, type PeerSocket, type PeerTimers } from '../../../speakers/peer/mesh.js';
import { defaultPeerTiming, type PeerTiming } from '../../../speakers/peer/quorum.js';
import { seal, unseal } from '../../../speakers/peer/seal.js';

/** The cluster's peer key. */
export const key = Buffer.alloc(32, 0x42);
/** The one configuration: every speaker lists the other two. */
export const members = ['a', 'b', 'c'];
/** Where each speaker listens. */
export const endpoints = new Map<string, PeerEndpoint>([
  ['a', { address: '10.0.0.1', port: 7947 }],
  ['b', { address: '10.0.0.2', port: 7947 }],
  ['c', { address: '10.0.0.3', port: 7947 }],
]);
/** Each speaker's incarnation. */
export const incarnations = new Map([
  ['a', 100n],
  ['b', 200n],
  ['c', 300n],
]);

/** A monotonic clock and timers that move only when the test says so. */
export class FakeTime implements PeerTimers {
  now = 0;
  #nextId = 1;
  readonly #pending = new Map<number, { at: number; fn: () => void }>();

  readonly clock = (): number => this.now;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#pending.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#pending.delete(handle);
  }

  /** Runs every timer due until `until`, earliest first (ties in the order they were set). */
  runUntil(until: number): void {
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#pending) if (entry[1].at <= until && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#pending.delete(next[0]);
      this.now = Math.max(this.now, next[1].at);
      next[1].fn();
    }
    this.now = until;
  }

  advance(ms: number): void {
    this.runUntil(this.now + ms);
  }
}

/** One datagram as the network saw it. */
export interface Packet {
  readonly from: string;
  readonly to: string;
  readonly bytes: Buffer;
  /** The message inside, when it unseals and decodes with the cluster key. */
  readonly message: PeerMessage | undefined;
  readonly sentAt: number;
}

/** A delay in ms, or a loss. */
export type Fate = number | 'drop';

/** One speaker in the world. */
export interface Node {
  readonly name: string;
  readonly mesh: PeerMesh;
  /** How often the mesh told its owner something changed. */
  readonly changes: { count: number };
}

/** Three speakers listing each other, their packets routed by `rule` (1 ms, nothing lost, by default). */
export class World {
  readonly time = new FakeTime();
  readonly log: Packet[] = [];
  readonly nodes = new Map<string, Node>();
  rule: (p: Packet) => Fate = () => 1;

  constructor(timing: PeerTiming = defaultPeerTiming) {
    for (const name of members) {
      const socket: PeerSocket = { send: (bytes, to) => this.#route(name, bytes, to), close: () => undefined };
      const changes = { count: 0 };
      const mesh = new PeerMesh({
        self: name,
        key,
        timing,
        clock: this.time.clock,
        timers: this.time,
        socket,
        apiOkAgeMs: () => NEVER,
        onChange: () => void changes.count++,
        incarnation: incarnations.get(name)!,
      });
      mesh.setEpoch(1);
      mesh.setMembers(members);
      mesh.setEndpoints(endpoints);
      this.nodes.set(name, { name, mesh, changes });
    }
  }

  node(name: string): Node {
    return this.nodes.get(name)!;
  }

  mesh(name: string): PeerMesh {
    return this.node(name).mesh;
  }

  start(): this {
    for (const node of this.nodes.values()) node.mesh.start();
    return this;
  }

  /** Whether `name` holds its epoch now (ADR 0017 rule 2). */
  holds(name: string): boolean {
    return this.time.now < this.mesh(name).contact.holdsUntil(name, members);
  }

  /** Packets sent from `from` to `to` carrying messages of `type`. */
  sent(from: string, to: string, type: PeerMessage['type']): Packet[] {
    return this.log.filter((p) => p.from === from && p.to === to && p.message?.type === type);
  }

  #route(from: string, bytes: Buffer, to: PeerEndpoint): void {
    const dest = [...endpoints].find(([, e]) => e.address === to.address && e.port === to.port)?.[0];
    expect(dest).toBeDefined();
    const opened = unseal(key, bytes);
    const packet: Packet = { from, to: dest!, bytes: Buffer.from(bytes), message: opened.ok ? decodePeerMessage(opened.body) : undefined, sentAt: this.time.now };
    this.log.push(packet);
    const fate = this.rule(packet);
    if (fate === 'drop') return;
    this.time.setTimeout(() => this.mesh(dest!).receive(Buffer.from(bytes), endpoints.get(from)!), fate);
  }
}

/** Everything about a mesh that a packet could change, apart from its receive counters. */
export function snapshot(world: World, name: string): unknown {
  const m = world.mesh(name);
  const now = world.time.now;
  return {
    holdsUntil: m.contact.holdsUntil(name, members),
    contacts: m.contact.contacts(members, now),
    deadToPeers: m.deadToPeers,
    watched: m.quiet.subjects(),
    nextDue: m.quiet.nextDue(),
    deadThrough: members.map((x) => m.quiet.deadThrough(x)),
    declarers: ['a', 'b', 'c', 'x'].map((x) => [...m.verdicts.declarers(x)]),
    void: ['a', 'b', 'c', 'x'].map((x) => [1, 2, 3].map((e) => m.verdicts.isVoid(x, e, [...members, 'x']))),
    peerApi: m.peerReachedApiAfter(Number.NEGATIVE_INFINITY),
    sent: m.counters.sent,
    sendErrors: m.counters.sendErrors,
    declarationsMade: m.counters.declarationsMade,
    changes: world.node(name).changes.count,
    packets: world.log.length,
  };
}

/** A small deterministic PRNG (mulberry32), so per-packet randomness is part of a run's seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type WithoutHeader<M> = M extends unknown ? Omit<M, 'from' | 'incarnation' | 'seq'> : never;
/** A message without the header fields the sender fills in. */
export type Body = WithoutHeader<PeerMessage>;

/** A message in `from`'s name (its incarnation unless told otherwise), sealed with the cluster key unless told otherwise. */
export function craft(from: string, body: Body, seq: number, options: { incarnation?: bigint; key?: Buffer } = {}): Buffer {
  const message = { ...body, from, incarnation: options.incarnation ?? incarnations.get(from) ?? 1n, seq } as PeerMessage;
  return seal(options.key ?? key, encodePeerMessage(message));
}

/** b's endpoint, where b's packets come from. */
export const fromB = endpoints.get('b')!;

/** Packets dropped so far, for any reason. */
export function totalDropped(m: PeerMesh): number {
  return Object.values(m.counters.dropped).reduce((x, y) => x + y, 0);
}

/** The message inside a packet sealed with the cluster key. */
export function unsealed(packet: Buffer): Buffer {
  const opened = unseal(key, packet);
  if (!opened.ok) throw new Error('test packet does not unseal');
  return opened.body;
}

/** The drop counters of a mesh that dropped nothing. */
export const noDrops: Record<PeerDropReason, number> = { short: 0, seal: 0, malformed: 0, 'unknown-sender': 0, 'wrong-address': 0, replay: 0 };
