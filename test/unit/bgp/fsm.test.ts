// The RFC 4271 section 8 state machine, one transition at a time, without sockets or sleeping.
import { describe, expect, it } from 'vitest';
import { BgpDecodeError, ErrorCode, HeaderError, OpenError, type BgpMessage, type OpenMessage } from '../../../speakers/bgp/codec/index.js';
import { buildOpen, initialState, step, type FsmAction, type FsmConfig, type FsmEvent, type FsmState } from '../../../speakers/bgp/fsm.js';

const config: FsmConfig = {
  myAsn: 4200000001,
  peerAsn: 65001,
  routerId: '192.0.2.1',
  holdTime: 9,
  connectRetryTime: 5,
  capabilities: [{ kind: 'route-refresh', code: 2 }],
  idleHoldTime: 1,
  maxIdleHoldTime: 8,
};

const peerOpen: OpenMessage = { type: 'open', myAs: 65001, holdTime: 90, bgpId: '192.0.2.2', capabilities: [{ kind: 'four-octet-as', asn: 65001 }] };

function run(events: FsmEvent[], from: FsmState = initialState(config)): { state: FsmState; actions: FsmAction[] } {
  let state = from;
  let actions: FsmAction[] = [];
  for (const e of events) {
    const out = step(state, e);
    state = out.state;
    actions = [...out.actions];
  }
  return { state, actions };
}

const msg = (message: BgpMessage): FsmEvent => ({ type: 'Message', message });
const toOpenSent: FsmEvent[] = [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }];
const toOpenConfirm: FsmEvent[] = [...toOpenSent, msg(peerOpen)];
const toEstablished: FsmEvent[] = [...toOpenConfirm, msg({ type: 'keepalive' })];

function sent(actions: readonly FsmAction[]): BgpMessage[] {
  return actions.flatMap((a) => (a.type === 'send' ? [a.message] : []));
}

describe('Idle (RFC 4271 8.2.2)', () => {
  it('ManualStart starts the ConnectRetryTimer, connects and moves to Connect', () => {
    const { state, actions } = run([{ type: 'ManualStart' }]);
    expect(state.name).toBe('Connect');
    expect(actions).toContainEqual({ type: 'start-timer', timer: 'connect-retry', seconds: 5 });
    expect(actions).toContainEqual({ type: 'connect' });
  });

  it('ignores AutomaticStart after ManualStop and ignores stray messages', () => {
    const stopped = run([{ type: 'ManualStart' }, { type: 'ManualStop' }]).state;
    expect(run([{ type: 'AutomaticStart' }], stopped)).toEqual({ state: stopped, actions: [] });
    expect(run([msg({ type: 'keepalive' })], stopped).actions).toEqual([]);
  });
});

describe('Connect', () => {
  it('sends OPEN with a 4-minute hold timer once TCP is up', () => {
    const { state, actions } = run(toOpenSent);
    expect(state.name).toBe('OpenSent');
    expect(sent(actions)).toEqual([buildOpen(config)]);
    expect(actions).toContainEqual({ type: 'start-timer', timer: 'hold', seconds: 240 });
    expect(actions).toContainEqual({ type: 'stop-timer', timer: 'connect-retry' });
  });

  it('the OPEN carries AS_TRANS and the real ASN in the 4-octet AS capability (RFC 6793)', () => {
    const open = buildOpen(config);
    expect(open.myAs).toBe(23456);
    expect(open.capabilities).toContainEqual({ kind: 'four-octet-as', asn: 4200000001 });
  });

  const delaysOver = (failures: number, upTo: FsmEvent[]): number[] => {
    let state = run([{ type: 'ManualStart' }]).state;
    const delays: number[] = [];
    for (let i = 0; i < failures; i += 1) {
      state = run(upTo, state).state;
      const failed = step(state, { type: 'TcpConnectionFails' });
      expect(failed.state.name).toBe('Idle');
      const timer = failed.actions.find((a) => a.type === 'start-timer' && a.timer === 'idle-hold');
      delays.push(timer?.type === 'start-timer' ? timer.seconds : -1);
      state = run([{ type: 'TimerExpired', timer: 'idle-hold' }], failed.state).state;
      expect(state.name).toBe('Connect');
    }
    return delays;
  };

  it('a TCP connection that cannot be made is retried after the first idle-hold time every time, so a restarted router is reached promptly', () => {
    expect(delaysOver(6, [])).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('sessions that fail after the OPEN exchange began double the idle-hold time up to its maximum', () => {
    expect(delaysOver(6, [{ type: 'TcpConnectionConfirmed' }])).toEqual([1, 2, 4, 8, 8, 8]);
  });

  it('after a router restart (session up, then TCP refused while it boots) the reconnect delay stays at the first idle-hold time', () => {
    let state = run(toEstablished).state;
    const delays: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const failed = step(state, { type: 'TcpConnectionFails' });
      const timer = failed.actions.find((a) => a.type === 'start-timer' && a.timer === 'idle-hold');
      delays.push(timer?.type === 'start-timer' ? timer.seconds : -1);
      state = run([{ type: 'TimerExpired', timer: 'idle-hold' }], failed.state).state;
    }
    expect(delays).toEqual([1, 1, 1, 1, 1]);
  });

  it('ConnectRetryTimer expiry drops the attempt and connects again', () => {
    const { state, actions } = run([{ type: 'ManualStart' }, { type: 'TimerExpired', timer: 'connect-retry' }]);
    expect(state.name).toBe('Connect');
    expect(actions.map((a) => a.type)).toEqual(['drop-connection', 'start-timer', 'connect']);
  });
});

describe('OpenSent', () => {
  it('a good OPEN: KEEPALIVE, hold time = min of both, keepalive = a third, then OpenConfirm', () => {
    const { state, actions } = run(toOpenConfirm);
    expect(state.name).toBe('OpenConfirm');
    expect(state.negotiated).toMatchObject({ holdTime: 9, keepaliveTime: 3, peerAsn: 65001 });
    expect(sent(actions)).toEqual([{ type: 'keepalive' }]);
    expect(actions).toContainEqual({ type: 'start-timer', timer: 'hold', seconds: 9 });
    expect(actions).toContainEqual({ type: 'start-timer', timer: 'keepalive', seconds: 3 });
  });

  it('a configured keepalive-time is used as given while the peer accepts our hold time', () => {
    const configured = initialState({ ...config, holdTime: 90, keepaliveTime: 10 });
    const { state, actions } = run([...toOpenSent, msg(peerOpen)], configured);
    expect(state.negotiated).toMatchObject({ holdTime: 90, keepaliveTime: 10 });
    expect(actions).toContainEqual({ type: 'start-timer', timer: 'keepalive', seconds: 10 });
    const later = run([msg({ type: 'keepalive' }), { type: 'TimerExpired', timer: 'keepalive' }], state);
    expect(later.actions).toContainEqual({ type: 'start-timer', timer: 'keepalive', seconds: 10 });
  });

  it('a configured keepalive-time is shortened to a third of a lower hold time the peer negotiated', () => {
    const configured = initialState({ ...config, holdTime: 90, keepaliveTime: 30 });
    const { state } = run([...toOpenSent, msg({ ...peerOpen, holdTime: 9 })], configured);
    expect(state.negotiated).toMatchObject({ holdTime: 9, keepaliveTime: 3 });
    const shorter = run([...toOpenSent, msg({ ...peerOpen, holdTime: 9 })], initialState({ ...config, holdTime: 90, keepaliveTime: 2 }));
    expect(shorter.state.negotiated).toMatchObject({ holdTime: 9, keepaliveTime: 2 });
  });

  it('hold time 0 on either side means no keepalive and no hold timer', () => {
    const { state, actions } = run([...toOpenSent, msg({ ...peerOpen, holdTime: 0 })]);
    expect(state.negotiated).toMatchObject({ holdTime: 0, keepaliveTime: 0 });
    expect(actions.filter((a) => a.type === 'start-timer')).toEqual([]);
    expect(actions).toContainEqual({ type: 'stop-timer', timer: 'hold' });
    const later = run([msg({ type: 'keepalive' }), { type: 'TimerExpired', timer: 'keepalive' }], state);
    expect(later.state.name).toBe('Established');
    expect(later.actions).toEqual([]);
  });

  it('a wrong peer AS is answered with OPEN Message Error / Bad Peer AS and the session closes', () => {
    const { state, actions } = run([...toOpenSent, msg({ ...peerOpen, myAs: 65002, capabilities: [] })]);
    expect(state.name).toBe('Idle');
    expect(sent(actions)).toMatchObject([{ type: 'notification', code: ErrorCode.OpenMessage, subcode: OpenError.BadPeerAs }]);
    expect(actions.map((a) => a.type)).toContain('drop-connection');
  });

  it('an iBGP peer using our BGP Identifier gets Bad BGP Identifier', () => {
    const ibgp = { ...config, peerAsn: config.myAsn };
    const open: OpenMessage = { ...peerOpen, myAs: 23456, bgpId: config.routerId, capabilities: [{ kind: 'four-octet-as', asn: config.myAsn }] };
    const { actions } = run([{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, msg(open)], initialState(ibgp));
    expect(sent(actions)).toMatchObject([{ code: ErrorCode.OpenMessage, subcode: OpenError.BadBgpIdentifier }]);
  });

  it('a decode error sends the NOTIFICATION the error carries', () => {
    const error = new BgpDecodeError(ErrorCode.MessageHeader, HeaderError.BadMessageType, 'type 9', Buffer.of(9));
    const { state, actions } = run([...toOpenSent, { type: 'DecodeError', error }]);
    expect(state.name).toBe('Idle');
    expect(sent(actions)).toEqual([{ type: 'notification', code: 1, subcode: 3, data: Buffer.of(9) }]);
  });

  it('an UPDATE before the OPEN is an FSM error with the OpenSent subcode (RFC 6608)', () => {
    const { actions } = run([...toOpenSent, msg({ type: 'update', withdrawn: [], attributes: {}, nlri: [] })]);
    expect(sent(actions)).toMatchObject([{ code: ErrorCode.FiniteStateMachine, subcode: 1 }]);
  });

  it('hold timer expiry sends Hold Timer Expired', () => {
    const { state, actions } = run([...toOpenSent, { type: 'TimerExpired', timer: 'hold' }]);
    expect(state.name).toBe('Idle');
    expect(sent(actions)).toMatchObject([{ code: ErrorCode.HoldTimerExpired, subcode: 0 }]);
  });
});

describe('OpenConfirm', () => {
  it('KEEPALIVE moves to Established, restarts the hold timer and brings routes up', () => {
    const { state, actions } = run(toEstablished);
    expect(state.name).toBe('Established');
    expect(state.connectRetryCounter).toBe(0);
    expect(actions[0]).toEqual({ type: 'start-timer', timer: 'hold', seconds: 9 });
    expect(actions[1]).toMatchObject({ type: 'routes-up', negotiated: { holdTime: 9 } });
  });

  it('a second OPEN is an FSM error with the OpenConfirm subcode', () => {
    const { actions } = run([...toOpenConfirm, msg(peerOpen)]);
    expect(sent(actions)).toMatchObject([{ code: ErrorCode.FiniteStateMachine, subcode: 2 }]);
  });

  it('the keepalive timer sends a KEEPALIVE and restarts itself', () => {
    const { actions } = run([...toOpenConfirm, { type: 'TimerExpired', timer: 'keepalive' }]);
    expect(actions).toEqual([{ type: 'send', message: { type: 'keepalive' } }, { type: 'start-timer', timer: 'keepalive', seconds: 3 }]);
  });
});

describe('Established', () => {
  it('UPDATE and ROUTE-REFRESH restart the hold timer and are handed to the caller', () => {
    const update = { type: 'update', withdrawn: [], attributes: {}, nlri: [] } as const;
    expect(run([...toEstablished, msg(update)]).actions).toEqual([{ type: 'start-timer', timer: 'hold', seconds: 9 }, { type: 'received-update', message: update }]);
    const refresh = { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 } as const;
    expect(run([...toEstablished, msg(refresh)]).actions[1]).toEqual({ type: 'refresh-requested', message: refresh });
  });

  it('a NOTIFICATION from the peer takes routes down and schedules a restart', () => {
    const n = { type: 'notification', code: 6, subcode: 4, data: Buffer.alloc(0) } as const;
    const { state, actions } = run([...toEstablished, msg(n)]);
    expect(state.name).toBe('Idle');
    expect(state.negotiated).toBeUndefined();
    expect(sent(actions)).toEqual([]);
    expect(actions).toContainEqual({ type: 'routes-down', reason: { cause: 'notification-received', notification: n } });
    expect(actions).toContainEqual({ type: 'start-timer', timer: 'idle-hold', seconds: 1 });
  });

  it('hold timer expiry sends code 4, drops the connection and takes routes down', () => {
    const { actions } = run([...toEstablished, { type: 'TimerExpired', timer: 'hold' }]);
    expect(actions.map((a) => a.type)).toEqual(['send', 'drop-connection', 'stop-timer', 'stop-timer', 'stop-timer', 'routes-down', 'session-failed', 'start-timer']);
  });

  it('ManualStop sends Cease / Administrative Shutdown with the text and does not restart (RFC 8203)', () => {
    const { state, actions } = run([...toEstablished, { type: 'ManualStop', text: 'maintenance' }]);
    expect(state).toMatchObject({ name: 'Idle', stopped: true });
    expect(sent(actions)).toMatchObject([{ type: 'notification', code: 6, subcode: 2, shutdownMessage: 'maintenance' }]);
    expect(actions.some((a) => a.type === 'start-timer')).toBe(false);
    expect(run([{ type: 'TimerExpired', timer: 'idle-hold' }], state).state.name).toBe('Idle');
  });

  it('TCP failure takes routes down without sending anything', () => {
    const { actions } = run([...toEstablished, { type: 'TcpConnectionFails' }]);
    expect(sent(actions)).toEqual([]);
    expect(actions).toContainEqual({ type: 'routes-down', reason: { cause: 'tcp-failure' } });
  });

  it('a late TCP connection while Established is dropped and changes nothing', () => {
    const before = run(toEstablished).state;
    expect(step(before, { type: 'TcpConnectionConfirmed' })).toEqual({ state: before, actions: [{ type: 'drop-connection' }] });
  });
});
