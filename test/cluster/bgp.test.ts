// BGP on a real cluster: a router container (Debian's BIRD 2) on the nodes' network peers
// with every speaker; a Service's VIP arrives as one ECMP route with a next hop per eligible
// node; a client behind the router reaches the Service. A node frozen outright (no FIN, no
// BFD, no keepalive) has its path withdrawn by BFD; a node container killed has it withdrawn
// too (its kernel closes the BGP connection as the processes die).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOutage, parseProbeLines, servedSteadily } from '../../lab/probe-log.js';
import { waitUntil, type HostProcess } from '../../lab/netns.js';
import { Client, nodeAddress as addressOf, apply, clusterName, docker, echoWorkload, getJson, kubectl, loadBalancer, nodeNames, restartNode, rolledOut, serviceAddresses } from './cluster.js';

const router = `${clusterName}-router`;
const routerAddress = '172.30.0.5';
const edge = { router: '172.30.1.1', client: '172.30.1.100', subnet: '172.30.1.0/24' };
const routerAsn = 64512;
const nodeAsn = 64513;
let nodes: string[];
let nodeAddress: Record<string, string>;
let client: Client;
let originalConfig = '';

function birdConfig(): string {
  const neighbours = nodes
    .map((node, i) => `protocol bgp node${i} from speakers { neighbor ${nodeAddress[node]} as ${nodeAsn}; description "${node}"; }`)
    .join('\n');
  return `router id ${routerAddress};
protocol device {}
protocol kernel { ipv4 { export where source = RTS_BGP; }; merge paths on; }
protocol bfd { interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
template bgp speakers { local as ${routerAsn}; hold time 30; connect retry time 2; error wait time 1, 10; bfd on; ipv4 { import all; export none; }; }
${neighbours}
`;
}

function vipcastConfig(): string {
  return `${originalConfig.trimEnd()}
- name: routed
  protocol: bgp
  auto-assign: false
  addresses: [198.51.100.0/28]
peers:
- {peer-address: ${routerAddress}, peer-asn: ${routerAsn}, my-asn: ${nodeAsn}, hold-time: 30s, bfd-profile: fast}
bfd-profiles:
- {name: fast, transmit-interval: 100, receive-interval: 100, detect-multiplier: 3}
`;
}

async function configMap(config: string): Promise<void> {
  await apply(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'vipcast-system', name: 'vipcast-config' }, data: { config } }));
}

/** The router's kernel route for the VIP: its next hops (one per node announcing it). */
async function nextHops(vip: string): Promise<string[]> {
  const out = await docker(['exec', router, 'ip', '-4', 'route', 'show', `${vip}/32`]);
  return [...out.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1] ?? '').sort();
}

/** Return path from every node to the client's subnet, through the router (as a LAN's gateway would give). */
async function routeToEdge(node: string): Promise<void> {
  await docker(['exec', node, 'ip', 'route', 'replace', edge.subnet, 'via', routerAddress]);
}

beforeAll(async () => {
  nodes = await nodeNames();
  nodeAddress = {};
  for (const node of nodes) nodeAddress[node] = await addressOf(node);
  const cm = await getJson<{ data?: { config?: string } }>(['-n', 'vipcast-system', 'configmap', 'vipcast-config']);
  originalConfig = cm.data?.config ?? '';
  await docker(['rm', '-f', router]).catch(() => undefined);
  await docker(['run', '-d', '--name', router, '--label', `io.vipcast.cluster=${clusterName}-router`, '--network', `vipcast-${clusterName}`, '--ip', routerAddress, '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'net.ipv4.fib_multipath_hash_policy=1', '--entrypoint', 'sleep', 'vipcast-router:bookworm', 'infinity']);
  await docker(['exec', '-i', router, 'sh', '-c', `cat > /etc/bird/bird.conf <<'EOF'\n${birdConfig()}EOF`]);
  await docker(['exec', '-d', router, 'bird', '-f', '-c', '/etc/bird/bird.conf', '-s', '/run/bird/bird.ctl']);
  client = await Client.behind(router, edge);
  for (const node of nodes) await routeToEdge(node);
  await configMap(vipcastConfig());
  await apply(echoWorkload('DaemonSet', 'echo-bgp'));
  await rolledOut('daemonset', 'echo-bgp');
});

afterAll(async () => {
  await client?.destroy();
  await kubectl(['delete', 'service/bgp', 'daemonset/echo-bgp', '--ignore-not-found', '--wait=false']).catch(() => undefined);
  if (originalConfig !== '') await configMap(originalConfig).catch(() => undefined);
  for (const node of nodes ?? []) await docker(['exec', node, 'ip', 'route', 'del', edge.subnet]).catch(() => undefined);
  await docker(['rm', '-f', router]).catch(() => undefined);
});

/**
 * Runs FAULT against the first worker while the client probes the VIP; returns when the router
 * dropped the worker's path (timed inside the router, every 10 ms) and what the client saw.
 */
async function withdrawnAfter(vip: string, probe: HostProcess, victim: string, fault: () => Promise<void>): Promise<{ withdrawnMs: number; failed: number; total: number; outageMs: number; left: string[] }> {
  const address = nodeAddress[victim] ?? '';
  // Prints the wall clock in ms once the route no longer goes via the victim.
  const watch = docker(['exec', router, 'sh', '-c', `while ip -4 route show ${vip}/32 | grep -q "via ${address} "; do sleep 0.01; done; date +%s%3N`]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const faultAt = Date.now();
  await fault();
  const withdrawnAt = Number((await watch).trim());
  const left = await nextHops(vip);
  const after = await waitUntil(() => parseProbeLines(probe.lines, faultAt), (a) => (a.at(-1)?.at ?? 0) > withdrawnAt + 1000 && servedSteadily(a, undefined, 20), 60_000, 100);
  const during = after.filter((a) => a.at <= withdrawnAt + 1000);
  return { withdrawnMs: withdrawnAt - faultAt, failed: during.filter((a) => !a.ok).length, total: during.length, outageMs: clientOutage(after, faultAt).outageMs, left };
}

describe('a real cluster, BGP through a router', () => {
  let vip: string;
  let expected: string[];
  let eligible: string[];
  let probe: HostProcess;
  const victim = (): string => nodes.find((n) => n.endsWith('-worker')) ?? '';

  it('the VIP arrives by ECMP from every eligible node, and a client behind the router is served by all of them', async () => {
    await apply(loadBalancer('bgp', 'echo-bgp', { local: true, pool: 'routed', ipv4Only: true }));
    vip = (await serviceAddresses('default', 'bgp')).v4;
    expect(vip).toMatch(/^198\.51\.100\./);
    // kubeadm labels control-plane nodes node.kubernetes.io/exclude-from-external-load-balancers;
    // like MetalLB, vipcast announces from none of them.
    const labelled = await getJson<{ items: { metadata: { name: string; labels?: Record<string, string> } }[] }>(['nodes']);
    eligible = labelled.items.filter((n) => !('node.kubernetes.io/exclude-from-external-load-balancers' in (n.metadata.labels ?? {}))).map((n) => n.metadata.name);
    expect(eligible.length, 'eligible nodes').toBeGreaterThan(1);
    expected = eligible.map((n) => nodeAddress[n] ?? '').sort();
    const hops = await waitUntil(() => nextHops(vip), (h) => h.join() === expected.join(), 60_000, 250).catch(async (error: unknown) => {
      const routes = await docker(['exec', router, 'birdc', '-s', '/run/bird/bird.ctl', 'show', 'route', 'all']).catch((e: unknown) => String(e));
      const kernel = await docker(['exec', router, 'ip', '-4', 'route']).catch((e: unknown) => String(e));
      throw new Error(`${String(error)}; BIRD's routes: ${routes}; the router's kernel routes: ${kernel}`);
    });
    const bfd = await docker(['exec', router, 'birdc', '-s', '/run/bird/bird.ctl', 'show', 'bfd', 'sessions']);
    expect(bfd.match(/\bUp\b/g)?.length ?? 0, bfd).toBe(nodes.length);
    probe = client.probe(vip, 8080);
    const steady = await waitUntil(() => parseProbeLines(probe.lines), (a) => servedSteadily(a, undefined, 40), 30_000, 100);
    const servedBy = new Set(steady.slice(-40).map((a) => a.answer));
    console.log(`[cluster] BGP: ${vip} via ${hops.join(', ')} (ECMP over ${eligible.join(', ')}; kubeadm's label excludes the control plane); ${nodes.length} BFD sessions Up; the client behind the router was served by ${[...servedBy].sort().join(', ')}`);
    expect(servedBy.size, 'the router spreads connections over the nodes').toBeGreaterThan(1);
  });

  it('a node frozen outright (docker pause: no FIN, no keepalive, no BFD): BFD withdraws its path long before the 30 s hold time', async () => {
    const node = victim();
    try {
      const seen = await withdrawnAfter(vip, probe, node, () => docker(['pause', node]).then(() => undefined));
      console.log(`[cluster] BGP: ${node} frozen; the router dropped its path after ${seen.withdrawnMs} ms (next hops ${seen.left.join(', ')}); ${seen.failed} of ${seen.total} probes failed until then, longest gap ${seen.outageMs} ms`);
      expect(seen.left).toHaveLength(expected.length - 1);
      // BFD at 100 ms x 3 is about 0.3 s; without BFD only the 30 s hold time would end it.
      expect(seen.withdrawnMs).toBeLessThan(5000);
    } finally {
      await docker(['unpause', node]);
    }
    await waitUntil(() => nextHops(vip), (h) => h.join() === expected.join(), 90_000, 250);
  });

  it('a node container killed (docker kill): its path is withdrawn and the others keep serving', async () => {
    const node = victim();
    try {
      const seen = await withdrawnAfter(vip, probe, node, () => docker(['kill', node]).then(() => undefined));
      console.log(`[cluster] BGP: ${node} killed; the router dropped its path after ${seen.withdrawnMs} ms (next hops ${seen.left.join(', ')}); ${seen.failed} of ${seen.total} probes failed until then, longest gap ${seen.outageMs} ms`);
      expect(seen.left).toHaveLength(expected.length - 1);
      expect(seen.withdrawnMs).toBeLessThan(5000);
    } finally {
      probe.child.kill('SIGTERM');
      await restartNode(node);
      await routeToEdge(node);
    }
    await waitUntil(() => nextHops(vip), (h) => h.join() === expected.join(), 90_000, 250);
  });
});
