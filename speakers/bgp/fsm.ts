// The BGP-4 finite state machine of RFC 4271 section 8 as a pure function: the caller owns the
// TCP connection and the timers, feeds events in and carries out the actions that come back.
import { Buffer } from 'node:buffer';
import {
  BgpDecodeError,
  CeaseSubcode,
  ErrorCode,
  OpenError,
  openAsn,
  myAsField,
  shutdownNotification,
  type BgpMessage,
  type Capability,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
} from './codec/index.js';

/**
 * The session states (RFC 4271 section 8.2.2) this speaker goes through. It only connects
 * out, as MetalLB's and kube-vip's speakers do, and never listens on port 179, so it has no
 * Active state (RFC 4271's state for waiting on the peer's connection) and no connection
 * collisions to resolve (section 6.8): a failed connection goes back to Idle, and the
 * IdleHoldTimer starts the next attempt.
 */
export type FsmStateName = 'Idle' | 'Connect' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** The timers the caller runs for the FSM (RFC 4271 section 8.1.3 and the IdleHoldTimer of 8.1.1). */
export type TimerName = 'connect-retry' | 'hold' | 'keepalive' | 'idle-hold';

/** What this speaker proposes in its OPEN (RFC 4271 section 4.2, RFC 5492). */
export interface FsmConfig {
  /** Our ASN, 4-octet capable (RFC 6793). */
  readonly myAsn: number;
  /** The ASN the peer must show in its OPEN (RFC 4271 section 6.2, Bad Peer AS). */
  readonly peerAsn: number;
  /** Our BGP Identifier as a dotted quad (RFC 4271 section 4.2). */
  readonly routerId: string;
  /** Proposed hold time in seconds: 0 or at least 3 (RFC 4271 section 4.2). */
  readonly holdTime: number;
  /**
   * Configured KeepaliveTime in seconds (RFC 4271 section 10); one third of the negotiated
   * hold time when unset. Shortened to a third of the negotiated hold time when the peer
   * negotiated a hold time below ours, so its hold timer never expires between KEEPALIVEs.
   */
  readonly keepaliveTime?: number;
  /** ConnectRetryTime in seconds, the bound on one TCP connect attempt (RFC 4271 section 10 suggests 120). */
  readonly connectRetryTime: number;
  /** Capabilities besides 4-octet AS, which is always sent (RFC 5492). */
  readonly capabilities: readonly Capability[];
  /** First IdleHoldTime in seconds, doubled per consecutive failure (RFC 4271 section 8.1.1, DampPeerOscillations). */
  readonly idleHoldTime: number;
  /** Upper bound of the doubled IdleHoldTime in seconds. */
  readonly maxIdleHoldTime: number;
}

/** Values agreed in the OPEN exchange (RFC 4271 section 4.2). */
export interface Negotiated {
  /** min(our hold time, theirs); 0 means no keepalives and no hold timer. */
  readonly holdTime: number;
  /** The configured keepalive, or one third of the hold time, at least 1; 0 when holdTime is 0 (RFC 4271 sections 4.4, 10). */
  readonly keepaliveTime: number;
  /** The peer's OPEN as received. */
  readonly peerOpen: OpenMessage;
  /** The peer's ASN, from the 4-octet AS capability when present (RFC 6793 section 3). */
  readonly peerAsn: number;
}

/** The FSM's whole state; a plain value, replaced on every step (RFC 4271 section 8). */
export interface FsmState {
  /** Current state. */
  readonly name: FsmStateName;
  /** Configuration, fixed for the life of the FSM. */
  readonly config: FsmConfig;
  /** ConnectRetryCounter: consecutive failures since the last Established or ManualStart (RFC 4271 section 8). */
  readonly connectRetryCounter: number;
  /**
   * Consecutive failures of sessions that got past TCP (OpenSent or later) since the last
   * Established: only these double the IdleHoldTime (DampPeerOscillations, RFC 4271 8.1.1).
   */
  readonly sessionFailures: number;
  /** Set once the OPEN exchange succeeded; cleared when the session ends. */
  readonly negotiated?: Negotiated;
  /** True after ManualStop: no automatic restart (RFC 4271 section 8.1.2). */
  readonly stopped: boolean;
}

/** Inputs to the FSM, named after the RFC 4271 section 8.1 events. */
export type FsmEvent =
  | { readonly type: 'ManualStart' }
  | { readonly type: 'ManualStop'; readonly text?: string }
  | { readonly type: 'AutomaticStart' }
  | { readonly type: 'TimerExpired'; readonly timer: TimerName }
  | { readonly type: 'TcpConnectionConfirmed' }
  | { readonly type: 'TcpConnectionFails' }
  | { readonly type: 'Message'; readonly message: BgpMessage }
  | { readonly type: 'DecodeError'; readonly error: BgpDecodeError }
  | { readonly type: 'BfdDown' };

/** Why a session ended, for logs and for the caller's decision to restart. */
export interface DownReason {
  /** Short machine-readable cause. */
  readonly cause: 'manual-stop' | 'hold-timer' | 'tcp-failure' | 'bfd-down' | 'notification-received' | 'notification-sent' | 'fsm-error';
  /** The NOTIFICATION sent or received, if any. */
  readonly notification?: NotificationMessage;
}

/** Work for the caller: socket, timer and route-table effects (RFC 4271 section 8.2.2). */
export type FsmAction =
  | { readonly type: 'connect' }
  | { readonly type: 'send'; readonly message: BgpMessage }
  | { readonly type: 'drop-connection' }
  | { readonly type: 'start-timer'; readonly timer: TimerName; readonly seconds: number }
  | { readonly type: 'stop-timer'; readonly timer: TimerName }
  | { readonly type: 'routes-up'; readonly negotiated: Negotiated }
  | { readonly type: 'routes-down'; readonly reason: DownReason }
  | { readonly type: 'received-update'; readonly message: UpdateMessage }
  | { readonly type: 'refresh-requested'; readonly message: RouteRefreshMessage }
  | { readonly type: 'session-failed'; readonly reason: DownReason };

/** The result of one step: the next state and what to do, in order. */
export interface FsmStep {
  /** Next state. */
  readonly state: FsmState;
  /** Actions to carry out in order. */
  readonly actions: readonly FsmAction[];
}

/** Hold time used while waiting for the peer's OPEN (RFC 4271 section 8.2.2, "large value", 4 minutes suggested). */
export const OPEN_HOLD_TIME = 240;

/** Returns the FSM at rest in Idle (RFC 4271 section 8.2.2). */
export function initialState(config: FsmConfig): FsmState {
  return { name: 'Idle', config, connectRetryCounter: 0, sessionFailures: 0, stopped: true };
}

/** Builds our OPEN: My AS field, hold time, identifier and capabilities (RFC 4271 4.2, RFC 6793 section 3). */
export function buildOpen(config: FsmConfig): OpenMessage {
  const caps = config.capabilities.filter((c) => c.kind !== 'four-octet-as');
  return {
    type: 'open',
    myAs: myAsField(config.myAsn),
    holdTime: config.holdTime,
    bgpId: config.routerId,
    capabilities: [...caps, { kind: 'four-octet-as', asn: config.myAsn }],
  };
}

/** Checks a received OPEN against our configuration; returns the error to send or the agreed values (RFC 4271 section 6.2). */
export function validateOpen(config: FsmConfig, open: OpenMessage): BgpDecodeError | Negotiated {
  const peerAsn = openAsn(open);
  if (peerAsn !== config.peerAsn) {
    const field = Buffer.alloc(2);
    field.writeUInt16BE(open.myAs, 0);
    return new BgpDecodeError(ErrorCode.OpenMessage, OpenError.BadPeerAs, `peer AS ${peerAsn}, expected ${config.peerAsn}`, field);
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return new BgpDecodeError(ErrorCode.OpenMessage, OpenError.UnacceptableHoldTime, `hold time ${open.holdTime} is below 3`);
  }
  if (peerAsn === config.myAsn && open.bgpId === config.routerId) {
    return new BgpDecodeError(ErrorCode.OpenMessage, OpenError.BadBgpIdentifier, `internal peer uses our BGP Identifier ${open.bgpId}`);
  }
  const holdTime = Math.min(config.holdTime, open.holdTime);
  return { holdTime, keepaliveTime: negotiatedKeepalive(config, holdTime), peerOpen: open, peerAsn };
}

/**
 * The interval between our KEEPALIVEs (RFC 4271 section 4.4): the configured one, unless the
 * peer negotiated a shorter hold time than ours; then at most a third of it. 0 when the hold
 * time is 0 (no KEEPALIVEs at all).
 */
export function negotiatedKeepalive(config: Pick<FsmConfig, 'holdTime' | 'keepaliveTime'>, holdTime: number): number {
  if (holdTime === 0) return 0;
  const third = Math.max(1, Math.floor(holdTime / 3));
  const configured = config.keepaliveTime;
  if (configured === undefined) return third;
  return holdTime < config.holdTime ? Math.min(configured, third) : configured;
}

/** Turns a typed decode error into the NOTIFICATION it calls for (RFC 4271 section 6). */
export function notificationFor(error: BgpDecodeError): NotificationMessage {
  return { type: 'notification', code: error.code, subcode: error.subcode, data: error.data };
}

/** Finite State Machine Error subcodes for unexpected messages (RFC 6608 section 3). */
const FsmErrorSubcode = { OpenSent: 1, OpenConfirm: 2, Established: 3 } as const;

function to(state: FsmState, name: FsmStateName, patch: Partial<FsmState> = {}): FsmState {
  return { ...state, ...patch, name };
}

/** The state with the OPEN exchange's results forgotten, for when a session ends. */
function withoutNegotiated(state: FsmState): FsmState {
  const copy: { -readonly [K in keyof FsmState]: FsmState[K] } = { ...state };
  delete copy.negotiated;
  return copy;
}

/**
 * Ends the session: optional NOTIFICATION, close, stop timers, Idle, and a restart later
 * unless stopped (RFC 4271 8.2.2). A connection that never got past TCP (refused, timed out,
 * a router restarting or holding us idle) is retried after the first IdleHoldTime every
 * time, so we reconnect promptly once the router is back; only sessions that failed after
 * the OPEN exchange began double it (DampPeerOscillations, RFC 4271 8.1.1).
 */
function fail(state: FsmState, reason: DownReason, send?: NotificationMessage): FsmStep {
  const wasUp = state.name === 'Established';
  const counter = state.connectRetryCounter + 1;
  const pastTcp = state.name === 'OpenSent' || state.name === 'OpenConfirm' || state.name === 'Established';
  const sessionFailures = pastTcp ? state.sessionFailures + 1 : state.sessionFailures;
  const actions: FsmAction[] = [];
  if (send) actions.push({ type: 'send', message: send });
  actions.push({ type: 'drop-connection' });
  for (const timer of ['connect-retry', 'hold', 'keepalive'] as const) actions.push({ type: 'stop-timer', timer });
  if (wasUp) actions.push({ type: 'routes-down', reason });
  actions.push({ type: 'session-failed', reason });
  const { idleHoldTime, maxIdleHoldTime } = state.config;
  const seconds = pastTcp ? Math.min(maxIdleHoldTime, idleHoldTime * 2 ** Math.min(sessionFailures - 1, 30)) : idleHoldTime;
  actions.push({ type: 'start-timer', timer: 'idle-hold', seconds });
  return { state: to(withoutNegotiated(state), 'Idle', { connectRetryCounter: counter, sessionFailures }), actions };
}

function manualStop(state: FsmState, text: string | undefined): FsmStep {
  const actions: FsmAction[] = [];
  const talking = state.name === 'OpenSent' || state.name === 'OpenConfirm' || state.name === 'Established';
  const notification: NotificationMessage =
    text === undefined
      ? { type: 'notification', code: ErrorCode.Cease, subcode: CeaseSubcode.AdministrativeShutdown, data: Buffer.alloc(0) }
      : shutdownNotification(CeaseSubcode.AdministrativeShutdown, text);
  if (talking) actions.push({ type: 'send', message: notification });
  if (state.name !== 'Idle') actions.push({ type: 'drop-connection' });
  for (const timer of ['connect-retry', 'hold', 'keepalive', 'idle-hold'] as const) actions.push({ type: 'stop-timer', timer });
  if (state.name === 'Established') actions.push({ type: 'routes-down', reason: { cause: 'manual-stop', notification } });
  return { state: to(withoutNegotiated(state), 'Idle', { connectRetryCounter: 0, sessionFailures: 0, stopped: true }), actions };
}

function start(state: FsmState, manual: boolean): FsmStep {
  if (state.name !== 'Idle' || (!manual && state.stopped)) return { state, actions: [] };
  const counter = manual ? 0 : state.connectRetryCounter;
  return {
    state: to(state, 'Connect', { connectRetryCounter: counter, stopped: false }),
    actions: [
      { type: 'stop-timer', timer: 'idle-hold' },
      { type: 'start-timer', timer: 'connect-retry', seconds: state.config.connectRetryTime },
      { type: 'connect' },
    ],
  };
}

function unexpected(state: FsmState): FsmStep {
  const sub = state.name === 'OpenSent' ? FsmErrorSubcode.OpenSent : state.name === 'OpenConfirm' ? FsmErrorSubcode.OpenConfirm : FsmErrorSubcode.Established;
  const n: NotificationMessage = { type: 'notification', code: ErrorCode.FiniteStateMachine, subcode: sub, data: Buffer.alloc(0) };
  return fail(state, { cause: 'fsm-error', notification: n }, n);
}

function restartHold(state: FsmState): FsmAction[] {
  const hold = state.negotiated?.holdTime ?? 0;
  return hold > 0 ? [{ type: 'start-timer', timer: 'hold', seconds: hold }] : [];
}

function onMessage(state: FsmState, message: BgpMessage): FsmStep {
  if (message.type === 'notification') return fail(state, { cause: 'notification-received', notification: message });
  switch (state.name) {
    case 'OpenSent': {
      if (message.type !== 'open') return unexpected(state);
      const result = validateOpen(state.config, message);
      if (result instanceof BgpDecodeError) {
        const n = notificationFor(result);
        return fail(state, { cause: 'notification-sent', notification: n }, n);
      }
      const actions: FsmAction[] = [{ type: 'stop-timer', timer: 'connect-retry' }, { type: 'send', message: { type: 'keepalive' } }];
      if (result.holdTime > 0) {
        actions.push({ type: 'start-timer', timer: 'keepalive', seconds: result.keepaliveTime });
        actions.push({ type: 'start-timer', timer: 'hold', seconds: result.holdTime });
      } else {
        actions.push({ type: 'stop-timer', timer: 'hold' });
      }
      return { state: to(state, 'OpenConfirm', { negotiated: result }), actions };
    }
    case 'OpenConfirm':
      if (message.type !== 'keepalive' || !state.negotiated) return unexpected(state);
      return {
        state: to(state, 'Established', { connectRetryCounter: 0, sessionFailures: 0 }),
        actions: [...restartHold(state), { type: 'routes-up', negotiated: state.negotiated }],
      };
    case 'Established':
      switch (message.type) {
        case 'keepalive':
          return { state, actions: restartHold(state) };
        case 'update':
          return { state, actions: [...restartHold(state), { type: 'received-update', message }] };
        case 'route-refresh':
          return { state, actions: [...restartHold(state), { type: 'refresh-requested', message }] };
        default:
          return unexpected(state);
      }
    default:
      // Connect: a message before the TCP connection counts as an FSM error (RFC 4271 8.2.2).
      return fail(state, { cause: 'fsm-error' });
  }
}

function onTimer(state: FsmState, timer: TimerName): FsmStep {
  const { name } = state;
  if (timer === 'idle-hold') return start(state, false);
  if (timer === 'connect-retry') {
    if (name !== 'Connect') return { state, actions: [] };
    return {
      state: to(state, 'Connect'),
      actions: [{ type: 'drop-connection' }, { type: 'start-timer', timer: 'connect-retry', seconds: state.config.connectRetryTime }, { type: 'connect' }],
    };
  }
  if (timer === 'hold') {
    if (name !== 'OpenSent' && name !== 'OpenConfirm' && name !== 'Established') return { state, actions: [] };
    const n: NotificationMessage = { type: 'notification', code: ErrorCode.HoldTimerExpired, subcode: 0, data: Buffer.alloc(0) };
    return fail(state, { cause: 'hold-timer', notification: n }, n);
  }
  if (name !== 'OpenConfirm' && name !== 'Established') return { state, actions: [] };
  const seconds = state.negotiated?.keepaliveTime ?? 0;
  if (seconds === 0) return { state, actions: [] };
  return { state, actions: [{ type: 'send', message: { type: 'keepalive' } }, { type: 'start-timer', timer: 'keepalive', seconds }] };
}

/** Advances the FSM by one event (RFC 4271 section 8.2.2, one case per state and event). */
export function step(state: FsmState, event: FsmEvent): FsmStep {
  switch (event.type) {
    case 'ManualStart':
      return start(state, true);
    case 'AutomaticStart':
      return start(state, false);
    case 'ManualStop':
      return manualStop(state, event.text);
    case 'TimerExpired':
      return onTimer(state, event.timer);
    case 'TcpConnectionConfirmed':
      if (state.name !== 'Connect') return { state, actions: [{ type: 'drop-connection' }] };
      return {
        state: to(state, 'OpenSent'),
        actions: [
          { type: 'stop-timer', timer: 'connect-retry' },
          { type: 'send', message: buildOpen(state.config) },
          { type: 'start-timer', timer: 'hold', seconds: OPEN_HOLD_TIME },
        ],
      };
    case 'TcpConnectionFails':
      if (state.name === 'Idle') return { state, actions: [] };
      return fail(state, { cause: 'tcp-failure' });
    case 'BfdDown':
      // The forwarding path is gone: drop the session without a NOTIFICATION (RFC 5882 section 4.3).
      if (state.name === 'Idle') return { state, actions: [] };
      return fail(state, { cause: 'bfd-down' });
    case 'Message':
      if (state.name === 'Idle') return { state, actions: [] };
      return onMessage(state, event.message);
    case 'DecodeError': {
      if (state.name === 'Idle') return { state, actions: [] };
      const n = notificationFor(event.error);
      return fail(state, { cause: 'notification-sent', notification: n }, n);
    }
  }
}
