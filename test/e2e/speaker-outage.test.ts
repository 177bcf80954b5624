// Issue 14, end to end: layer-2 VIPs outlive the API server (ADR 0017). Three nodes run
// `vipcast speaker` against a real kube-apiserver; a client probes the Service every 50 ms and
// sends a broadcast ARP request every ~200 ms. The API server is frozen (SIGSTOP) for 10 s, then for 120 s:
// the owner keeps answering every request, and when the API server is thawed nothing moves.
// The capture shows no ARP request answered by two MACs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arpRequestAnswers, readCapture } from '../../lab/layer2-lab.js';
import type { Capture, HostProcess } from '../../lab/netns.js';
import { pollValue } from '../../lab/netns.js';
import { kubeExpectOk } from '../../lab/kube-client.js';
import { SpeakerLab, outageUntilServedBy, probeResults, startArping, startProbe } from '../../lab/speaker-lab.js';

let lab: SpeakerLab;
let capture: Capture;
let probe: HostProcess;
let arping: HostProcess;
let vip = '';
const figures: string[] = [];
/** Wall-clock ms of the freeze, to place capture timestamps (the capture's clock is the same). */
const freeze = { frozenAt: 0 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  lab = await SpeakerLab.create(3);
  capture = await lab.topo.capture(lab.sw, 'p-client', 'client-port');
  await lab.startController();
  await Promise.all(lab.nodes.map((node) => lab.startSpeaker(node)));
  await lab.waitForPeerQuorum();
  vip = await lab.createService('web', 'IPv4');
  const owner = await lab.waitForOwner(vip);
  probe = startProbe(lab, vip);
  arping = startArping(lab, vip);
  await outageUntilServedBy(probe, owner, Date.now());
});

afterAll(async () => {
  if (figures.length > 0) console.log(`API outage figures:\n  ${figures.join('\n  ')}`);
  await lab?.destroy();
});

/** Freezes the API server for `seconds` and checks the owner answered throughout; returns it. */
async function freezeAndCheck(seconds: number): Promise<string> {
  const owner = await lab.waitForOwner(vip);
  const pid = lab.api.pids.apiserver;
  const frozenAt = Date.now();
  freeze.frozenAt ||= frozenAt;
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(seconds * 1000);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const thawedAt = Date.now();
  await owner.speaker?.waitForLine(/API server unreachable; keeping our VIPs/, 1000);
  await sleep(3000);
  const during = probeResults(probe, frozenAt).filter((r) => r.at <= thawedAt + 3000);
  const failed = during.filter((r) => !r.ok);
  figures.push(`API server frozen ${seconds} s: ${during.length} client probes during the freeze and 3 s after, ${failed.length} failed, ${during.filter((r) => r.ok && r.answer !== owner.name).length} answered by another node`);
  expect(during.length).toBeGreaterThan(seconds * 15);
  expect(failed).toEqual([]);
  expect(during.every((r) => r.answer === owner.name)).toBe(true);
  expect(await lab.holders(vip)).toEqual([owner.name]);
  const { outageMs } = await outageUntilServedBy(probe, owner, frozenAt);
  expect(outageMs).toBe(0);
  return owner.name;
}

describe('layer-2 VIPs through an API-server outage', () => {
  it('a 10 s API-server freeze: the owner keeps answering, no client outage, and nothing moves when it thaws', async () => {
    const owner = await freezeAndCheck(10);
    // Once the API server answers again, the owner says what it kept through the outage.
    const events = async (): Promise<{ reason?: string; note?: string; regarding?: { name?: string } }[]> =>
      ((await kubeExpectOk(lab.admin, '/apis/events.k8s.io/v1/namespaces/default/events')) as { items: { reason?: string; note?: string; regarding?: { name?: string } }[] }).items;
    const kept = await pollValue(events, (items) => items.some((e) => e.reason === 'KeptThroughAPIOutage'), 15_000, 250);
    const note = kept.find((e) => e.reason === 'KeptThroughAPIOutage' && e.regarding?.name === 'web')?.note ?? '';
    figures.push(`Event after the thaw: ${note}`);
    expect(note).toContain(`node ${owner} kept answering for ${vip} through`);
  });

  it('a 120 s API-server freeze: the same, for two minutes', async () => {
    await lab.waitForPeerQuorum();
    await freezeAndCheck(120);
  }, 240_000);

  it('never had two nodes answer one ARP request, and every request during the freeze was answered', async () => {
    probe.child.kill('SIGTERM');
    arping.child.kill('SIGTERM');
    const file = await capture.stop();
    const { requests, replies, doubled, unanswered, unansweredAtMs, unansweredFrom } = arpRequestAnswers(readCapture(file), vip);
    const when = unansweredAtMs.map((at) => `${at - freeze.frozenAt} ms`).join(', ');
    figures.push(`capture: ${requests} ARP requests for the VIP, ${replies} replies, ${unanswered} unanswered${when ? ` (at ${when} from the freeze: ${unansweredFrom.join('; ')})` : ''}, ${doubled} answered by more than one MAC`);
    expect(requests).toBeGreaterThan(50);
    expect(unanswered).toBe(0);
    expect(doubled).toBe(0);
  });
});
