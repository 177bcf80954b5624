// The steady-state announcement rate of many VIPs, as the client's port sees it: `vipcast
// announce` holds 300 IPv4 VIPs on node A with a 1 s refresh interval, which unbudgeted would
// be 600 broadcast frames a second forever. ADR 0007 bounds it to 10 frames/s for the link
// (never 20 in one second), while the takeover burst still goes out at once.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Layer2DecodeError } from '../../speakers/layer2/codec/errors.js';
import { createLayer2Lab, readCapture, tsharkMalformed, stopStarted } from '../../lab/layer2-lab.js';
import type { CapturedFrame, Layer2Lab } from '../../lab/layer2-lab.js';
import type { HostProcess } from '../../lab/netns.js';

const cli = ['node', 'dist/test/wire/agents/announce-cli.js'];
const vips = Array.from({ length: 300 }, (_, i) => `10.77.${(i + 1) >> 8}.${(i + 1) & 0xff}`);

let lab: Layer2Lab;
const started: HostProcess[] = [];

beforeAll(async () => {
  lab = await createLayer2Lab();
});

afterAll(async () => {
  await lab?.topo.destroy();
});

afterEach(() => stopStarted(started));

/** Gratuitous ARP frames A sent for one of the VIPs: when (milliseconds, pcap clock) and for which VIP. */
function gratuitousFrom(frames: readonly CapturedFrame[], mac: string): { ms: number; vip: string }[] {
  const ours = new Set(vips);
  const out = [];
  for (const { micros, frame } of frames) {
    if (!frame || frame instanceof Layer2DecodeError || frame.kind !== 'arp') continue;
    const { ethernet, arp } = frame.frame;
    if (ethernet.source !== mac || ethernet.destination !== 'ff:ff:ff:ff:ff:ff' || arp.senderIp !== arp.targetIp || !ours.has(arp.senderIp)) continue;
    out.push({ ms: Number(micros) / 1000, vip: arp.senderIp });
  }
  return out;
}

function busiestSecond(times: readonly number[]): number {
  let most = 0;
  for (let start = 0, end = 0; end < times.length; end++) {
    while ((times[start] ?? 0) <= (times[end] ?? 0) - 1000) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

describe('refresh budget on the wire', () => {
  it('300 VIPs refreshed every second cost the client at most 10 frames a second, and their takeover burst still goes out at once', async () => {
    const capture = await lab.topo.capture(lab.client, 'eth0', 'budget');
    const announce = lab.topo.start(lab.a, [...cli, '--interface', 'eth0', '--refresh', '1', ...vips.flatMap((vip) => ['--ip', vip])]);
    started.push(announce);
    await announce.waitForLine(new RegExp(`^announcing ${vips.at(-1)?.replace(/\./g, '\\.')} `), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    announce.child.kill('SIGTERM');
    expect(await announce.exited).toBe(0);
    const file = await capture.stop();
    const sent = gratuitousFrom(readCapture(file), lab.macA);
    const t0 = sent[0]?.ms ?? 0;
    const burst = sent.filter((f) => f.ms < t0 + 500);
    // Steady state: from after the last burst round (2 s) plus a second for the budget to settle.
    const steady = sent.filter((f) => f.ms > t0 + 3500);
    const times = steady.map((f) => f.ms);
    const spanS = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
    const rate = (times.length - 1) / spanS;
    const perVip = new Map<string, number>();
    for (const { vip } of steady) perVip.set(vip, (perVip.get(vip) ?? 0) + 1);
    console.log(
      `300 VIPs, refresh 1 s: first burst round ${burst.length} frames within 0.5 s; steady state ${times.length} frames in ${spanS.toFixed(1)} s ` +
        `= ${rate.toFixed(1)}/s (unbudgeted: 600/s), busiest second ${busiestSecond(times)}, ${perVip.size} VIPs refreshed`,
    );
    expect(burst.length).toBe(2 * vips.length); // both gratuitous forms for every VIP, at once
    expect(spanS).toBeGreaterThan(6);
    expect(rate).toBeLessThanOrEqual(11);
    expect(rate).toBeGreaterThanOrEqual(8); // the refresh still runs, at its budget
    expect(busiestSecond(times)).toBeLessThanOrEqual(20);
    // The VIPs take turns (a cycle of 600 frames takes 60 s): none is refreshed twice meanwhile.
    expect(Math.max(...perVip.values())).toBeLessThanOrEqual(2);
    expect(await tsharkMalformed(file)).toBe('');
  });
});
