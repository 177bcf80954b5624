// The reception and transmission rules of single-hop BFD (RFC 5880 section 6.8, RFC 5881
// section 5) as pure functions of the session's state variables: what a received packet does,
// what to send, and the two intervals. BfdSession (session.ts) owns the sockets and timers.
import { BfdDiag, BfdState, type BfdControl, type BfdStateValue } from './codec.js';
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

/** The detection time passed with no packet from the peer: back to Down, forgetting its discriminator (6.8.4). */
export function bfdDetectExpired(v: BfdVars): BfdVars {
  return { ...enter(v, BfdState.Down, BfdDiag.ControlDetectionTimeExpired), remoteDiscr: 0 };
}

/** We stop: AdminDown, told to the peer in one last packet (RFC 5880 section 6.8.16). */
export function bfdAdminDown(v: BfdVars): BfdVars {
  return { ...v, state: BfdState.AdminDown, localDiag: BfdDiag.AdministrativelyDown, polling: false };
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
