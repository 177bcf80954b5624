// BFD Control packets and the reception rules of RFC 5880 section 6.8.6, without sockets.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { BfdDecodeError, BfdState, decodeBfdControl, encodeBfdControl, type BfdControl, type BfdDecodeReason } from '../../../speakers/bfd/codec.js';
import { bfdAdminDown, bfdDetectExpired, bfdPacket, bfdReceive, bfdTtlDiscard, detectTimeMs, initialBfdVars, txIntervalMs, SLOW_TX_US } from '../../../speakers/bfd/state.js';
import { initialState, step } from '../../../speakers/bgp/fsm.js';

const peer = (patch: Partial<BfdControl> = {}): BfdControl => ({
  diag: 0,
  state: BfdState.Down,
  poll: false,
  final: false,
  detectMult: 3,
  myDiscriminator: 0x1234,
  yourDiscriminator: 0,
  desiredMinTx: 100_000,
  requiredMinRx: 100_000,
  ...patch,
});

describe('BFD Control packet codec (RFC 5880 section 4.1)', () => {
  it('writes the fields where RFC 5880 puts them', () => {
    const bytes = encodeBfdControl({ ...peer({ state: BfdState.Up, poll: true }), yourDiscriminator: 7 });
    expect(bytes.toString('hex')).toBe(
      [
        '20', // version 1, diag 0
        'e0', // state Up (3 << 6), P bit 0x20
        '03', // detect mult
        '18', // length 24
        '00001234', // my discriminator
        '00000007', // your discriminator
        '000186a0', // desired min tx 100 ms
        '000186a0', // required min rx 100 ms
        '00000000', // required min echo rx
      ].join(''),
    );
    expect(decodeBfdControl(bytes)).toEqual({ ...peer({ state: BfdState.Up, poll: true }), yourDiscriminator: 7 });
  });

  it('refuses what section 6.8.6 says to discard', () => {
    const good = encodeBfdControl(peer());
    const with_ = (i: number, v: number): Buffer => {
      const b = Buffer.from(good);
      b[i] = v;
      return b;
    };
    const refusal = (bytes: Buffer): [BfdDecodeReason, string] => {
      try {
        decodeBfdControl(bytes);
      } catch (err) {
        if (err instanceof BfdDecodeError) return [err.reason, err.message];
        throw err;
      }
      throw new Error('decoded a packet section 6.8.6 discards');
    };
    const zero = Buffer.from(good);
    zero.writeUInt32BE(0, 4);
    const cases: [Buffer, BfdDecodeReason, RegExp][] = [
      [good.subarray(0, 20), 'truncated', /short packet \(20 octets\)/],
      [with_(0, 0x40), 'bad-version', /version 2/],
      [with_(2, 0), 'zero-detect-mult', /detect multiplier 0/],
      [with_(3, 30), 'truncated', /length field 30 but 24 octets/],
      [with_(3, 20), 'bad-length', /length field 20/],
      [with_(1, 0x41), 'multipoint', /multipoint bit set/],
      [with_(1, 0x44), 'authentication', /authentication present/],
      [zero, 'zero-discriminator', /my discriminator 0 \(RFC 5880 section 6\.8\.6\)$/],
    ];
    for (const [bytes, reason, message] of cases) {
      const [gotReason, gotMessage] = refusal(bytes);
      expect(gotReason, reason).toBe(reason);
      expect(gotMessage, reason).toMatch(message);
    }
  });
});

describe('BFD session state (RFC 5880 section 6.8.6)', () => {
  const start = initialBfdVars(99, 100_000, 3);

  it('goes Down -> Init -> Up through the three-way handshake and then polls for the fast rate', () => {
    expect(start.desiredMinTx).toBe(SLOW_TX_US);
    const init = bfdReceive(start, peer({ state: BfdState.Down }));
    expect(init.vars.state).toBe(BfdState.Init);
    expect(init.changed).toBe(true);
    expect(bfdPacket(init.vars, false).yourDiscriminator).toBe(0x1234);
    const up = bfdReceive(init.vars, peer({ state: BfdState.Up, yourDiscriminator: 99 }));
    expect(up.vars.state).toBe(BfdState.Up);
    expect(up.vars.desiredMinTx).toBe(100_000);
    expect(up.vars.polling).toBe(true);
    expect(bfdPacket(up.vars, false).poll).toBe(true);
    expect(txIntervalMs(up.vars)).toBe(100);
    expect(detectTimeMs(up.vars)).toBe(300);
    const done = bfdReceive(up.vars, peer({ state: BfdState.Up, yourDiscriminator: 99, final: true }));
    expect(done.vars.polling).toBe(false);
    expect(bfdPacket(done.vars, false).poll).toBe(false);
  });

  it('advertises a transmit interval and a receive interval of their own (a profile\'s transmit-interval and receive-interval)', () => {
    const split = initialBfdVars(99, 300_000, 3, 50_000);
    const init = bfdReceive(split, peer({ state: BfdState.Down }));
    expect(bfdPacket(init.vars, false).requiredMinRx).toBe(50_000);
    const up = bfdReceive(init.vars, peer({ state: BfdState.Up, yourDiscriminator: 99, desiredMinTx: 50_000, requiredMinRx: 50_000 }));
    const sent = bfdPacket(up.vars, false);
    expect([sent.desiredMinTx, sent.requiredMinRx]).toEqual([300_000, 50_000]);
    expect(txIntervalMs(up.vars)).toBe(300);
    expect(detectTimeMs(up.vars)).toBe(150);
  });

  it('answers a Poll with a Final and never sets both bits', () => {
    const r = bfdReceive({ ...start, state: BfdState.Up, polling: true }, peer({ state: BfdState.Up, yourDiscriminator: 99, poll: true }));
    expect(r.sendFinal).toBe(true);
    const final = bfdPacket(r.vars, true);
    expect([final.poll, final.final]).toEqual([false, true]);
  });

  it('goes Down, back to the slow rate, when the peer says Down or AdminDown', () => {
    const up = { ...start, state: BfdState.Up, desiredMinTx: 100_000 } as const;
    const down = bfdReceive(up, peer({ state: BfdState.Down, yourDiscriminator: 99 }));
    expect(down.vars.state).toBe(BfdState.Down);
    expect(down.vars.localDiag).toBe(3);
    expect(down.vars.desiredMinTx).toBe(SLOW_TX_US);
    expect(bfdReceive(up, peer({ state: BfdState.AdminDown, yourDiscriminator: 99 })).vars.state).toBe(BfdState.Down);
  });

  it('goes Down at the slow rate and forgets the peer when the detection time passes; says AdminDown when stopping', () => {
    const up = bfdReceive(bfdReceive(start, peer({ state: BfdState.Down })).vars, peer({ state: BfdState.Up, yourDiscriminator: 99 })).vars;
    expect(up.state).toBe(BfdState.Up);
    const expired = bfdDetectExpired(up);
    expect([expired.state, expired.localDiag, expired.remoteDiscr, expired.desiredMinTx, expired.polling]).toEqual([BfdState.Down, 1, 0, SLOW_TX_US, false]);
    expect(bfdPacket(expired, false).yourDiscriminator).toBe(0);
    const stopping = bfdAdminDown({ ...up, polling: true });
    const last = bfdPacket(stopping, false);
    expect([last.state, last.diag, last.poll]).toEqual([BfdState.AdminDown, 7, false]);
  });

  it('discards packets for another session', () => {
    expect(bfdReceive(start, peer({ yourDiscriminator: 5 })).discarded).toMatch(/not ours/);
    expect(bfdReceive(start, peer({ state: BfdState.Up })).discarded).toMatch(/outside Down/);
    expect(bfdReceive(start, peer({ myDiscriminator: 99 })).discarded).toMatch(/looped/);
  });
});

describe('BFD reception TTL (RFC 5881 section 5)', () => {
  it('processes a packet that arrived with TTL or hop limit 255 and discards any other, saying which it had', () => {
    expect(bfdTtlDiscard(255)).toBeUndefined();
    expect(bfdTtlDiscard(254)).toBe('TTL 254, not 255 (RFC 5881 section 5)');
    for (const ttl of [0, 1, 64, 128]) expect(bfdTtlDiscard(ttl)).toMatch(new RegExp(`^TTL ${ttl}, not 255`));
  });

  it('discards a packet whose TTL the kernel did not report, rather than trusting it', () => {
    expect(bfdTtlDiscard(-1)).toMatch(/^TTL unknown/);
  });
});

describe('BGP FSM and BFD (RFC 5882 section 4.3)', () => {
  it('drops an Established session without a NOTIFICATION when BFD goes down', () => {
    let s = step(initialState({ myAsn: 65010, peerAsn: 65001, routerId: '192.0.2.2', holdTime: 9, connectRetryTime: 30, capabilities: [], idleHoldTime: 1, maxIdleHoldTime: 60 }), { type: 'ManualStart' }).state;
    s = step(s, { type: 'TcpConnectionConfirmed' }).state;
    s = step(s, { type: 'Message', message: { type: 'open', myAs: 65001, holdTime: 9, bgpId: '192.0.2.1', capabilities: [] } }).state;
    s = step(s, { type: 'Message', message: { type: 'keepalive' } }).state;
    expect(s.name).toBe('Established');
    const out = step(s, { type: 'BfdDown' });
    expect(out.state.name).toBe('Idle');
    expect(out.actions.some((a) => a.type === 'send')).toBe(false);
    expect(out.actions.map((a) => a.type)).toContain('routes-down');
    expect(out.actions.map((a) => a.type)).toContain('drop-connection');
  });
});
