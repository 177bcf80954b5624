// kube-proxy's IPVS trap on a real cluster. In IPVS mode kube-proxy puts every Service address
// on a local interface named kube-ipvs0, and unless strictARP is set every node's kernel then
// answers ARP for every VIP. This machine's kernel has no IPVS (and no dummy links), so
// kube-proxy cannot run in that mode here; the test makes exactly the two kernel facts that
// matter for ARP: a kube-ipvs0 link (a bridge, left down, like kube-proxy's dummy) holding the
// VIP, and for strictARP the two sysctls kube-proxy then sets (arp_ignore=1, arp_announce=2).
// The ARP answers are the real kernel's; the detection, metric and Events are the speaker's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/netns.js';
import { Client, answersFor, apply, docker, echoWorkload, getJson, kubectl, loadBalancer, nodeAddress, nodeByMac, nodeNames, ownerSeenBy, rolledOut, serviceAddresses } from './cluster.js';

let client: Client;
let macs: Map<string, string>;
let nodes: string[];
let vip: string;

beforeAll(async () => {
  client = await Client.create();
  macs = await nodeByMac();
  nodes = await nodeNames();
  await apply(echoWorkload('DaemonSet', 'echo-ipvs'));
  await rolledOut('daemonset', 'echo-ipvs');
  await apply(loadBalancer('l2-ipvs', 'echo-ipvs'));
  vip = (await serviceAddresses('default', 'l2-ipvs')).v4;
});

afterAll(async () => {
  for (const node of nodes ?? []) {
    await docker(['exec', node, 'sh', '-c', 'ip link del kube-ipvs0 2>/dev/null; sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0']).catch(() => undefined);
  }
  await client?.destroy();
  await kubectl(['delete', 'service/l2-ipvs', 'daemonset/echo-ipvs', '--ignore-not-found', '--wait=false']).catch(() => undefined);
});

/** The nodes whose MACs answered ARP for the VIP on the bridge while the client asked afresh three times. */
async function arpAnswerers(): Promise<string[]> {
  const capture = await client.capture();
  for (let i = 0; i < 3; i++) await ownerSeenBy(client, vip, macs);
  await capture.stop();
  return [...new Set((await answersFor(capture.file, vip)).map((a) => macs.get(a.mac) ?? a.mac))].sort();
}

/** Each node's vipcast_speaker_ipvs_loose_arp, scraped from its speaker (hostNetwork, port 7473). */
async function looseGauges(): Promise<Record<string, number>> {
  const gauges: Record<string, number> = {};
  for (const node of nodes) {
    const address = await nodeAddress(node);
    const text = await (await fetch(`http://${address}:7473/metrics`)).text();
    gauges[node] = Number(/^vipcast_speaker_ipvs_loose_arp (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
  }
  return gauges;
}

interface EventList {
  items: { reason?: string; type?: string; note?: string; regarding?: { kind?: string; name?: string } }[];
}

/** The nodes with an Event of this reason about them (events.k8s.io/v1 in `default`). */
async function nodesWithEvent(reason: string): Promise<string[]> {
  const events = await getJson<EventList>(['-n', 'default', 'events.v1.events.k8s.io']);
  return [...new Set(events.items.filter((e) => e.reason === reason && e.regarding?.kind === 'Node').map((e) => e.regarding?.name ?? ''))].sort();
}

describe('a real cluster, kube-proxy IPVS without strictARP', () => {
  it('every node answers ARP for the VIP; each speaker warns (log, metric, Warning Event on its Node); with strictARP set only vipcast\'s node answers and the warning clears', async () => {
    expect(await arpAnswerers(), 'before: only vipcast answers').toHaveLength(1);
    for (const node of nodes) await docker(['exec', node, 'sh', '-c', `ip link add kube-ipvs0 type bridge && ip addr add ${vip}/32 dev kube-ipvs0`]);

    expect(await arpAnswerers(), 'the trap: every node answers').toEqual([...nodes].sort());
    const startedAt = Date.now();
    // The speakers look every 30 s.
    await waitUntil(() => nodesWithEvent('IPVSStrictARPOff'), (found) => found.length === nodes.length, 45_000, 1000);
    const gauges = await waitUntil(looseGauges, (g) => Object.values(g).every((v) => v === 1), 10_000, 500);
    const off = (await getJson<EventList>(['-n', 'default', 'events.v1.events.k8s.io'])).items.find((e) => e.reason === 'IPVSStrictARPOff');
    console.log(`[cluster] IPVS trap: ${nodes.length} nodes answered ARP for ${vip}; every speaker warned within ${Date.now() - startedAt} ms: ${JSON.stringify(gauges)}; "${off?.note}"`);
    expect(off?.type).toBe('Warning');
    expect(off?.note).toContain('strictARP: true');

    for (const node of nodes) await docker(['exec', node, 'sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
    const answering = await arpAnswerers();
    expect(answering, 'with strictARP only vipcast\'s node answers').toHaveLength(1);
    await waitUntil(() => nodesWithEvent('IPVSStrictARPOn'), (found) => found.length === nodes.length, 45_000, 1000);
    expect(Object.values(await looseGauges())).toEqual(nodes.map(() => 0));
    console.log(`[cluster] with strictARP's arp_ignore=1 and arp_announce=2: only ${answering.join()} answered; the gauges went back to 0 and each Node got IPVSStrictARPOn`);
  });
});
