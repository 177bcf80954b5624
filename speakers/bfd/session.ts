// Single-hop BFD (RFC 5880, RFC 5881) for one BGP peer, asynchronous mode, no echo, no
// authentication. The rules are pure functions (state.ts); BfdSession owns the two UDP
// sockets (receive on 3784 through the udp_ttl addon, which reports each packet's TTL; send
// from 49152-65535 with TTL 255) and the timers. A packet it cannot use is counted and
// reported, never dropped unseen.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { BfdDecodeError, BfdState, decodeBfdControl, encodeBfdControl, type BfdControl, type BfdStateValue } from './codec.js';
import { bfdAdminDown, bfdDetectExpired, bfdPacket, bfdReceive, bfdTtlDiscard, detectTimeMs, initialBfdVars, txIntervalMs, type BfdVars } from './state.js';
import { openTtlReceiver, type TtlReceiver } from './ttl-receiver.js';

/** UDP port BFD Control packets are sent to (RFC 5881 section 4). */
export const BFD_CONTROL_PORT = 3784;

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
  /** `count` packets of one kind from the peer were discarded since that kind's last report (at most one a minute per kind); `reason` is the latest one's. */
  | { readonly type: 'discarded'; readonly kind: BfdDiscardKind; readonly reason: string; readonly count: number };

/**
 * Why a packet from the peer was discarded: its TTL was not 255 (RFC 5881 section 5), it is not
 * a Control packet we can read (BfdDecodeError), or the reception rules refused it (RFC 5880
 * section 6.8.6: our own looped back, or the wrong discriminator).
 */
export type BfdDiscardKind = 'ttl' | 'malformed' | 'rules';

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
  /** Packets from the peer discarded, by kind: in total, and since that kind's last report at `#reportedAt` (performance.now()). */
  readonly #discards: Record<BfdDiscardKind, number> = { ttl: 0, malformed: 0, rules: 0 };
  readonly #unreported: Record<BfdDiscardKind, number> = { ttl: 0, malformed: 0, rules: 0 };
  readonly #reportedAt: Partial<Record<BfdDiscardKind, number>> = {};

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
    return this.#discards.ttl;
  }

  /** Packets from the peer discarded so far, by kind. */
  get discards(): Readonly<Record<BfdDiscardKind, number>> {
    return { ...this.#discards };
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
    this.#vars = bfdAdminDown(this.#vars);
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
      this.#discard('ttl', wrongTtl);
      return;
    }
    let packet: BfdControl;
    try {
      packet = decodeBfdControl(msg);
    } catch (err) {
      if (!(err instanceof BfdDecodeError)) throw err;
      this.#discard('malformed', err.message);
      return;
    }
    const before = this.#vars;
    const r = bfdReceive(before, packet);
    if (r.discarded !== undefined) {
      this.#discard('rules', r.discarded);
      return;
    }
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

  #discard(kind: BfdDiscardKind, reason: string): void {
    this.#discards[kind] += 1;
    this.#unreported[kind] += 1;
    const now = performance.now();
    const last = this.#reportedAt[kind];
    if (last !== undefined && now - last < DISCARD_REPORT_INTERVAL_MS) return;
    this.#reportedAt[kind] = now;
    const count = this.#unreported[kind];
    this.#unreported[kind] = 0;
    this.#listener({ type: 'discarded', kind, reason, count });
  }

  #armDetect(): void {
    clearTimeout(this.#detectTimer);
    if (this.#vars.state !== BfdState.Init && this.#vars.state !== BfdState.Up) return;
    this.#detectTimer = setTimeout(() => {
      const wasUp = this.#vars.state === BfdState.Up;
      this.#vars = bfdDetectExpired(this.#vars);
      this.#send(false);
      this.#scheduleTx();
      if (wasUp) this.#listener({ type: 'down', diag: this.#vars.localDiag });
    }, detectTimeMs(this.#vars));
  }
}
