// The control-plane VIP in BGP mode (issue 16) on the HA tier's kubeadm cluster: a router
// container (Debian's BIRD 2) on the nodes' network peers with the agent on each of the three
// control planes, whose static Pods are regenerated with `vipcast manifest control-plane --mode
// bgp`. The VIP arrives as a /32 route whose one next hop is the holder; a client behind the
// router asks https://VIP:6443/readyz every 50 ms through it. The holder's API server removed
// and the holder's node container killed each move the route to one other node, and the
// router's table, read every 20 ms, never has two next hops. The VIP stays inside the nodes'
// subnet (kubeadm's endpoint), so the /32's next hop, not reachability alone, shows BGP at work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { waitUntil } from '../../lab/netns.js';
import { Client, clusterName, docker, kubectl, manifestImage, nodeAddress, script } from '../cluster/cluster.js';
import { apiThroughVip, attempts, clusterCaFile, controlPlanes, haVip, longestGap, servedSteadily, startReadyz } from './ha.js';

const router = `${clusterName}-router`;
const routerAddress = '172.30.0.5';
const edge = { router: '172.30.1.1', client: '172.30.1.100', subnet: '172.30.1.0/24' };
const routerAsn = 64512;
const nodeAsn = 64513;
const address: Record<string, string> = {};
let client: Client;
let ca: { file: string; remove: () => void } | undefined;
let caFile = '';
/** Lines "<ms> <next hop> <next hop>…" from the router, every 20 ms, for the whole file. */
let routeWatch: ChildProcess | undefined;
const routeLines: string[] = [];

function birdConfig(): string {
  const neighbours = controlPlanes.map((node, i) => `protocol bgp cp${i} from agents { neighbor ${address[node]} as ${nodeAsn}; description "${node}"; }`).join('\n');
  return `router id ${routerAddress};
protocol device {}
protocol kernel { ipv4 { export where source = RTS_BGP; }; merge paths on; }
template bgp agents { local as ${routerAsn}; connect retry time 2; error wait time 1, 10; ipv4 { import all; export none; }; }
${neighbours}
`;
}

/** Regenerates the node's control-plane static Pod from the image (as scripts/cluster does), with these extra flags. */
async function controlPlaneManifest(node: string, extra: readonly string[]): Promise<void> {
  const command = [
    `ctr -n k8s.io run --rm --net-host '${manifestImage()}' vipcast-manifest-$$ node /app/bin/vipcast.js manifest control-plane --vip '${haVip}' --interface eth0 ${extra.join(' ')} > /etc/kubernetes/vipcast.yaml.new`,
    'grep -q "kind: Pod" /etc/kubernetes/vipcast.yaml.new',
    // One rename, so kubelet never reads half a file.
    'mv /etc/kubernetes/vipcast.yaml.new /etc/kubernetes/manifests/vipcast.yaml',
  ].join(' && ');
  await docker(['exec', node, 'sh', '-c', command]);
}

function bgpFlags(node: string): string[] {
  return ['--mode', 'bgp', '--bgp-peer', routerAddress, '--bgp-peer-asn', String(routerAsn), '--bgp-my-asn', String(nodeAsn), '--bgp-source', address[node] ?? ''];
}

/** The router's kernel route for the VIP: its next hops. */
async function nextHops(): Promise<string[]> {
  const out = await docker(['exec', router, 'ip', '-4', 'route', 'show', `${haVip}/32`]);
  return [...out.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1] ?? '').sort();
}

async function established(): Promise<number> {
  const out = await docker(['exec', router, 'birdc', '-s', '/run/bird/bird.ctl', 'show', 'protocols']);
  return out.split('\n').filter((l) => /^cp\d/.test(l) && /Established/.test(l)).length;
}

function nodeOf(hop: string | undefined): string {
  return controlPlanes.find((n) => address[n] === hop) ?? `? (${hop})`;
}

beforeAll(async () => {
  await apiThroughVip();
  for (const node of controlPlanes) address[node] = await nodeAddress(node);
  ca = await clusterCaFile();
  caFile = ca.file;
  await docker(['rm', '-f', router]).catch(() => undefined);
  await docker(['run', '-d', '--name', router, '--label', `io.vipcast.cluster=${clusterName}-router`, '--network', `vipcast-${clusterName}`, '--ip', routerAddress, '--cap-add', 'NET_ADMIN', '--cap-add', 'NET_RAW', '--sysctl', 'net.ipv4.ip_forward=1', '--entrypoint', 'sleep', 'vipcast-router:bookworm', 'infinity']);
  await docker(['exec', '-i', router, 'sh', '-c', `cat > /etc/bird/bird.conf <<'EOF'\n${birdConfig()}EOF`]);
  await docker(['exec', '-d', router, 'bird', '-f', '-c', '/etc/bird/bird.conf', '-s', '/run/bird/bird.ctl']);
  client = await Client.behind(router, edge);
  // The return path to the client's subnet, as a LAN's gateway would give.
  for (const node of controlPlanes) await docker(['exec', node, 'ip', 'route', 'replace', edge.subnet, 'via', routerAddress]);
  routeWatch = spawn('docker', ['exec', router, 'sh', '-c', `while :; do echo "$(date +%s%3N) $(ip -4 route show ${haVip}/32 | grep -o 'via [0-9.]*' | cut -d' ' -f2 | tr '\\n' ' ')"; sleep 0.02; done`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let partial = '';
  routeWatch.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    routeLines.push(...lines);
  });
  // One node at a time, as an operator would; each old agent gives the VIP up on SIGTERM.
  for (const node of controlPlanes) await controlPlaneManifest(node, bgpFlags(node));
  await waitUntil(established, (n) => n === controlPlanes.length, 120_000, 500);
  await waitUntil(nextHops, (h) => h.length === 1, 60_000, 250);
});

afterAll(async () => {
  routeWatch?.kill('SIGTERM');
  await client?.destroy();
  // Back to layer 2, as the cluster was made.
  for (const node of controlPlanes) await controlPlaneManifest(node, []).catch((error: unknown) => console.log(`[cluster-ha] ${node}: ${String(error)}`));
  for (const node of controlPlanes) await docker(['exec', node, 'ip', 'route', 'del', edge.subnet]).catch(() => undefined);
  await docker(['rm', '-f', router]).catch(() => undefined);
  await apiThroughVip();
  ca?.remove();
});


/** The route's next hops as the router's table showed them, each line since `from`. */
function routeSamples(from: number): { at: number; hops: string[] }[] {
  return routeLines
    .map((line) => line.trim().split(/\s+/))
    .map(([at = '0', ...hops]) => ({ at: Number(at), hops }))
    .filter((s) => s.at >= from);
}

/** Moves the route with a fault on the holder while the client asks /readyz through the router; returns what it saw. */
async function moveByFault(fault: (holder: string) => Promise<void>): Promise<{ holder: string; next: string; gapMs: number; movedMs: number; failed: number; requests: number; samples: number; two: string[] }> {
  const [hop] = await waitUntil(nextHops, (h) => h.length === 1, 60_000, 250);
  const holder = nodeOf(hop);
  const probe = startReadyz(client, caFile);
  try {
    await waitUntil(() => attempts(probe), (a) => servedSteadily(a, 20), 60_000, 100);
    const at = Date.now();
    await fault(holder);
    const moved = await waitUntil(nextHops, (h) => h.length === 1 && h[0] !== hop, 90_000, 100);
    const list = await waitUntil(() => attempts(probe, at), (a) => servedSteadily(a, 40), 90_000, 100);
    const samples = routeSamples(at);
    const firstMoved = samples.find((s) => s.hops.length === 1 && s.hops[0] !== hop);
    return {
      holder,
      next: nodeOf(moved[0]),
      gapMs: Math.round(longestGap(list, at)),
      movedMs: firstMoved === undefined ? -1 : firstMoved.at - at,
      failed: list.filter((a) => !a.ok).length,
      requests: list.length,
      samples: samples.length,
      two: samples.filter((s) => s.hops.length > 1).map((s) => `${s.at}: ${s.hops.join(' ')}`),
    };
  } finally {
    probe.child.kill('SIGTERM');
  }
}

describe('the control-plane VIP in BGP mode, through a router', () => {
  it('every agent keeps a session with the router; the VIP is one /32 route via the holder, and a client behind the router reaches the API through it', async () => {
    expect(await established()).toBe(controlPlanes.length);
    const hops = await nextHops();
    expect(hops).toHaveLength(1);
    const probe = startReadyz(client, caFile);
    try {
      await waitUntil(() => attempts(probe), (a) => servedSteadily(a, 20), 60_000, 100);
    } finally {
      probe.child.kill('SIGTERM');
    }
    // The agents were restarted in BGP mode; kubectl still works through the VIP.
    expect(await kubectl(['get', 'nodes', '--no-headers'])).toContain(controlPlanes[0]);
    // kubeadm's endpoint is inside the nodes' subnet, where hosts (the workers' kubelets) reach
    // it by ARP: each agent says so and announces takeovers on layer 2 as well.
    for (const node of controlPlanes) {
      const log = await docker(['exec', node, 'sh', '-c', 'cat /var/log/pods/kube-system_vipcast-control-plane-*/vipcast/*.log']);
      expect(log, node).toContain('the VIP is inside a subnet of its interface');
    }
    console.log(`[cluster-ha] BGP: ${controlPlanes.length} sessions Established; ${haVip}/32 via ${hops.join()} (${nodeOf(hops[0])}); the client behind the router is served`);
  });

  it('the holder\'s kube-apiserver removed: the route moves to one other node, never two next hops', async () => {
    let node = '';
    try {
      const seen = await moveByFault(async (holder) => {
        node = holder;
        await docker(['exec', holder, 'mv', '/etc/kubernetes/manifests/kube-apiserver.yaml', '/etc/kubernetes/kube-apiserver.yaml.away']);
      });
      console.log(`[cluster-ha] BGP: kube-apiserver removed on ${seen.holder}: the route moved to ${seen.next} after ${seen.movedMs} ms; /readyz outage ${seen.gapMs} ms (${seen.failed} of ${seen.requests} failed); ${seen.samples} route samples, ${seen.two.length} with two next hops`);
      expect(seen.next).not.toBe(seen.holder);
      expect(seen.two).toEqual([]);
      expect(seen.gapMs).toBeLessThan(30_000);
    } finally {
      if (node !== '') await docker(['exec', node, 'mv', '/etc/kubernetes/kube-apiserver.yaml.away', '/etc/kubernetes/manifests/kube-apiserver.yaml']);
    }
    await waitUntil(established, (n) => n === controlPlanes.length, 120_000, 500);
  });

  it('the holder\'s node container killed: its session ends, and the route moves to one other node once the Lease expires', async () => {
    let node = '';
    try {
      const seen = await moveByFault(async (holder) => {
        node = holder;
        await docker(['kill', holder]);
      });
      console.log(`[cluster-ha] BGP: ${seen.holder} killed: the route moved to ${seen.next} after ${seen.movedMs} ms; /readyz outage ${seen.gapMs} ms (${seen.failed} of ${seen.requests} failed); ${seen.samples} route samples, ${seen.two.length} with two next hops`);
      expect(seen.next).not.toBe(seen.holder);
      expect(seen.two).toEqual([]);
      expect(seen.gapMs).toBeLessThan(30_000);
    } finally {
      if (node !== '') {
        await docker(['start', node]);
        await waitUntil(() => docker(['exec', node, 'ctr', 'version']).then(() => true, () => false), (ok) => ok, 60_000, 500);
        await script('cluster', ['routes']);
        await docker(['exec', node, 'ip', 'route', 'replace', edge.subnet, 'via', routerAddress]);
      }
    }
    await waitUntil(established, (n) => n === controlPlanes.length, 240_000, 1000);
  });
});
