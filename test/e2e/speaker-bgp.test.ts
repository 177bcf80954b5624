// Issue 6, BGP, end to end: three nodes running `vipcast speaker` peer with BIRD over IPv4 and
// IPv6. BIRD must see each VIP from every eligible node (ECMP), only from nodes with ready
// endpoints under externalTrafficPolicy Local, lose a node's paths within the BFD detect time
// when its speaker dies, and show the shutdown message when a speaker stops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeExpectOk } from '../../lab/kube-client.js';
import { waitUntil } from '../../lab/netns.js';
import type { BgpRouter } from '../../lab/routers.js';
import { SpeakerLab, bgpLabConfig } from '../../lab/speaker-lab.js';

const bgpConfig = `${bgpLabConfig}  bgp-advertisements:
  - communities: ["64513:100"]
`;

let lab: SpeakerLab;
let bird: BgpRouter;
const figures: string[] = [];

/** The next hops BIRD holds for a prefix, one per path (each node's session is a path). */
async function nextHops(prefix: string): Promise<string[]> {
  const text = await bird.cli(['show', 'route', prefix]);
  return [...text.matchAll(/via\s+([0-9a-f.:]+)/gi)].map((m) => (m[1] ?? '').toLowerCase()).sort();
}

async function waitForHops(prefix: string, expected: string[], timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  const got = await waitUntil(() => nextHops(prefix), (hops) => JSON.stringify(hops) === JSON.stringify(expected), timeoutMs, 50);
  expect(got).toEqual(expected);
  return Date.now() - started;
}

beforeAll(async () => {
  lab = await SpeakerLab.create(3, bgpConfig);
  bird = await lab.addBird();
  await lab.startController();
  await Promise.all(lab.nodes.map((node) => lab.startSpeaker(node)));
});

afterAll(async () => {
  if (figures.length > 0) console.log(`speaker BGP figures:\n  ${figures.join('\n  ')}`);
  await lab?.destroy();
});

describe('speaker, BGP, end to end', () => {
  it('BIRD learns an IPv4 VIP from every node (ECMP), with the pool community', async () => {
    const ip = await lab.createService('web', 'IPv4');
    await waitForHops(`${ip}/32`, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    const route = (await bird.routes()).get(`${ip}/32`);
    expect(route?.communities).toContain('64513:100');
  });

  it('BIRD learns an IPv6 VIP from every node over the IPv6 sessions', async () => {
    const ip = await lab.createService('web6', 'IPv6');
    await waitForHops(`${ip}/128`, ['2001:db8::1', '2001:db8::2', '2001:db8::3']);
  });

  it('with externalTrafficPolicy Local, only nodes with a ready endpoint announce', async () => {
    const ip = await lab.createService('local', 'IPv4', 'Local');
    await waitForHops(`${ip}/32`, []);
    await kubeExpectOk(lab.admin, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      method: 'POST',
      body: {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'local-1', labels: { 'kubernetes.io/service-name': 'local' } },
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.244.2.5'], nodeName: 'node-2', conditions: { ready: true } },
          { addresses: ['10.244.3.5'], nodeName: 'node-3', conditions: { ready: false } },
        ],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    });
    await waitForHops(`${ip}/32`, ['192.0.2.2']);
  });

  it("a node lost (speaker killed, link unplugged) loses its paths within BFD's detect time", async () => {
    const ip = (await kubeExpectOk(lab.admin, '/api/v1/namespaces/default/services/web')) as { status: { loadBalancer: { ingress: { ip: string }[] } } };
    const prefix = `${ip.status.loadBalancer.ingress[0]?.ip}/32`;
    const node = lab.nodes[0]!;
    await waitUntil(() => bird.bfdUp('192.0.2.1'), (up) => up, 10_000, 100);
    const at = Date.now();
    // Unplugged first, so no FIN or RST reaches BIRD: only BFD (or the hold time) can tell.
    await lab.topo.run(node.host, ['ip', 'link', 'set', 'eth0', 'down']);
    node.speaker?.child.kill('SIGKILL');
    await waitForHops(prefix, ['192.0.2.2', '192.0.2.3'], 8000);
    const gone = Date.now() - at;
    figures.push(`node lost (unplugged, speaker killed): BIRD dropped its path after ${gone} ms (BFD 100 ms x 3 = 300 ms detect; hold time 9 s)`);
    expect(gone).toBeLessThan(1500);
    await lab.topo.run(node.host, ['ip', 'link', 'set', 'eth0', 'up']);
    await lab.startSpeaker(node);
    await waitForHops(prefix, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  });

  it('a speaker stopped with SIGTERM withdraws at once and BIRD shows its shutdown message', async () => {
    const node = lab.nodes[2]!;
    const at = Date.now();
    node.speaker?.child.kill('SIGTERM');
    expect(await node.speaker?.exited, node.speaker?.stderr().slice(-2000)).toBe(0);
    const prefix = `${((await kubeExpectOk(lab.admin, '/api/v1/namespaces/default/services/web')) as { status: { loadBalancer: { ingress: { ip: string }[] } } }).status.loadBalancer.ingress[0]?.ip}/32`;
    await waitForHops(prefix, ['192.0.2.1', '192.0.2.2'], 5000);
    figures.push(`speaker SIGTERMed: its path gone from BIRD after ${Date.now() - at} ms`);
    expect(await bird.lastError('192.0.2.3')).toMatch(/stopping/i);
  });
});
