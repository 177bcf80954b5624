// Single-hop BFD (RFC 5880, RFC 5881) for one BGP peer, asynchronous mode, no echo, no
// authentication. The reception rules are pure functions (bfdTtlDiscard, bfdReceive);
// BfdSession owns the two UDP sockets (receive on 3784 through the udp_ttl addon, which reports
// each packet's TTL; send from 49152-65535 with TTL 255) and the timers.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { BfdDiag, BfdState, decodeBfdControl, encodeBfdControl, type BfdControl, type BfdStateValue } from './bfd-packet.js';
import { openTtlReceiver, type TtlReceiver } from './ttl-receiver.js';

/** UDP port BFD Control packets are sent to (RFC 5881 section 4). */
export const BFD_CONTROL_PORT = 3784;
/** Transmit interval while the session is not Up: at least one second (RFC 5880 section 6.8.3). */
export const SLOW_TX_US = 1_000_000;

/** The state variables of RFC 5880 section 6.8.1 that this implementation uses; intervals in microseconds. */
export interface BfdVars {
  readonly state: BfdStateValue;
  readonly remoteState: BfdStateValue;
  readonly localDiscr: number;
  readonly remoteDiscr: number;
  readonly localDiag: number;
  /** Desired Min TX we advertise now: slow until Up, then the configured fast rate. */
  readonly desiredMinTx: number;
  readonly requiredMinRx: number;
  readonly remoteMinRx: number;
  readonly remoteDesiredMinTx: number;
  readonly remoteDetectMult: number;
  readonly detectMult: number;
  /** The configured fast rate, used once Up. */
  readonly fastTx: number;
  /** A Poll Sequence is running: every packet carries P until a Final arrives (RFC 5880 section 6.5). */
  readonly polling: boolean;
}

/** The outcome of one received packet. */
export interface BfdReceive {
  readonly vars: BfdVars;
  /** Why the packet was discarded, if it was. */
  readonly discarded?: string;
  /** Send a packet with the Final bit now (the peer polled). */
  readonly sendFinal: boolean;
  /** The session state changed; send a packet now. */
  readonly changed: boolean;
}

/**
 * Fresh variables in Down (RFC 5880 section 6.8.1): `fastTxUs` becomes bfd.DesiredMinTxInterval
 * once Up, `requiredMinRxUs` (default the same) bfd.RequiredMinRxInterval from the start.
 */
export function initialBfdVars(localDiscr: number, fastTxUs: number, detectMult: number, requiredMinRxUs = fastTxUs): BfdVars {
  return {
    state: BfdState.Down,
    remoteState: BfdState.Down,
    localDiscr,
    remoteDiscr: 0,
    localDiag: BfdDiag.None,
    desiredMinTx: Math.max(SLOW_TX_US, fastTxUs),
    requiredMinRx: requiredMinRxUs,
    remoteMinRx: 1,
    remoteDesiredMinTx: SLOW_TX_US,
    remoteDetectMult: detectMult,
    detectMult,
    fastTx: fastTxUs,
    polling: false,
  };
}

function enter(v: BfdVars, state: BfdStateValue, diag: number): BfdVars {
  if (state === BfdState.Up) {
    // Switch to the fast rate at once; a faster rate needs a Poll Sequence to be agreed (6.8.3).
    return { ...v, state, localDiag: diag, desiredMinTx: v.fastTx, polling: v.fastTx !== v.desiredMinTx || v.polling };
  }
  return { ...v, state, localDiag: diag, desiredMinTx: Math.max(SLOW_TX_US, v.fastTx), polling: false };
}

/** The TTL or hop limit single-hop BFD sends and accepts (RFC 5881 section 5). */
export const BFD_TTL = 255;

/**
 * Why a packet that arrived with this IP TTL / IPv6 hop limit must be discarded, or undefined
 * if it may be processed: single-hop BFD accepts only 255, so that a packet from beyond the
 * link (whose TTL a router has lowered) cannot drive the session (RFC 5881 section 5).
 */
export function bfdTtlDiscard(ttl: number): string | undefined {
  if (ttl === BFD_TTL) return undefined;
  return ttl < 0 ? `TTL unknown, must be ${BFD_TTL} (RFC 5881 section 5)` : `TTL ${ttl}, not ${BFD_TTL} (RFC 5881 section 5)`;
}

/** Applies one received Control packet (RFC 5880 section 6.8.6). */
export function bfdReceive(v: BfdVars, p: BfdControl): BfdReceive {
  // Our own packets coming back (a peer address that is local) must not bring the session Up.
  if (p.myDiscriminator === v.localDiscr) return { vars: v, discarded: 'our own discriminator: looped back', sendFinal: false, changed: false };
  if (p.yourDiscriminator === 0 && p.state !== BfdState.Down && p.state !== BfdState.AdminDown) {
    return { vars: v, discarded: 'your discriminator 0 outside Down', sendFinal: false, changed: false };
  }
  if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== v.localDiscr) {
    return { vars: v, discarded: `your discriminator ${p.yourDiscriminator} is not ours`, sendFinal: false, changed: false };
  }
  let n: BfdVars = {
    ...v,
    remoteDiscr: p.myDiscriminator,
    remoteState: p.state,
    remoteMinRx: p.requiredMinRx,
    remoteDesiredMinTx: p.desiredMinTx,
    remoteDetectMult: p.detectMult,
  };
  if (p.final && n.polling) n = { ...n, polling: false };
  const before = n.state;
  if (n.state !== BfdState.AdminDown) {
    if (p.state === BfdState.AdminDown) {
      if (n.state !== BfdState.Down) n = enter(n, BfdState.Down, BfdDiag.NeighborSignaledDown);
    } else if (n.state === BfdState.Down) {
      if (p.state === BfdState.Down) n = enter(n, BfdState.Init, BfdDiag.None);
      else if (p.state === BfdState.Init) n = enter(n, BfdState.Up, BfdDiag.None);
    } else if (n.state === BfdState.Init) {
      if (p.state === BfdState.Init || p.state === BfdState.Up) n = enter(n, BfdState.Up, BfdDiag.None);
    } else if (p.state === BfdState.Down) {
      n = enter(n, BfdState.Down, BfdDiag.NeighborSignaledDown);
    }
  }
  return { vars: n, sendFinal: p.poll, changed: n.state !== before };
}

/** The packet we send now (RFC 5880 section 6.8.7); `final` answers a Poll. */
export function bfdPacket(v: BfdVars, final: boolean): BfdControl {
  return {
    diag: v.localDiag,
    state: v.state,
    poll: v.polling && !final,
    final,
    detectMult: v.detectMult,
    myDiscriminator: v.localDiscr,
    yourDiscriminator: v.remoteDiscr,
    desiredMinTx: v.desiredMinTx,
    requiredMinRx: v.requiredMinRx,
  };
}

/** Milliseconds between our packets before jitter: the slower of our wish and the peer's limit (6.8.2). */
export function txIntervalMs(v: BfdVars): number {
  return Math.max(v.desiredMinTx, v.remoteMinRx) / 1000;
}

/** Detection time in milliseconds: the peer's multiplier times the agreed receive interval (6.8.4). */
export function detectTimeMs(v: BfdVars): number {
  return (v.remoteDetectMult * Math.max(v.requiredMinRx, v.remoteDesiredMinTx)) / 1000;
}

/** How to run BFD with one peer. */
export interface BfdConfig {
  /** The peer's address. */
  readonly peer: string;
  /** Our address on the link; the wildcard if unset. */
  readonly localAddress?: string;
  /** Fast transmit and receive interval in milliseconds once Up; default 300. */
  readonly intervalMs?: number;
  /** Desired Min TX Interval once Up, in milliseconds; `intervalMs` when unset (RFC 5880 section 4.1). */
  readonly transmitIntervalMs?: number;
  /** Required Min RX Interval, in milliseconds; `intervalMs` when unset (RFC 5880 section 4.1). */
  readonly receiveIntervalMs?: number;
  /** Detect Mult; default 3. */
  readonly multiplier?: number;
}

/** Something the BFD session reports. */
export type BfdEvent =
  | { readonly type: 'up' }
  | { readonly type: 'down'; readonly diag: number }
  | { readonly type: 'error'; readonly message: string }
  /** `count` packets from the peer were discarded since the last such report (at most one a minute); `reason` is the latest one's. */
  | { readonly type: 'discarded'; readonly reason: string; readonly count: number };

/** Milliseconds between two reports of discarded packets, so a misconfigured peer cannot flood the log. */
export const DISCARD_REPORT_INTERVAL_MS = 60_000;

/** A single-hop BFD session to one peer (RFC 5881), started at once, stopped with stop(). */
export class BfdSession {
  readonly #config: BfdConfig;
  readonly #listener: (e: BfdEvent) => void;
  #vars: BfdVars;
  #rx: TtlReceiver | undefined;
  #tx: dgram.Socket | undefined;
  #txTimer: NodeJS.Timeout | undefined;
  #detectTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Packets discarded for a wrong TTL: in total, and since the last report at `#reportedAt` (performance.now()). */
  #ttlDiscards = 0;
  #unreported = 0;
  #reportedAt: number | undefined;

  /** Creates the session; call start(). */
  constructor(config: BfdConfig, listener: (e: BfdEvent) => void) {
    this.#config = config;
    this.#listener = listener;
    const discr = 1 + Math.floor(Math.random() * 0xfffffffe);
    const fallback = config.intervalMs ?? 300;
    this.#vars = initialBfdVars(discr, (config.transmitIntervalMs ?? fallback) * 1000, config.multiplier ?? 3, (config.receiveIntervalMs ?? fallback) * 1000);
  }

  /** Current state (RFC 5880 section 4.1 values). */
  get state(): BfdStateValue {
    return this.#vars.state;
  }

  /** Packets discarded so far because their TTL or hop limit was not 255 (RFC 5881 section 5). */
  get ttlDiscards(): number {
    return this.#ttlDiscards;
  }

  /** Binds the sockets and starts sending. */
  async start(): Promise<void> {
    const type = isIPv6(this.#config.peer) ? 'udp6' : 'udp4';
    const wildcard = type === 'udp6' ? '::' : '0.0.0.0';
    this.#rx = openTtlReceiver({ address: this.#config.localAddress ?? wildcard, port: BFD_CONTROL_PORT, reuseAddr: true }, (msg, from, ttl) =>
      this.#onMessage(msg, from, ttl),
    );
    // Source port from 49152-65535 (RFC 5881 section 4); retry on a port in use.
    for (let attempt = 0; ; attempt += 1) {
      const tx = dgram.createSocket(type);
      const port = 49152 + Math.floor(Math.random() * 16384);
      try {
        await new Promise<void>((resolve, reject) => {
          tx.once('error', reject);
          tx.bind({ address: this.#config.localAddress ?? wildcard, port }, () => resolve());
        });
        tx.setTTL(255);
        tx.on('error', (e) => this.#listener({ type: 'error', message: `BFD send: ${e.message}` }));
        this.#tx = tx;
        break;
      } catch (e) {
        tx.close();
        if (attempt >= 20) throw e;
      }
    }
    this.#scheduleTx();
  }

  /** Tells the peer we are going administratively down, then closes (RFC 5880 section 6.8.16). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#vars = { ...this.#vars, state: BfdState.AdminDown, localDiag: BfdDiag.AdministrativelyDown, polling: false };
    this.#send(false);
    clearTimeout(this.#txTimer);
    clearTimeout(this.#detectTimer);
    const tx = this.#tx;
    setTimeout(() => tx?.close(), 50).unref();
    this.#rx?.close();
  }

  #send(final: boolean): void {
    const tx = this.#tx;
    if (!tx) return;
    tx.send(encodeBfdControl(bfdPacket(this.#vars, final)), BFD_CONTROL_PORT, this.#config.peer);
  }

  #scheduleTx(): void {
    clearTimeout(this.#txTimer);
    if (this.#stopped) return;
    // Jitter: 75-100% of the interval, 75-90% with a multiplier of 1 (RFC 5880 section 6.8.7).
    const top = this.#vars.detectMult === 1 ? 0.9 : 1;
    const ms = txIntervalMs(this.#vars) * (0.75 + Math.random() * (top - 0.75));
    this.#txTimer = setTimeout(() => {
      this.#send(false);
      this.#scheduleTx();
    }, ms);
  }

  #onMessage(msg: Buffer, from: string, ttl: number): void {
    if (this.#stopped || from.replace(/^::ffff:/, '') !== this.#config.peer) return;
    const wrongTtl = bfdTtlDiscard(ttl);
    if (wrongTtl !== undefined) {
      this.#discardForTtl(wrongTtl);
      return;
    }
    const packet = decodeBfdControl(msg);
    if (typeof packet === 'string') return;
    const before = this.#vars;
    const r = bfdReceive(before, packet);
    if (r.discarded) return;
    this.#vars = r.vars;
    if (r.sendFinal) this.#send(true);
    if (r.changed) {
      this.#send(false);
      if (r.vars.state === BfdState.Up) this.#listener({ type: 'up' });
      if (before.state === BfdState.Up) this.#listener({ type: 'down', diag: r.vars.localDiag });
    }
    if (r.changed || before.desiredMinTx !== r.vars.desiredMinTx || before.remoteMinRx !== r.vars.remoteMinRx) this.#scheduleTx();
    this.#armDetect();
  }

  #discardForTtl(reason: string): void {
    this.#ttlDiscards += 1;
    this.#unreported += 1;
    const now = performance.now();
    if (this.#reportedAt !== undefined && now - this.#reportedAt < DISCARD_REPORT_INTERVAL_MS) return;
    this.#reportedAt = now;
    const count = this.#unreported;
    this.#unreported = 0;
    this.#listener({ type: 'discarded', reason, count });
  }

  #armDetect(): void {
    clearTimeout(this.#detectTimer);
    if (this.#vars.state !== BfdState.Init && this.#vars.state !== BfdState.Up) return;
    this.#detectTimer = setTimeout(() => {
      const wasUp = this.#vars.state === BfdState.Up;
      this.#vars = { ...enter(this.#vars, BfdState.Down, BfdDiag.ControlDetectionTimeExpired), remoteDiscr: 0 };
      this.#send(false);
      this.#scheduleTx();
      if (wasUp) this.#listener({ type: 'down', diag: BfdDiag.ControlDetectionTimeExpired });
    }, detectTimeMs(this.#vars));
  }
}
