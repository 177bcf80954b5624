// The periodic refresh of many VIPs on one link, on an injected clock: what a switch's dynamic
// ARP inspection or storm control sees in steady state, and how long a neighbour may wait for
// a VIP's refresh (ADR 0007).
import { describe, expect, it } from 'vitest';
import { Announcer, defaultAnnouncementTiming, validateAnnouncementTiming } from '../../../speakers/layer2/announcer.js';
import { parseVip } from '../../../speakers/layer2/vip.js';
import { FakeScheduler, FakeSocket } from '../../helpers/fake-link.js';
import type { SentFrame } from '../../helpers/fake-link.js';

const MAC = '02:00:00:00:00:0a';

function setup(timing = defaultAnnouncementTiming) {
  const clock = new FakeScheduler();
  const arp = new FakeSocket(0x0806, () => undefined, clock);
  const ndp = new FakeSocket(0x86dd, () => undefined, clock);
  const announcer = new Announcer({ arp, ndp }, MAC, clock, timing);
  const frames = (): SentFrame[] => [...arp.sent, ...ndp.sent].sort((x, y) => x.at - y.at);
  return { clock, arp, ndp, announcer, frames };
}

/** n IPv4 VIPs 10.0.0.1, 10.0.0.2, ... */
function ipv4Vips(n: number): string[] {
  return Array.from({ length: n }, (_, i) => i + 1).map((i) => `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`);
}

/** The VIP a sent gratuitous ARP frame (sender IP at bytes 28-31) or unsolicited NA (target at 62-77) is for. */
function vipOf(frame: SentFrame): string {
  const b = frame.bytes;
  return b.readUInt16BE(12) === 0x0806 ? `${b[28]}.${b[29]}.${b[30]}.${b[31]}` : b.subarray(62, 78).toString('hex');
}

/** The most frames sent in any window of `ms` milliseconds among `frames`. */
function busiestWindow(frames: readonly SentFrame[], ms: number): number {
  let most = 0;
  for (let start = 0, end = 0; end < frames.length; end++) {
    while ((frames[start]?.at ?? 0) <= (frames[end]?.at ?? 0) - ms) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** The longest time between two refreshes of the same VIP, after `from`. */
function longestRefreshGap(frames: readonly SentFrame[], from: number): number {
  const last = new Map<string, number>();
  let longest = 0;
  for (const frame of frames) {
    if (frame.at < from) continue;
    const vip = vipOf(frame);
    const previous = last.get(vip);
    if (previous !== undefined && frame.at > previous) longest = Math.max(longest, frame.at - previous);
    last.set(vip, frame.at);
  }
  return longest;
}

describe('refresh budget: the steady-state rate does not grow with the number of VIPs', () => {
  it.each([
    { vips: 1000, cycleS: 200 },
    { vips: 5000, cycleS: 1000 },
  ])('with $vips IPv4 VIPs, at most 10 refresh frames a second and never 20 in one second; each VIP refreshed every $cycleS s', ({ vips, cycleS }) => {
    const { clock, announcer, frames } = setup();
    for (const vip of ipv4Vips(vips)) announcer.start(parseVip(vip));
    expect(frames()).toHaveLength(2 * vips); // the takeover burst's first round: at once, not budgeted
    clock.advance(2 * cycleS * 1000 + 20_000);
    const refresh = frames().filter((f) => f.at > 2000);
    const steadyMs = clock.now() - 12_000; // refreshes start one interval after the burst
    expect(busiestWindow(refresh, 1000)).toBeLessThanOrEqual(20);
    expect(refresh.length).toBeLessThanOrEqual((10 * steadyMs) / 1000 + 10);
    expect(refresh.length).toBeGreaterThanOrEqual((10 * steadyMs) / 1000 - 10); // the budget is used, not wasted
    expect(announcer.refreshCycleMs()).toBe(cycleS * 1000);
    expect(longestRefreshGap(refresh, 0)).toBeLessThanOrEqual(cycleS * 1000);
    expect(new Set(refresh.filter((f) => f.at > clock.now() - cycleS * 1000).map(vipOf)).size).toBe(vips); // nobody is skipped
  });

  it('refreshes a few VIPs at exactly the refresh interval: the budget only spreads out what it must', () => {
    const { clock, announcer, frames } = setup();
    for (const vip of ['192.0.2.1', '192.0.2.2', '2001:db8::1']) announcer.start(parseVip(vip));
    clock.advance(60_000);
    expect(announcer.refreshCycleMs()).toBe(10_000);
    expect(longestRefreshGap(frames().filter((f) => f.at > 2000), 0)).toBe(10_000);
    expect([...new Set(frames().map((f) => f.at))]).toEqual([0, 1000, 2000, 12_000, 22_000, 32_000, 42_000, 52_000]);
  });

  it('counts IPv6 VIPs at one frame a round: 1,000 of them cycle in 100 s', () => {
    const { clock, announcer, frames } = setup();
    for (let i = 1; i <= 1000; i++) announcer.start(parseVip(`2001:db8::${i.toString(16)}`));
    clock.advance(230_000);
    const refresh = frames().filter((f) => f.at > 2000);
    expect(announcer.refreshCycleMs()).toBe(100_000);
    expect(busiestWindow(refresh, 1000)).toBeLessThanOrEqual(20);
    expect(longestRefreshGap(refresh, 0)).toBeLessThanOrEqual(100_000);
  });

  it('sends a takeover burst at once and on time while a thousand VIPs are being refreshed', () => {
    const { clock, arp, announcer } = setup();
    for (const vip of ipv4Vips(1000)) announcer.start(parseVip(vip));
    clock.advance(300_000);
    const before = arp.sent.length;
    announcer.start(parseVip('192.0.2.77'));
    expect(arp.sent.length).toBe(before + 2);
    clock.advance(2000);
    const burst = arp.sent.filter((f) => vipOf(f) === '192.0.2.77').map((f) => f.at - 300_000);
    expect(burst).toEqual([0, 0, 1000, 1000, 2000, 2000]);
  });

  it('drops a stopped VIP from the cycle and leaves no timer behind once the last one stops', () => {
    const { clock, arp, announcer } = setup();
    const vips = ipv4Vips(500);
    for (const vip of vips) announcer.start(parseVip(vip));
    clock.advance(50_000);
    for (const vip of vips.slice(0, 499)) announcer.stop(vip);
    expect(announcer.refreshCycleMs()).toBe(10_000);
    const from = arp.sent.length;
    clock.advance(30_000);
    expect(new Set(arp.sent.slice(from).map(vipOf))).toEqual(new Set([vips[499]]));
    announcer.stop(vips[499] ?? '');
    expect(clock.pending()).toBe(0);
  });

  it('refuses a budget too small for one IPv4 round (2 frames)', () => {
    expect(() => validateAnnouncementTiming({ ...defaultAnnouncementTiming, refreshFramesPerSecond: 1 })).toThrow(/refreshFramesPerSecond/);
    expect(() => validateAnnouncementTiming({ ...defaultAnnouncementTiming, refreshFramesPerSecond: Number.NaN })).toThrow(/refreshFramesPerSecond/);
    expect(validateAnnouncementTiming({ burstCount: 3, burstIntervalMs: 1000, refreshIntervalMs: 5000 })).toEqual({ burstCount: 3, burstIntervalMs: 1000, refreshIntervalMs: 5000 });
  });
});
