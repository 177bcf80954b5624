// One speaker's end of the peer channel (ADR 0017): pings the members of its configuration,
// acks the pings of speakers that list it, declares quiet ones dead and passes declarations
// and abandons on to every speaker. Packets are sealed (seal.ts); anything that fails the seal,
// the decoder, the sender's known address or the replay check is counted and dropped.
import { randomBytes } from 'node:crypto';
import { decodePeerMessage, encodePeerMessage, MAX_DECLARATIONS, NEVER, PeerDecodeError, type Declaration, type PeerMessage } from './codec.js';
import { ContactTracker, QuietMonitor, Verdicts, type PeerTiming } from './quorum.js';
import { MIN_KEY_BYTES, seal, unseal } from './seal.js';

/** A sender silent this long may come back with an older incarnation (a restart after its clock stepped back). */
const RESTART_SILENCE_MS = 30_000;

/** Where a speaker listens on the peer channel. */
export interface PeerEndpoint {
  readonly address: string;
  readonly port: number;
}

/** The datagram socket the mesh sends through; received packets are passed to receive(). */
export interface PeerSocket {
  send(packet: Buffer, to: PeerEndpoint): void;
  close(): void;
}

/** Timers, injectable so a simulation can drive the mesh. */
export interface PeerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What the mesh needs from its speaker. */
export interface PeerMeshOptions {
  readonly self: string;
  readonly key: Buffer;
  readonly timing: PeerTiming;
  /** Monotonic milliseconds. */
  readonly clock: () => number;
  readonly timers?: PeerTimers;
  readonly socket: PeerSocket;
  /** Milliseconds since the send time of our last successful API probe, or NEVER. */
  readonly apiOkAgeMs: () => number;
  /** Contact, a declaration or an abandon changed something the owner decides on. */
  readonly onChange: () => void;
  /** Random 64-bit incarnation; by default the start time in its high bits, so a restart is newer. */
  readonly incarnation?: bigint;
}

/** Why packets were dropped. */
export type PeerDropReason = 'short' | 'seal' | 'malformed' | 'unknown-sender' | 'wrong-address' | 'replay';

/** Counters of the peer channel, for metrics. */
export interface PeerCounters {
  sent: number;
  sendErrors: number;
  received: number;
  dropped: Record<PeerDropReason, number>;
  declarationsMade: number;
}

const defaultTimers: PeerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The peer channel of one speaker. */
export class PeerMesh {
  readonly contact: ContactTracker;
  readonly quiet: QuietMonitor;
  readonly verdicts = new Verdicts();
  readonly counters: PeerCounters = {
    sent: 0,
    sendErrors: 0,
    received: 0,
    dropped: { short: 0, seal: 0, malformed: 0, 'unknown-sender': 0, 'wrong-address': 0, replay: 0 },
    declarationsMade: 0,
  };
  readonly #o: PeerMeshOptions;
  readonly #timers: PeerTimers;
  #incarnation: bigint;
  readonly #endpoints = new Map<string, PeerEndpoint>();
  readonly #lastSeen = new Map<string, { incarnation: bigint; seq: number; at: number }>();
  /** Per member, the last few send times (our clock) of its successful API requests, newest last. */
  readonly #peerApiOkAt = new Map<string, number[]>();
  #lastTickAt = Number.NEGATIVE_INFINITY;
  /** Our declarations and abandon, sent again a few times against loss. */
  #repeat: { declarations: Declaration[]; abandon: number | undefined; left: number } = { declarations: [], abandon: undefined, left: 0 };
  #seq = 0;
  #epoch = 0;
  #members: readonly string[] = [];
  #tick: unknown;
  #quietTimer: unknown;
  #deadToPeers = 0;
  #stopped = true;

  constructor(options: PeerMeshOptions) {
    this.#o = options;
    this.#timers = options.timers ?? defaultTimers;
    this.contact = new ContactTracker(options.timing.holdMs);
    this.quiet = new QuietMonitor(options.timing.quietMs);
    if (options.key.length < MIN_KEY_BYTES) throw new RangeError(`peer key of ${options.key.length} bytes: at least ${MIN_KEY_BYTES} are needed`);
    this.#incarnation = options.incarnation ?? ((BigInt(Date.now()) << 16n) | BigInt(randomBytes(2).readUInt16BE(0)));
  }

  /** Starts pinging. */
  start(): void {
    this.#stopped = false;
    this.#onTick();
  }

  /** Stops every timer and closes the socket. */
  stop(): void {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#tick);
    this.#timers.clearTimeout(this.#quietTimer);
    this.#o.socket.close();
  }

  /**
   * Our epoch as the pings carry it. Contact carries over to a new epoch: an ack says only that
   * the member heard us recently, and a member that declared an epoch dead acks none of it.
   */
  setEpoch(epoch: number): void {
    this.#epoch = epoch;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** The configuration we ping (ourselves included). */
  setMembers(members: readonly string[]): void {
    this.#members = members;
  }

  /** Where each speaker listens, from the Leases. */
  setEndpoints(endpoints: ReadonlyMap<string, PeerEndpoint>): void {
    this.#endpoints.clear();
    for (const [node, endpoint] of endpoints) if (node !== this.#o.self) this.#endpoints.set(node, endpoint);
  }

  /** The highest epoch of ours that some member told us it declared dead (0 for none). */
  get deadToPeers(): number {
    return this.#deadToPeers;
  }

  /** Whether a member of our configuration had a successful API request after `at` and before `before` (our clock). */
  peerReachedApiAfter(at: number, before = Number.POSITIVE_INFINITY): boolean {
    return this.#members.some((m) => m !== this.#o.self && (this.#peerApiOkAt.get(m) ?? []).some((ok) => ok > at && ok < before));
  }

  /** Tells every speaker that we stopped answering for the claims of `epoch` and earlier. */
  abandon(epoch: number): void {
    this.verdicts.abandon(this.#o.self, epoch);
    this.#repeat = { ...this.#repeat, abandon: epoch, left: 5 };
    this.#broadcast();
  }

  /** Handles one received packet. */
  receive(packet: Buffer, from: PeerEndpoint): void {
    // Before start() our own state is not set up, and after stop() nothing may change it.
    if (this.#stopped) return;
    this.counters.received++;
    const opened = unseal(this.#o.key, packet);
    if (!opened.ok) return this.#drop(opened.reason);
    let message: PeerMessage;
    try {
      message = decodePeerMessage(opened.body);
    } catch (error) {
      if (error instanceof PeerDecodeError) return this.#drop('malformed');
      throw error;
    }
    const known = this.#endpoints.get(message.from);
    if (!known) return this.#drop('unknown-sender');
    if (known.address !== from.address) return this.#drop('wrong-address');
    const last = this.#lastSeen.get(message.from);
    const now = this.#o.clock();
    // An older incarnation is a replay, unless the sender has been silent for a long while: a
    // speaker restarted after its wall clock stepped back must not be locked out for good.
    const restartedBackwards = last !== undefined && message.incarnation < last.incarnation && now - last.at > RESTART_SILENCE_MS;
    if (last && !restartedBackwards && (message.incarnation < last.incarnation || (message.incarnation === last.incarnation && message.seq <= last.seq))) return this.#drop('replay');
    this.#lastSeen.set(message.from, { incarnation: message.incarnation, seq: message.seq, at: now });
    this.#handle(message, known);
  }

  #handle(m: PeerMessage, endpoint: PeerEndpoint): void {
    const now = this.#o.clock();
    switch (m.type) {
      case 'ping': {
        this.#notePeerApi(m.from, m.apiOkAgeMs, now);
        const accepted = this.quiet.heard(m.from, m.epoch, now);
        this.#send({ type: 'ack', forIncarnation: m.incarnation, forSeq: m.seq, accepted, deadThrough: this.quiet.deadThrough(m.from), apiOkAgeMs: this.#o.apiOkAgeMs() }, endpoint);
        this.#armQuiet();
        return;
      }
      case 'ack': {
        this.#notePeerApi(m.from, m.apiOkAgeMs, now);
        if (m.forIncarnation !== this.#incarnation) return;
        const before = this.contact.holdsUntil(this.#o.self, this.#members, this.#epoch);
        this.contact.acked(m.from, m.forSeq, m.accepted, m.deadThrough);
        if (m.deadThrough > this.#deadToPeers) this.#deadToPeers = m.deadThrough;
        const after = this.contact.holdsUntil(this.#o.self, this.#members, this.#epoch);
        if ((before <= now) !== (after <= now) || m.deadThrough >= this.#epoch) this.#o.onChange();
        return;
      }
      case 'declare': {
        let changed = false;
        for (const d of m.declarations) {
          changed = this.verdicts.declare(m.from, d.subject, d.epoch) || changed;
          if (d.subject === this.#o.self && d.epoch > this.#deadToPeers) this.#deadToPeers = d.epoch;
        }
        if (changed) this.#o.onChange();
        return;
      }
      case 'abandon':
        if (this.verdicts.abandon(m.from, m.epoch)) this.#o.onChange();
        return;
    }
  }

  #notePeerApi(node: string, ageMs: number, now: number): void {
    if (ageMs === NEVER) return;
    const at = now - ageMs;
    const seen = this.#peerApiOkAt.get(node) ?? [];
    if (at <= (seen.at(-1) ?? Number.NEGATIVE_INFINITY) + 1) return;
    seen.push(at);
    if (seen.length > 8) seen.shift();
    this.#peerApiOkAt.set(node, seen);
  }

  #drop(reason: PeerDropReason): void {
    this.counters.dropped[reason]++;
  }

  #onTick(): void {
    if (this.#stopped) return;
    const now = this.#o.clock();
    this.#noteStall(now);
    this.#lastTickAt = now;
    for (const member of this.#members) {
      const endpoint = member === this.#o.self ? undefined : this.#endpoints.get(member);
      if (!endpoint) continue;
      const seq = this.#send({ type: 'ping', epoch: this.#epoch, apiOkAgeMs: this.#o.apiOkAgeMs() }, endpoint);
      if (seq !== undefined) this.contact.sent(seq, member, now);
    }
    this.#checkQuiet();
    if (this.#repeat.left > 0) this.#broadcast();
    this.#tick = this.#timers.setTimeout(() => this.#onTick(), this.#o.timing.pingIntervalMs);
  }

  #armQuiet(): void {
    this.#timers.clearTimeout(this.#quietTimer);
    if (this.#stopped) return;
    const next = this.quiet.nextDue();
    if (Number.isFinite(next)) this.#quietTimer = this.#timers.setTimeout(() => this.#checkQuiet(), Math.max(0, next - this.#o.clock()) + 1);
  }

  /**
   * After our own process stood still (SIGSTOP, a VM pause, a long GC), the pings that came
   * meanwhile are still unread when the first timer runs: hearing nothing then proves nothing,
   * so every watched speaker gets a fresh quiet time. Declaring later is always safe.
   */
  #noteStall(now: number): void {
    if (now - this.#lastTickAt > this.#o.timing.quietMs / 2) this.quiet.forgive(now);
  }

  #checkQuiet(): void {
    this.#noteStall(this.#o.clock());
    const declared = this.quiet.due(this.#o.clock());
    if (declared.length > 0) {
      this.counters.declarationsMade += declared.length;
      for (const d of declared) this.verdicts.declare(this.#o.self, d.subject, d.epoch);
      const merged = new Map(this.#repeat.declarations.map((d) => [d.subject, d.epoch]));
      for (const d of declared) merged.set(d.subject, d.epoch);
      this.#repeat = { ...this.#repeat, declarations: [...merged].map(([subject, epoch]) => ({ subject, epoch })), left: 5 };
      this.#broadcast();
      this.#o.onChange();
    }
    this.#armQuiet();
  }

  /** Sends our declarations and abandon to every speaker. */
  #broadcast(): void {
    this.#repeat.left--;
    for (const endpoint of this.#endpoints.values()) {
      for (let i = 0; i < this.#repeat.declarations.length; i += MAX_DECLARATIONS) {
        this.#send({ type: 'declare', declarations: this.#repeat.declarations.slice(i, i + MAX_DECLARATIONS) }, endpoint);
      }
      if (this.#repeat.abandon !== undefined) this.#send({ type: 'abandon', epoch: this.#repeat.abandon }, endpoint);
    }
    if (this.#repeat.left <= 0) this.#repeat = { declarations: [], abandon: undefined, left: 0 };
  }

  /** Seals and sends one message; returns its sequence number, or undefined when sending failed. */
  #send(body: DistributiveOmit<PeerMessage, 'from' | 'incarnation' | 'seq'>, to: PeerEndpoint): number | undefined {
    if (this.#seq >= 0xffffffff) {
      // Sequence numbers are 32 bits (about 200 days at 240 packets/s): a new incarnation
      // starts them again, newer than the old one for every receiver.
      this.#incarnation = BigInt.asUintN(64, this.#incarnation + 1n);
      this.#seq = 0;
    }
    const seq = ++this.#seq;
    try {
      this.#o.socket.send(seal(this.#o.key, encodePeerMessage({ ...body, from: this.#o.self, incarnation: this.#incarnation, seq })), to);
      this.counters.sent++;
      return seq;
    } catch {
      this.counters.sendErrors++;
      return undefined;
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
