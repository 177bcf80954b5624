// vipcast's packet socket against real kernels: frames it sends change a client's
// neighbour table, and it receives exactly the ARP requests and Neighbor Solicitations it
// asks for, without putting the interface into promiscuous mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeArpFrame, gratuitousArpReply, gratuitousArpRequest, decodeArpFrame } from '../../speakers/layer2/codec/arp.js';
import { decodeNdpFrame } from '../../speakers/layer2/codec/ndp.js';
import { ipv6MulticastMac, solicitedNodeAddress } from '../../speakers/layer2/codec/ipv6.js';
import { Topology, waitUntil } from '../../lab/netns.js';
import type { Host } from '../../lab/netns.js';

const agent = ['node', 'dist/test/wire/agents/frame-agent.js'];
const vip4 = '192.0.2.100';
const vip6 = '2001:db8::100';

let topo: Topology;
let node: Host;
let client: Host;
let nodeMac: string;

async function neighbour(family: '-4' | '-6', ip: string): Promise<string> {
  const { stdout } = await topo.run(client, ['ip', family, 'neigh', 'show', ip, 'dev', 'eth0']);
  return stdout.trim();
}

beforeAll(async () => {
  topo = await Topology.create();
  const sw = await topo.addSwitch('sw');
  node = await topo.addHost('node');
  client = await topo.addHost('client');
  nodeMac = (await topo.link(node, 'eth0', sw, 'p-node', sw)).a;
  await topo.link(client, 'eth0', sw, 'p-client', sw);
  await topo.run(node, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0']);
  await topo.run(node, ['ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'eth0']);
  await topo.run(client, ['ip', 'addr', 'add', '192.0.2.9/24', 'dev', 'eth0']);
  await topo.run(client, ['ip', 'addr', 'add', '2001:db8::9/64', 'dev', 'eth0']);
});

afterAll(async () => {
  await topo?.destroy();
});

describe('packet socket on a real link', () => {
  it.each([
    ['reply form', gratuitousArpReply],
    ['request form', gratuitousArpRequest],
  ])('a gratuitous ARP (%s) repoints an existing neighbour entry at once', async (_name, build) => {
    await topo.run(client, ['ip', 'neigh', 'replace', vip4, 'lladdr', '02:00:00:00:99:99', 'dev', 'eth0', 'nud', 'reachable']);
    const frame = encodeArpFrame(build(vip4, nodeMac)).toString('hex');
    const sent = topo.start(node, [...agent, 'send', 'eth0', frame]);
    await sent.waitForLine(/^sent 1$/, 10_000);
    const entry = await waitUntil(() => neighbour('-4', vip4), (e) => e.includes(nodeMac), 2000);
    expect(entry).toContain(`lladdr ${nodeMac}`);
  });

  it('receives ARP requests for an address, and nothing else, without promiscuous mode', async () => {
    const listener = topo.start(node, [...agent, 'listen', 'eth0', 'arp']);
    await listener.waitForLine(/^ready/, 10_000);
    await topo.run(client, ['ping', '-c', '1', '-W', '1', '192.0.2.1']); // IPv4 traffic the filter must drop
    await topo.run(client, ['arping', '-c', '1', '-w', '1', '-I', 'eth0', vip4], true); // nobody answers: exit 1
    const frames = await waitUntil(
      () => listener.lines.filter((l) => /^[0-9a-f]+$/.test(l)).map((l) => decodeArpFrame(Buffer.from(l, 'hex')).arp),
      (arps) => arps.some((a) => a.targetIp === vip4),
      3000,
    );
    expect(frames.find((a) => a.targetIp === vip4)).toMatchObject({ operation: 'request', senderIp: '192.0.2.9' });
    // The filter passes requests only: the client's request for the node's address may be
    // there too, the node kernel's reply and the ping must not.
    expect(frames.every((a) => a.operation === 'request')).toBe(true);
    const { stdout } = await topo.run(node, ['ip', '-d', 'link', 'show', 'eth0']);
    expect(stdout).toMatch(/promiscuity 0/);
    listener.child.kill('SIGTERM');
    await listener.exited;
  });

  it('receives Neighbor Solicitations sent to a joined solicited-node group, hop limit intact', async () => {
    const group = ipv6MulticastMac(solicitedNodeAddress(vip6));
    const listener = topo.start(node, [...agent, 'listen', 'eth0', 'ns', group]);
    await listener.waitForLine(/^ready/, 10_000);
    await topo.run(client, ['ndisc6', '-1', '-r', '1', '-w', '300', vip6, 'eth0'], true); // unanswered: exit 2
    const line = await listener.waitForLine(/^[0-9a-f]{100,}$/, 3000);
    const frame = decodeNdpFrame(Buffer.from(line, 'hex'));
    expect(frame.ethernet.destination).toBe(group);
    expect(frame.packet).toMatchObject({ destination: solicitedNodeAddress(vip6), hopLimit: 255, message: { type: 'neighbor-solicitation', target: vip6 } });
    listener.child.kill('SIGTERM');
    await listener.exited;
  });
});
