// One BGP session to one peer over node:net: runs the pure FSM's actions (TCP, timers, sending)
// and keeps the peer's Adj-RIB-Out in line with the routes the caller wants announced.
import { Buffer } from 'node:buffer';
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type net from 'node:net';
import {
  Afi,
  Framer,
  Safi,
  encodeMessage,
  type AddressFamily,
  type BgpMessage,
  type Capability,
  type CodecOptions,
  type NotificationMessage,
  type UpdateMessage,
} from './codec/index.js';
import { AdjRibOut, endOfRibMarkers, routeKey, type PeerContext, type Route } from './advertiser.js';
import { BfdSession } from '../bfd/session.js';
import { connectTcp, type PendingConnect } from './tcp-connect.js';
import { initialState, step, type FsmAction, type FsmEvent, type FsmState, type FsmStateName, type Negotiated, type TimerName } from './fsm.js';

/** Everything needed to run a session to one peer (RFC 4271 section 8.1.1 configuration). */
export interface SessionConfig {
  /** Peer's address, IPv4 or IPv6. */
  readonly peerAddress: string;
  /** Peer's TCP port; 179 by default (RFC 4271 section 8.2.1). */
  readonly peerPort?: number;
  /** Source address of the TCP connection. */
  readonly localAddress?: string;
  /** Our ASN (RFC 6793). */
  readonly myAsn: number;
  /** The peer's ASN; equal to ours makes the session internal. */
  readonly peerAsn: number;
  /**
   * BGP Identifier (RFC 4271 section 4.2). When unset, the IPv4 address of our end of each
   * TCP connection, as MetalLB does; `fallbackRouterId` when that end is IPv6.
   */
  readonly routerId?: string | undefined;
  /** Identifier for a session over IPv6 without `routerId` (RFC 6286: any non-zero 4 octets). */
  readonly fallbackRouterId?: string;
  /** Proposed hold time in seconds, 0 or at least 3; default 90 (RFC 4271 section 10). */
  readonly holdTime?: number;
  /** Seconds between KEEPALIVEs; a third of the negotiated hold time when unset (RFC 4271 section 10). */
  readonly keepaliveTime?: number;
  /** ConnectRetryTime in seconds; default 30. */
  readonly connectRetryTime?: number;
  /** First reconnect delay in seconds, doubled per consecutive failure; default 1. */
  readonly idleHoldTime?: number;
  /** Longest reconnect delay in seconds; default 60. */
  readonly maxIdleHoldTime?: number;
  /** Offer graceful restart with this restart time in seconds (RFC 4724 section 3). */
  readonly gracefulRestartTime?: number;
  /** TCP MD5 signature key shared with the peer (RFC 2385); needs the native addon. */
  readonly password?: string;
  /** IP TTL / hop limit for eBGP multihop; the kernel default when unset. */
  readonly ttl?: number;
  /** Run single-hop BFD with the peer (RFC 5881); the BGP session goes down when BFD does. */
  readonly bfd?: { readonly intervalMs?: number; readonly transmitIntervalMs?: number; readonly receiveIntervalMs?: number; readonly multiplier?: number };
  /** Random source in [0, 1) for timer jitter; Math.random by default (RFC 4271 section 10). */
  readonly random?: () => number;
  /**
   * Finds our next hop for routes of the family the session does not run over; by default
   * an address of that family on the interface that holds our end of the connection.
   */
  readonly nextHopLookup?: (family: AddressFamily, localAddress: string) => string | undefined;
}

/** Something that happened on the session, for logs and tests. */
export type SessionEvent =
  | { readonly type: 'state'; readonly state: FsmStateName }
  | { readonly type: 'notification-sent'; readonly message: NotificationMessage }
  | { readonly type: 'notification-received'; readonly message: NotificationMessage }
  | { readonly type: 'announced'; readonly prefixes: number; readonly messages: number }
  | { readonly type: 'withdrawn'; readonly prefixes: number; readonly messages: number }
  | { readonly type: 'end-of-rib' }
  | { readonly type: 'route-refresh'; readonly afi: number; readonly safi: number }
  | { readonly type: 'received'; readonly prefixes: number; readonly looped: number }
  | { readonly type: 'reconnect'; readonly delayMs: number }
  | { readonly type: 'bfd'; readonly state: 'up' | 'down'; readonly diag?: number }
  | { readonly type: 'not-announced'; readonly prefixes: readonly string[]; readonly reason: string }
  | { readonly type: 'error'; readonly message: string };

const AFI_OF: Record<AddressFamily, number> = { ipv4: Afi.IPv4, ipv6: Afi.IPv6 };

function routeCount(msgs: readonly UpdateMessage[]): { withdrawn: number; announced: number } {
  let withdrawn = 0;
  let announced = 0;
  for (const m of msgs) {
    withdrawn += m.withdrawn.length + (m.attributes.mpUnreach?.withdrawn.length ?? 0);
    announced += m.nlri.length + (m.attributes.mpReach?.nlri.length ?? 0);
  }
  return { withdrawn, announced };
}

/** The first address of `family` on the interface that holds `localAddress`, never a link-local or loopback one. */
export function interfaceNextHop(family: AddressFamily, localAddress: string, interfaces = networkInterfaces()): string | undefined {
  const wanted = family === 'ipv4' ? 'IPv4' : 'IPv6';
  for (const addresses of Object.values(interfaces)) {
    if (!addresses?.some((a) => a.address === localAddress)) continue;
    const usable = addresses.filter((a) => a.family === wanted && !a.internal && !/^fe[89ab]/i.test(a.address));
    return usable[0]?.address;
  }
  return undefined;
}

/** Families both sides listed in Multiprotocol capabilities; IPv4 alone if the peer lists none (RFC 4760 section 8). */
export function negotiatedFamilies(peerCaps: readonly Capability[]): Set<AddressFamily> {
  const mp = peerCaps.filter((c) => c.kind === 'multiprotocol' && c.safi === Safi.Unicast);
  if (mp.length === 0) return new Set(['ipv4']);
  const out = new Set<AddressFamily>();
  for (const c of mp) if (c.kind === 'multiprotocol') out.add(c.afi === Afi.IPv6 ? 'ipv6' : 'ipv4');
  return out;
}

/**
 * A BGP session to one peer: connects out, reconnects with jittered exponential backoff,
 * announces the desired routes once Established, answers ROUTE-REFRESH (RFC 4271 section 8, RFC 2918).
 */
export class BgpSession {
  readonly #config: SessionConfig;
  readonly #listener: (e: SessionEvent) => void;
  readonly #rib = new AdjRibOut();
  readonly #timers = new Map<TimerName, NodeJS.Timeout>();
  readonly #queue: FsmEvent[] = [];
  #fsm: FsmState;
  #socket: net.Socket | undefined;
  #pending: PendingConnect | undefined;
  #generation = 0;
  #framer = new Framer();
  #codec: CodecOptions = {};
  #peer: PeerContext | undefined;
  #desired: readonly Route[] = [];
  #localAddress: string | undefined;
  #running = false;
  #bfd: BfdSession | undefined;
  /** The prefixes last reported as not announceable, so each change is reported once. */
  #unserved = '';

  /** Creates a stopped session; call start(). */
  constructor(config: SessionConfig, listener: (e: SessionEvent) => void = () => {}) {
    this.#config = config;
    this.#listener = listener;
    const capabilities: Capability[] = [
      { kind: 'multiprotocol', afi: Afi.IPv4, safi: Safi.Unicast },
      { kind: 'multiprotocol', afi: Afi.IPv6, safi: Safi.Unicast },
      { kind: 'route-refresh', code: 2 },
    ];
    if (config.gracefulRestartTime !== undefined) {
      const families = [Afi.IPv4, Afi.IPv6].map((afi) => ({ afi, safi: Safi.Unicast, forwardingState: false }));
      capabilities.push({ kind: 'graceful-restart', restarting: false, notification: false, restartTime: config.gracefulRestartTime, families });
    }
    this.#fsm = initialState({
      myAsn: config.myAsn,
      peerAsn: config.peerAsn,
      routerId: config.routerId ?? config.fallbackRouterId ?? '0.0.0.0',
      holdTime: config.holdTime ?? 90,
      ...(config.keepaliveTime !== undefined ? { keepaliveTime: config.keepaliveTime } : {}),
      connectRetryTime: config.connectRetryTime ?? 30,
      idleHoldTime: config.idleHoldTime ?? 1,
      maxIdleHoldTime: config.maxIdleHoldTime ?? 60,
      capabilities,
    });
  }

  /** Current FSM state name (RFC 4271 section 8.2.2). */
  get state(): FsmStateName {
    return this.#fsm.name;
  }

  /** Starts the session (ManualStart, RFC 4271 section 8.1.2), and BFD when configured (RFC 5882). */
  start(): void {
    const bfd = this.#config.bfd;
    if (bfd && !this.#bfd) {
      const session = new BfdSession(
        {
          peer: this.#config.peerAddress,
          ...(this.#config.localAddress !== undefined ? { localAddress: this.#config.localAddress } : {}),
          ...(bfd.intervalMs !== undefined ? { intervalMs: bfd.intervalMs } : {}),
          ...(bfd.transmitIntervalMs !== undefined ? { transmitIntervalMs: bfd.transmitIntervalMs } : {}),
          ...(bfd.receiveIntervalMs !== undefined ? { receiveIntervalMs: bfd.receiveIntervalMs } : {}),
          ...(bfd.multiplier !== undefined ? { multiplier: bfd.multiplier } : {}),
        },
        (e) => {
          if (e.type === 'error') this.#emit({ type: 'error', message: e.message });
          else if (e.type === 'discarded') {
            const packets = e.count === 1 ? '1 packet' : `${e.count} packets`;
            const why = { ttl: 'a TTL other than 255', malformed: 'an unreadable Control packet', rules: 'a packet the reception rules refuse' }[e.kind];
            this.#emit({ type: 'error', message: `BFD: discarded ${packets} from ${this.#config.peerAddress} with ${why} since the last such report; the latest: ${e.reason}` });
          } else if (e.type === 'up') this.#emit({ type: 'bfd', state: 'up' });
          else {
            this.#emit({ type: 'bfd', state: 'down', diag: e.diag });
            this.#dispatch({ type: 'BfdDown' });
          }
        },
      );
      this.#bfd = session;
      session.start().catch((e: unknown) => this.#emit({ type: 'error', message: `BFD: ${String(e)}` }));
    }
    this.#dispatch({ type: 'ManualStart' });
  }

  /** Replaces the routes to announce; sends the difference at once when Established (RFC 4271 section 9.2). */
  setRoutes(routes: readonly Route[]): void {
    this.#desired = routes;
    if (this.#fsm.name === 'Established') this.#syncRoutes();
  }

  /**
   * Withdraws every route, sends Cease / Administrative Shutdown with `text` and closes
   * (RFC 4486 section 4, RFC 8203/9003); resolves when the connection is gone.
   */
  async stop(text?: string): Promise<void> {
    if (this.#fsm.name === 'Established' && this.#peer) this.#sendUpdates(this.#rib.withdrawAll(this.#peer));
    const socket = this.#socket;
    const closed = socket && !socket.destroyed ? new Promise<void>((resolve) => socket.once('close', () => resolve())) : Promise.resolve();
    this.#dispatch(text === undefined ? { type: 'ManualStop' } : { type: 'ManualStop', text });
    // BFD goes AdminDown only once the connection is gone: sent at once, its UDP packet can
    // overtake the NOTIFICATION still queued on TCP, and the router then logs "BFD session
    // down" instead of our shutdown text.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    this.#bfd?.stop();
    this.#bfd = undefined;
  }

  #emit(e: SessionEvent): void {
    try {
      this.#listener(e);
    } catch {
      // A listener's failure must not take the session down.
    }
  }

  #dispatch(event: FsmEvent): void {
    this.#queue.push(event);
    if (this.#running) return;
    this.#running = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        const before = this.#fsm.name;
        const out = step(this.#fsm, next);
        this.#fsm = out.state;
        if (out.state.name !== before) this.#emit({ type: 'state', state: out.state.name });
        for (const action of out.actions) this.#perform(action);
      }
    } finally {
      this.#running = false;
    }
  }

  #jitter(ms: number): number {
    return Math.round(ms * (0.75 + 0.25 * (this.#config.random ?? Math.random)()));
  }

  #perform(action: FsmAction): void {
    switch (action.type) {
      case 'connect':
        this.#connect();
        break;
      case 'send':
        if (action.message.type === 'notification') this.#emit({ type: 'notification-sent', message: action.message });
        this.#write(action.message);
        break;
      case 'drop-connection':
        this.#drop();
        break;
      case 'start-timer': {
        this.#stopTimer(action.timer);
        const ms = action.timer === 'hold' ? action.seconds * 1000 : this.#jitter(action.seconds * 1000);
        if (action.timer === 'idle-hold') this.#emit({ type: 'reconnect', delayMs: ms });
        const t = setTimeout(() => {
          this.#timers.delete(action.timer);
          if (action.timer === 'connect-retry') this.#connectTimedOut(action.seconds);
          this.#dispatch({ type: 'TimerExpired', timer: action.timer });
        }, ms);
        this.#timers.set(action.timer, t);
        break;
      }
      case 'stop-timer':
        this.#stopTimer(action.timer);
        break;
      case 'routes-up':
        this.#up(action.negotiated);
        break;
      case 'routes-down':
        this.#rib.clear();
        this.#peer = undefined;
        break;
      case 'received-update':
        this.#received(action.message);
        break;
      case 'refresh-requested': {
        const { afi, safi } = action.message;
        this.#emit({ type: 'route-refresh', afi, safi });
        if (this.#peer) {
          const peer = this.#peer;
          const family = (Object.keys(AFI_OF) as AddressFamily[]).find((f) => AFI_OF[f] === afi);
          if (family && peer.families.has(family) && safi === Safi.Unicast) {
            const only: PeerContext = { ...peer, families: new Set([family]) };
            this.#sendUpdates([...this.#rib.resend(only), ...endOfRibMarkers(only)]);
          }
        }
        break;
      }
      case 'session-failed':
        if (action.reason.notification && action.reason.cause === 'notification-received') {
          this.#emit({ type: 'notification-received', message: action.reason.notification });
        }
        break;
    }
  }

  /** A connect attempt got no answer within ConnectRetryTime: say why that may be. */
  #connectTimedOut(seconds: number): void {
    if (this.#fsm.name !== 'Connect') return;
    const hint =
      this.#config.password !== undefined
        ? '; a TCP MD5 password is set, and a key mismatch is a likely cause: routers drop segments whose signature does not verify without answering (RFC 2385 section 4)'
        : '; check that the router is up, lists us as a neighbour, and that nothing filters TCP port 179';
    this.#emit({ type: 'error', message: `no answer from ${this.#config.peerAddress} within ${seconds}s${hint}` });
  }

  #stopTimer(timer: TimerName): void {
    const t = this.#timers.get(timer);
    if (t) clearTimeout(t);
    this.#timers.delete(timer);
  }

  #connect(): void {
    this.#drop();
    const generation = ++this.#generation;
    this.#framer = new Framer();
    this.#codec = {};
    const { peerAddress, peerPort, localAddress, password, ttl } = this.#config;
    const current = (): boolean => generation === this.#generation;
    this.#pending = connectTcp(
      {
        host: peerAddress,
        port: peerPort ?? 179,
        ...(localAddress !== undefined ? { localAddress } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(ttl !== undefined ? { ttl } : {}),
      },
      (result) => {
        if (!current()) {
          if (!(result instanceof Error)) result.destroy();
          return;
        }
        this.#pending = undefined;
        if (result instanceof Error) {
          this.#emit({ type: 'error', message: result.message });
          this.#dispatch({ type: 'TcpConnectionFails' });
          return;
        }
        this.#adopt(result, current);
      },
    );
  }

  #adopt(socket: net.Socket, current: () => boolean): void {
    this.#socket = socket;
    socket.setNoDelay(true);
    this.#localAddress = socket.localAddress;
    if (this.#config.routerId === undefined) this.#useRouterId(this.#localAddress);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk, current));
    socket.on('error', (e) => {
      if (current()) this.#emit({ type: 'error', message: e.message });
    });
    socket.on('close', () => {
      if (current()) {
        this.#socket = undefined;
        this.#dispatch({ type: 'TcpConnectionFails' });
      }
    });
    this.#dispatch({ type: 'TcpConnectionConfirmed' });
  }

  /** Identifies us by our end of the connection when it is IPv4 (the default router-id). */
  #useRouterId(local: string | undefined): void {
    const address = local?.replace(/^::ffff:/, '');
    const routerId = address !== undefined && isIPv4(address) ? address : this.#config.fallbackRouterId;
    if (routerId === undefined) {
      this.#emit({ type: 'error', message: `no BGP identifier: our end of the session (${local ?? 'unknown'}) is not IPv4 and no router-id is configured` });
      return;
    }
    this.#fsm = { ...this.#fsm, config: { ...this.#fsm.config, routerId } };
  }

  #onData(chunk: Buffer, current: () => boolean): void {
    try {
      for (const result of this.#framer.push(chunk)) {
        if (!current()) return;
        if (result.ok) this.#dispatch({ type: 'Message', message: result.message });
        else this.#dispatch({ type: 'DecodeError', error: result.error });
      }
    } catch (e) {
      if (!current()) return;
      this.#emit({ type: 'error', message: `cannot read from peer: ${String(e)}` });
      this.#dispatch({ type: 'TcpConnectionFails' });
    }
  }

  #drop(): void {
    this.#pending?.cancel();
    this.#pending = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#generation += 1;
    if (!socket || socket.destroyed) return;
    // end() lets a queued NOTIFICATION reach the peer before the FIN (RFC 4271 section 6).
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  #write(message: BgpMessage): void {
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    try {
      socket.write(encodeMessage(message, this.#codec));
    } catch (e) {
      this.#emit({ type: 'error', message: `cannot encode ${message.type}: ${String(e)}` });
    }
  }

  #up(n: Negotiated): void {
    const theirFour = n.peerOpen.capabilities.some((c) => c.kind === 'four-octet-as');
    const external = n.peerAsn !== this.#config.myAsn;
    this.#codec = { fourOctetAs: theirFour, external };
    this.#framer.setOptions(this.#codec);
    this.#peer = { myAsn: this.#config.myAsn, external, families: negotiatedFamilies(n.peerOpen.capabilities) };
    this.#rib.clear();
    this.#syncRoutes();
    this.#sendUpdates(endOfRibMarkers(this.#peer));
    this.#emit({ type: 'end-of-rib' });
  }

  /**
   * Fills in each empty next hop: our end of the TCP connection for its own family, and for
   * the other family an address of ours found by nextHopLookup (as FRR and BIRD do). A route
   * that cannot be sent (no such address, or a family the peer did not negotiate) is
   * reported in a 'not-announced' event, never dropped silently.
   */
  #resolve(routes: readonly Route[], peer: PeerContext): Route[] {
    const local = this.#localAddress?.replace(/^::ffff:/, '');
    const localFamily: AddressFamily | undefined = local === undefined ? undefined : isIPv6(local) ? 'ipv6' : 'ipv4';
    const lookup = this.#config.nextHopLookup ?? interfaceNextHop;
    const found = new Map<AddressFamily, string | undefined>();
    const out: Route[] = [];
    const unserved = new Map<string, string[]>();
    const skip = (route: Route, reason: string): void => {
      const list = unserved.get(reason);
      if (list) list.push(routeKey(route.prefix));
      else unserved.set(reason, [routeKey(route.prefix)]);
    };
    for (const r of routes) {
      const family = r.prefix.family;
      if (!peer.families.has(family)) skip(r, `the peer did not negotiate ${family} unicast (RFC 4760)`);
      else if (r.nextHop !== '') out.push(r);
      else if (local === undefined) continue;
      else if (localFamily === family) out.push({ ...r, nextHop: local });
      else {
        if (!found.has(family)) found.set(family, lookup(family, local));
        const nextHop = found.get(family);
        if (nextHop !== undefined) out.push({ ...r, nextHop });
        else skip(r, `no ${family} address on the interface of ${local} to use as next hop over this ${localFamily} session`);
      }
    }
    this.#reportUnserved(unserved);
    return out;
  }

  #reportUnserved(unserved: ReadonlyMap<string, string[]>): void {
    const key = JSON.stringify([...unserved].map(([reason, prefixes]) => [reason, [...prefixes].sort()]).sort());
    if (key === this.#unserved) return;
    this.#unserved = key;
    for (const [reason, prefixes] of unserved) this.#emit({ type: 'not-announced', prefixes, reason });
  }

  #syncRoutes(): void {
    if (!this.#peer) return;
    this.#sendUpdates(this.#rib.sync(this.#resolve(this.#desired, this.#peer), this.#peer));
  }

  #sendUpdates(msgs: readonly UpdateMessage[]): void {
    if (msgs.length === 0) return;
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    try {
      socket.write(Buffer.concat(msgs.map((m) => encodeMessage(m, this.#codec))));
    } catch (e) {
      this.#emit({ type: 'error', message: `cannot encode UPDATE: ${String(e)}` });
      return;
    }
    const { withdrawn, announced } = routeCount(msgs);
    if (announced > 0) this.#emit({ type: 'announced', prefixes: announced, messages: msgs.length });
    if (withdrawn > 0) this.#emit({ type: 'withdrawn', prefixes: withdrawn, messages: msgs.length });
  }

  /** We are announce-only: routes from the peer are counted and dropped; our own AS in the path marks a loop (RFC 4271 9.1.2). */
  #received(msg: UpdateMessage): void {
    const prefixes = msg.nlri.length + (msg.attributes.mpReach?.nlri.length ?? 0);
    // An RFC 7606 treat-as-withdraw UPDATE announces nothing.
    if (prefixes === 0 || msg.treatAsWithdraw) return;
    const loop = (msg.attributes.asPath ?? []).some((s) => s.asns.includes(this.#config.myAsn));
    this.#emit({ type: 'received', prefixes, looped: loop ? prefixes : 0 });
  }
}
