// MetalLB's BGP objects, end to end: three nodes run `vipcast speaker --config-source metallb`
// against BIRD, configured only by metallb.io objects (vipcast's CRDs on a real kube-apiserver).
// What BIRD learns must follow MetalLB's meaning of each field: a BGPAdvertisement with
// nodeSelectors is announced only from those nodes, one with `peers` only to those BGPPeers,
// aggregation lengths and Community aliases as written, and a BFDProfile's timers on the
// sessions of the BGPPeers that name it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installManifests } from '../../lab/cluster-helpers.js';
import { kubeExpectOk } from '../../lab/kube-client.js';
import { waitUntil } from '../../lab/netns.js';
import type { BgpRouter } from '../../lab/routers.js';
import { SpeakerLab } from '../../lab/speaker-lab.js';

const MLB = '/apis/metallb.io/v1beta1/namespaces/metallb-system';
const MLB2 = '/apis/metallb.io/v1beta2/namespaces/metallb-system';
/** vipcast's own ConfigMap holds another pool: an address from it means the wrong source was read. */
const DECOY = `address-pools:
- name: decoy
  protocol: bgp
  addresses: [203.0.113.0/28]
`;

let lab: SpeakerLab;
let bird: BgpRouter;
let v4 = '';
let v6 = '';

async function nextHops(prefix: string): Promise<string[]> {
  const text = await bird.cli(['show', 'route', prefix]);
  return [...text.matchAll(/via\s+([0-9a-f.:]+)/gi)].map((m) => (m[1] ?? '').toLowerCase()).sort();
}

async function waitForHops(prefix: string, expected: string[], timeoutMs = 30_000): Promise<void> {
  const got = await waitUntil(() => nextHops(prefix), (hops) => JSON.stringify(hops) === JSON.stringify(expected), timeoutMs, 100);
  expect(got, prefix).toEqual(expected);
}

const meta = (name: string): Record<string, unknown> => ({ name, namespace: 'metallb-system' });

async function post(path: string, body: unknown): Promise<void> {
  await kubeExpectOk(lab.admin, path, { method: 'POST', body });
}

beforeAll(async () => {
  lab = await SpeakerLab.create(3, DECOY);
  await kubeExpectOk(lab.admin, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'metallb-system' } } });
  await installManifests(lab.admin, ['manifests/metallb-crds.yaml', 'manifests/metallb-source.yaml']);
  await waitUntil(async () => (await kubeExpectOk(lab.admin, `${MLB}/ipaddresspools`).then(() => true, () => false)), (ok) => ok, 30_000, 200);
  await post(`${MLB}/ipaddresspools`, { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta('routed'), spec: { addresses: ['198.51.100.0/28', '2001:db8:100::/124'], avoidBuggyIPs: true } });
  await post(`${MLB}/bfdprofiles`, { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: meta('fast'), spec: { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 } });
  await post(`${MLB}/communities`, { apiVersion: 'metallb.io/v1beta1', kind: 'Community', metadata: meta('tags'), spec: { communities: [{ name: 'from-rack1', value: '64513:100' }] } });
  for (const [name, address] of [['bird-v4', '192.0.2.254'], ['bird-v6', '2001:db8::254']] as const) {
    await post(`${MLB2}/bgppeers`, { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: meta(name), spec: { myASN: 64513, peerASN: 64512, peerAddress: address, holdTime: '9s', bfdProfile: 'fast' } });
  }
  // Host routes only from rack r1 (node-1), tagged; the aggregate from every node, to the IPv4 peer only.
  await post(`${MLB}/bgpadvertisements`, {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'BGPAdvertisement',
    metadata: meta('rack1-hosts'),
    spec: { ipAddressPools: ['routed'], communities: ['from-rack1'], nodeSelectors: [{ matchLabels: { rack: 'r1' } }] },
  });
  await post(`${MLB}/bgpadvertisements`, {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'BGPAdvertisement',
    metadata: meta('aggregate'),
    spec: { ipAddressPools: ['routed'], aggregationLength: 28, aggregationLengthV6: 124, peers: ['bird-v4'] },
  });
  await kubeExpectOk(lab.admin, '/api/v1/nodes/node-1', { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { rack: 'r1' } } } });
  bird = await lab.addBird();
  await lab.startController(['--config-source=metallb']);
  await Promise.all(lab.nodes.map((node) => lab.startSpeaker(node, ['--config-source=metallb'])));
  v4 = await lab.createService('web', 'IPv4');
  v6 = await lab.createService('web6', 'IPv6');
}, 180_000);

afterAll(async () => {
  await lab?.destroy();
});

describe("speaker, BGP, configured by MetalLB's objects", () => {
  it('allocates from the IPAddressPool, not from the ConfigMap (avoidBuggyIPs skips .0)', () => {
    expect(v4).toBe('198.51.100.1');
    expect(v6).toBe('2001:db8:100::');
  });

  it('a BGPAdvertisement with nodeSelectors: host routes only from the node they select, with the Community alias', async () => {
    await waitForHops(`${v4}/32`, ['192.0.2.1']);
    await waitForHops(`${v6}/128`, ['2001:db8::1']);
    const route = (await bird.routes()).get(`${v4}/32`);
    expect(route?.communities).toContain('64513:100');
  });

  it('a BGPAdvertisement with peers: the aggregate only to the BGPPeer it names, from every node', async () => {
    await waitForHops('198.51.100.0/28', ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    expect((await bird.routes()).get('198.51.100.0/28')?.communities ?? []).not.toContain('64513:100');
    // bird-v6 is not named: its sessions carry no aggregate.
    expect(await nextHops('2001:db8:100::/124')).toEqual([]);
  });

  it("the BFDProfile's timers run on the sessions of the BGPPeers that name it", async () => {
    for (const node of lab.nodes) {
      expect(await waitUntil(() => bird.bfdUp(node.ipv4), (up) => up, 20_000, 200), node.name).toBe(true);
    }
  });

  it('a node labelled into the rack starts announcing the host routes; labelled out, it withdraws them', async () => {
    await kubeExpectOk(lab.admin, '/api/v1/nodes/node-2', { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { rack: 'r1' } } } });
    await waitForHops(`${v4}/32`, ['192.0.2.1', '192.0.2.2']);
    await kubeExpectOk(lab.admin, '/api/v1/nodes/node-1', { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { rack: null } } } });
    await waitForHops(`${v4}/32`, ['192.0.2.2']);
    // The aggregate stays from every node throughout.
    expect(await nextHops('198.51.100.0/28')).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  });
});
