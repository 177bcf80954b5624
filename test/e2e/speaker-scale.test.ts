// Issue 6, scenario 4 (and issue 14): the speakers' steady-state API writes do not grow with
// the number of Services. With 10 and then 1,000 layer-2 Services held by three nodes, the API
// server's own watch counts the writes to each speaker Lease over 10 s. With three speakers
// the peer quorum holds the VIPs (ADR 0017): a Lease is rewritten only when claims or the
// configuration change, and every 30 s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeExpectOk } from '../../lab/kube-client.js';
import { waitUntil } from '../../lab/netns.js';
import { SpeakerLab, countWrites } from '../../lab/speaker-lab.js';
import { leaseRecordFrom, type SpeakerLeaseObject } from '../../src/speaker/speaker-lease.js';

const bulkConfig = `address-pools:
- name: bulk
  protocol: layer2
  addresses: [198.18.0.0/21]
`;

let lab: SpeakerLab;
let created = 0;
const speakerEventWrites: number[] = [];
const figures: string[] = [];

async function createServices(upTo: number): Promise<void> {
  const names: string[] = [];
  for (; created < upTo; created++) names.push(`svc-${created}`);
  for (let i = 0; i < names.length; i += 16) {
    await Promise.all(
      names.slice(i, i + 16).map((name) =>
        kubeExpectOk(lab.admin, '/api/v1/namespaces/default/services', {
          method: 'POST',
          body: { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }], selector: { app: name } } },
        }),
      ),
    );
  }
}

async function heldTotal(): Promise<number> {
  const list = (await kubeExpectOk(lab.admin, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases')) as { items: SpeakerLeaseObject[] };
  return list.items.map(leaseRecordFrom).reduce((sum, r) => sum + (r?.held.size ?? 0), 0);
}

async function writesPerNodePerSecond(services: number): Promise<number[]> {
  await waitUntil(heldTotal, (n) => n === services, 120_000, 500);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const windowMs = 10_000;
  const [leases, events] = await Promise.all([
    countWrites(lab.admin, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases', windowMs),
    countWrites(lab.admin, '/apis/events.k8s.io/v1/namespaces/default/events', windowMs, (e) => `${String(e['reportingController'])} ${String(e['reason'])}`),
  ]);
  const perNode = lab.nodes.map((n) => (leases.get(`vipcast-speaker-${n.name}`) ?? 0) / (windowMs / 1000));
  const eventWrites = [...events.entries()].map(([key, n]) => `${key}: ${n}`).join(', ') || 'none';
  figures.push(`${services} Services: Lease writes per node per second ${perNode.map((r) => r.toFixed(1)).join(', ')}; Event writes in 10 s: ${eventWrites}`);
  speakerEventWrites.push([...events.entries()].filter(([key]) => key.startsWith('vipcast.io/speaker')).reduce((a, [, n]) => a + n, 0));
  return perNode;
}

beforeAll(async () => {
  lab = await SpeakerLab.create(3, bulkConfig);
  await lab.startController();
  await Promise.all(lab.nodes.map((node) => lab.startSpeaker(node)));
});

afterAll(async () => {
  if (figures.length > 0) console.log(`speaker API writes:\n  ${figures.join('\n  ')}`);
  await lab?.destroy();
});

describe('speaker API writes in steady state', () => {
  it('stay near zero per node (a renewal every 30 s at most), with 10 Services and with 1,000', async () => {
    await lab.waitForPeerQuorum();
    await createServices(10);
    const small = await writesPerNodePerSecond(10);
    await createServices(1000);
    const large = await writesPerNodePerSecond(1000);
    for (const rate of [...small, ...large]) expect(rate).toBeLessThanOrEqual(0.2); // at most two writes in 10 s
    // The VIPs are still held, by exactly one node each.
    expect(await heldTotal()).toBe(1000);
    expect(speakerEventWrites).toEqual([0, 0]);
  });
});
