import { describe, expect, it } from 'vitest';
import {
  Announcer,
  defaultAnnouncementTiming,
  nextRoundDelay,
  validateAnnouncementTiming,
} from '../../../speakers/layer2/announcer.js';
import { decodeArpFrame } from '../../../speakers/layer2/codec/arp.js';
import { decodeNdpFrame } from '../../../speakers/layer2/codec/ndp.js';
import { parseVip } from '../../../speakers/layer2/vip.js';
import { FakeScheduler, FakeSocket } from '../../helpers/fake-link.js';

const MAC = '02:00:00:00:00:0a';
const timing = { burstCount: 3, burstIntervalMs: 1000, refreshIntervalMs: 10_000 };

function setup(t = timing) {
  const clock = new FakeScheduler();
  const arp = new FakeSocket(0x0806, () => undefined, clock);
  const ndp = new FakeSocket(0x86dd, () => undefined, clock);
  const errors: string[] = [];
  const announcer = new Announcer({ arp, ndp }, MAC, clock, t, (vip) => errors.push(vip));
  return { clock, arp, ndp, announcer, errors };
}

describe('announcement timing', () => {
  it('sends the burst 1 s apart, then refreshes at the configured interval, or stops when refresh is off', () => {
    expect([1, 2, 3, 4].map((n) => nextRoundDelay(n, timing))).toEqual([1000, 1000, 10_000, 10_000]);
    expect(nextRoundDelay(3, { ...timing, refreshIntervalMs: 0 })).toBeUndefined();
  });

  it('refuses timings RFC 4861 7.2.6 forbids or that make no sense', () => {
    expect(() => validateAnnouncementTiming({ ...timing, burstIntervalMs: 500 })).toThrow(/burstIntervalMs/);
    expect(() => validateAnnouncementTiming({ ...timing, refreshIntervalMs: 200 })).toThrow(/refreshIntervalMs/);
    expect(() => validateAnnouncementTiming({ ...timing, burstCount: 0 })).toThrow(/burstCount/);
    expect(validateAnnouncementTiming(defaultAnnouncementTiming)).toBe(defaultAnnouncementTiming);
  });
});

describe('Announcer, IPv4', () => {
  it('sends both gratuitous ARP forms before start() returns', () => {
    const { arp, ndp, announcer } = setup();
    announcer.start(parseVip('192.0.2.100'));
    expect(ndp.sent).toHaveLength(0);
    const frames = arp.sent.map((f) => decodeArpFrame(f.bytes));
    expect(frames).toHaveLength(2);
    expect(frames[0]).toEqual({
      ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: MAC },
      arp: { operation: 'request', senderMac: MAC, senderIp: '192.0.2.100', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.100' },
    });
    expect(frames[1]).toEqual({
      ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: MAC },
      arp: { operation: 'reply', senderMac: MAC, senderIp: '192.0.2.100', targetMac: MAC, targetIp: '192.0.2.100' },
    });
  });

  it('bursts at 0, 1 and 2 s, then refreshes every 10 s', () => {
    const { clock, arp, announcer } = setup();
    announcer.start(parseVip('192.0.2.100'));
    clock.advance(32_500);
    const rounds = arp.sent.filter((_, i) => i % 2 === 0).map((f) => f.at);
    expect(rounds).toEqual([0, 1000, 2000, 12_000, 22_000, 32_000]);
    expect(announcer.counters).toEqual({ rounds: 6, framesSent: 12, sendErrors: 0, gated: 0 });
  });

  it('sends nothing more after stop(), even in the middle of the burst', () => {
    const { clock, arp, announcer } = setup();
    announcer.start(parseVip('192.0.2.100'));
    clock.advance(1500);
    expect(arp.sent).toHaveLength(4);
    announcer.stop('192.0.2.100');
    expect(clock.pending()).toBe(0);
    clock.advance(60_000);
    expect(arp.sent).toHaveLength(4);
    expect(announcer.announcing()).toEqual([]);
  });

  it('with refresh off, sends the burst only', () => {
    const { clock, arp, announcer } = setup({ ...timing, refreshIntervalMs: 0 });
    announcer.start(parseVip('192.0.2.100'));
    clock.advance(120_000);
    expect(arp.sent.map((f) => f.at)).toEqual([0, 0, 1000, 1000, 2000, 2000]);
    expect(clock.pending()).toBe(0);
  });

  it('does not restart the burst when a VIP already announced is started again', () => {
    const { clock, arp, announcer } = setup();
    announcer.start(parseVip('192.0.2.100'));
    clock.advance(500);
    announcer.start(parseVip('192.0.2.100'));
    expect(arp.sent).toHaveLength(2);
    clock.advance(600);
    expect(arp.sent.map((f) => f.at)).toEqual([0, 0, 1000, 1000]);
  });

  it('keeps each VIP on its own schedule, and stopping one leaves the other', () => {
    const { clock, arp, announcer } = setup();
    announcer.start(parseVip('192.0.2.100'));
    clock.advance(400);
    announcer.start(parseVip('192.0.2.101'));
    announcer.stop('192.0.2.100');
    clock.advance(20_000);
    const for101 = arp.sent.filter((f) => decodeArpFrame(f.bytes).arp.senderIp === '192.0.2.101').map((f) => f.at);
    const for100 = arp.sent.filter((f) => decodeArpFrame(f.bytes).arp.senderIp === '192.0.2.100').map((f) => f.at);
    expect(for100).toEqual([0, 0]);
    expect(for101.filter((_, i) => i % 2 === 0)).toEqual([400, 1400, 2400, 12_400]);
  });

  it('counts refused sends and keeps its schedule', () => {
    const { clock, arp, announcer, errors } = setup();
    arp.failSends = true;
    announcer.start(parseVip('192.0.2.100'));
    arp.failSends = false;
    clock.advance(1000);
    expect(announcer.counters).toEqual({ rounds: 2, framesSent: 2, sendErrors: 2, gated: 0 });
    expect(errors).toEqual(['192.0.2.100', '192.0.2.100']);
    expect(arp.sent.map((f) => f.at)).toEqual([1000, 1000]);
  });
});

describe('Announcer, IPv6', () => {
  it('sends up to 3 unsolicited NAs at least 1 s apart (RFC 4861 7.2.6): ff02::1, hop limit 255, O=1, S=0', () => {
    const { clock, arp, ndp, announcer } = setup({ ...timing, refreshIntervalMs: 0 });
    announcer.start(parseVip('2001:DB8::0:100'));
    expect(ndp.sent).toHaveLength(1);
    clock.advance(10_000);
    expect(arp.sent).toHaveLength(0);
    expect(ndp.sent.map((f) => f.at)).toEqual([0, 1000, 2000]);
    for (const { bytes } of ndp.sent) {
      const { ethernet, packet } = decodeNdpFrame(bytes);
      expect(ethernet).toEqual({ destination: '33:33:00:00:00:01', source: MAC });
      expect(packet).toMatchObject({ source: '2001:db8::100', destination: 'ff02::1', hopLimit: 255 });
      expect(packet.message).toEqual({
        type: 'neighbor-advertisement',
        router: false,
        solicited: false,
        override: true,
        target: '2001:db8::100',
        targetLinkLayerAddress: MAC,
      });
    }
  });

  it('refreshes after the burst like IPv4 does', () => {
    const { clock, ndp, announcer } = setup({ ...timing, refreshIntervalMs: 5000 });
    announcer.start(parseVip('2001:db8::100'));
    clock.advance(12_000);
    expect(ndp.sent.map((f) => f.at)).toEqual([0, 1000, 2000, 7000, 12_000]);
  });
});
