// Issue 17, a dedicated announce link going down while the node stays in the cluster (ADR
// 0022): three nodes run `vipcast speaker` with no --interface, so each finds the VIP's link
// from the kernel (the VIPs are local on lo, as kube-proxy makes them, and eth0 holds the
// prefix); the peer channel and the API server are on other paths (eth1 and a Unix socket),
// so the owner's Lease and its peer quorum stay alive. The owner's link loses carrier (its
// switch port down) and, later, is set down on the node: each time the owner declines the VIP
// in its Lease, another node answers within the failover time, and nothing moves back when
// the link returns. The capture shows no ARP request answered by two MACs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arpRequestAnswers, readCapture } from '../../lab/layer2-lab.js';
import { kubeExpectOk } from '../../lab/kube-client.js';
import type { Capture, HostProcess } from '../../lab/netns.js';
import { pollValue } from '../../lab/netns.js';
import { SpeakerLab, outageUntilServedBy, startArping, startProbe, type LabNode } from '../../lab/speaker-lab.js';
import { claimsAnnotation, type SpeakerLeaseObject } from '../../src/speaker/speaker-lease.js';

let lab: SpeakerLab;
let capture: Capture;
let probe: HostProcess;
let arping: HostProcess;
let vip = '';
const figures: string[] = [];

beforeAll(async () => {
  lab = await SpeakerLab.create(3, undefined, { peerNetwork: true });
  capture = await lab.topo.capture(lab.sw, 'p-client', 'client-port');
  await lab.startController();
  await Promise.all(lab.nodes.map((node) => lab.startSpeaker(node, [], { interface: null })));
  await lab.waitForPeerQuorum();
});

afterAll(async () => {
  if (figures.length > 0) console.log(`announce link figures:\n  ${figures.join('\n  ')}`);
  await lab?.destroy();
});

/** What a node's speaker Lease says now: whether it is held, and the VIPs it declines. */
async function leaseOf(node: LabNode): Promise<{ holder: string; declined: string[] }> {
  const lease = (await kubeExpectOk(lab.admin, `/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/vipcast-speaker-${node.name}`)) as SpeakerLeaseObject;
  const state = JSON.parse(lease.metadata.annotations?.[claimsAnnotation] ?? '{}') as { declined?: string[] };
  return { holder: lease.spec?.holderIdentity ?? '', declined: state.declined ?? [] };
}

/** The owner's link fails by `fail`; the VIP must move to another node, and stay there once `restore` brings the link back. */
async function linkFault(what: string, fail: (owner: LabNode) => Promise<unknown>, restore: (owner: LabNode) => Promise<unknown>): Promise<void> {
  const owner = await lab.waitForOwner(vip);
  const at = Date.now();
  await fail(owner);
  const next = await lab.waitForOwner(vip, owner.name);
  const { outageMs, servedAfterMs } = await outageUntilServedBy(probe, next, at);
  // The owner stays in the cluster: its Lease is held and declines the VIP, and it still
  // holds with its peers (it may answer for what it claims), so no peer declared it dead.
  const during = await leaseOf(owner);
  expect(during.holder).toBe(owner.name);
  expect(during.declined).toEqual([vip]);
  expect((await lab.peerView(owner))?.holding).toBe(true);
  figures.push(`${what}: client outage ${outageMs} ms, ${next.name} serving after ${servedAfterMs} ms`);
  expect(outageMs).toBeLessThan(6000);

  await restore(owner);
  const cleared = await pollValue(() => leaseOf(owner), (l) => l.declined.length === 0, 10_000, 100);
  expect(cleared.declined).toEqual([]);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  expect(await lab.holders(vip)).toEqual([next.name]);
}

describe("the announce link of the VIP's owner goes down while its Lease stays alive", () => {
  it('the VIP is answered, by one node, on the link the kernel says', async () => {
    vip = await lab.createService('web', 'IPv4');
    const owner = await lab.waitForOwner(vip);
    probe = startProbe(lab, vip);
    arping = startArping(lab, vip, 0.1);
    const { outageMs } = await outageUntilServedBy(probe, owner, Date.now());
    expect(outageMs).toBe(0);
    expect(owner.speaker?.lines.some((line) => line.includes('"announcing"') && line.includes(vip) && line.includes('"interfaces":["eth0"]'))).toBe(true);
  });

  it("carrier lost (the owner's switch port down): the VIP moves, and stays moved when the port comes back", async () => {
    const port = (node: LabNode): string => `p-n${node.name.slice('node-'.length)}`;
    await linkFault(
      'carrier lost',
      (owner) => lab.topo.run(lab.sw, ['ip', 'link', 'set', port(owner), 'down']),
      (owner) => lab.topo.run(lab.sw, ['ip', 'link', 'set', port(owner), 'up']),
    );
  });

  it('the link set down on the owner: the VIP moves, and stays moved when it is set up again', async () => {
    await linkFault(
      'link set down',
      (owner) => lab.topo.run(owner.host, ['ip', 'link', 'set', 'eth0', 'down']),
      (owner) => lab.topo.run(owner.host, ['ip', 'link', 'set', 'eth0', 'up']),
    );
  });

  it('never had two nodes answer one ARP request', async () => {
    probe.child.kill('SIGTERM');
    arping.child.kill('SIGTERM');
    const file = await capture.stop();
    const { requests, replies, doubled } = arpRequestAnswers(readCapture(file), vip);
    figures.push(`capture: ${requests} ARP requests for the VIP, ${replies} replies, ${doubled} answered by more than one MAC`);
    expect(requests).toBeGreaterThan(20);
    expect(doubled).toBe(0);
  });
});
