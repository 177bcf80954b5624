// The responder on a real link where it overhears other hosts' traffic: node A's port is put
// in promiscuous mode (as a bridge port or a running tcpdump does), so its speaker receives
// frames addressed to other hosts; and the client's kernel, driven by arping and by an IPv6
// address it adds, claims A's VIPs. The switch-side capture and the client's kernel witness
// what A answers; the speaker's own counters and conflict hook say what it saw.
import type { Buffer } from 'node:buffer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeArpFrame, encodeArpFrame } from '../../speakers/layer2/codec/arp.js';
import { decodeNdpFrame, encodeNdpFrame } from '../../speakers/layer2/codec/ndp.js';
import { answersIn, askFromClient, createLayer2Lab, ipv4, ipv6, lineAfter, readCapture, tsharkMalformed, stopStarted } from '../../lab/layer2-lab.js';
import type { Layer2Lab } from '../../lab/layer2-lab.js';
import type { HostProcess } from '../../lab/netns.js';
import { arpRequest, neighborSolicitation } from '../helpers/layer2-requests.js';
import { labProgram } from '../../lab/paths.js';

const speakerAgent = ['node', labProgram('layer2-agent')];
const responderAgent = ['node', 'dist/test/wire/agents/responder-agent.js'];
const frameAgent = ['node', 'dist/test/wire/agents/frame-agent.js'];
/** A MAC no host on the switch has, so the switch floods frames sent to it to every port. */
const ABSENT_HOST = '02:00:00:00:00:99';
/** Requesters of the frames that are not for A; an answer to any of them is a bug. */
const strangers = ['02:00:00:00:0e:01', '02:00:00:00:0e:02', '02:00:00:00:0e:03'];

let lab: Layer2Lab;
const started: HostProcess[] = [];

beforeAll(async () => {
  lab = await createLayer2Lab();
});

afterAll(async () => {
  await lab?.topo.destroy();
});

afterEach(() => stopStarted(started));

function start(host: 'a' | 'client', argv: string[]): HostProcess {
  const process = lab.topo.start(lab[host], argv);
  started.push(process);
  return process;
}

async function sendFromClient(frames: readonly Buffer[]): Promise<void> {
  const sent = start('client', [...frameAgent, 'send', 'eth0', ...frames.map((f) => f.toString('hex'))]);
  await sent.waitForLine(new RegExp(`^sent ${frames.length}$`), 10_000);
}

async function stats(process: HostProcess): Promise<{ responder: { conflicts: number; dropped: Record<string, number> } }> {
  const from = process.lines.length;
  process.child.kill('SIGHUP');
  return JSON.parse((await lineAfter(process, from, /^stats /, 5000)).slice(6)) as never;
}

function arpTo(destination: string, requester: string, senderIp: string): Buffer {
  const request = decodeArpFrame(arpRequest(ipv4.vip, senderIp, requester));
  return encodeArpFrame({ ...request, ethernet: { ...request.ethernet, destination } });
}

function nsTo(ethernetDestination: string, ipDestination: string, requester: string, source: string): Buffer {
  const ns = decodeNdpFrame(neighborSolicitation(ipv6.vip, { senderMac: requester, source }));
  return encodeNdpFrame({ ethernet: { ...ns.ethernet, destination: ethernetDestination }, packet: { ...ns.packet, destination: ipDestination } });
}

describe('a promiscuous port', () => {
  it('A answers only the requests sent to it: not an ARP request or NS unicast to another host, nor an NS to another group', async () => {
    const a = start('a', [...speakerAgent, 'speaker', 'eth0', '10000', ipv4.vip, ipv6.vip]);
    await a.waitForLine(/^ready /, 10_000);
    const from = a.lines.length;
    a.child.kill('SIGUSR1');
    await lineAfter(a, from, new RegExp(`^announced ${ipv6.vip} `), 5000);
    await lab.topo.run(lab.a, ['ip', 'link', 'set', 'eth0', 'promisc', 'on']);
    try {
      const capture = await lab.topo.capture(lab.sw, 'p-a', 'promisc');
      const [r1, r2, r3] = strangers as [string, string, string];
      await sendFromClient([
        arpTo(ABSENT_HOST, r1, '192.0.2.61'),
        nsTo(ABSENT_HOST, ipv6.vip, r2, '2001:db8::62'),
        nsTo('33:33:ff:00:00:99', 'ff02::1:ff00:99', r3, '2001:db8::63'),
        // The same questions sent properly, unicast to A's own MAC.
        arpTo(lab.macA, lab.macClient, '192.0.2.9'),
        nsTo(lab.macA, ipv6.vip, lab.macClient, '2001:db8::9'),
      ]);
      // And broadcast / solicited-node multicast, asked by the client's own tools and kernel.
      expect(await askFromClient(lab, ipv4, ipv4.vip)).toBe(lab.macA);
      expect(await askFromClient(lab, ipv6, ipv6.vip)).toBe(lab.macA);
      const file = await capture.stop();
      const frames = readCapture(file);
      const answered = (mac: string) => frames.filter((f) => f.frame && !(f.frame instanceof Error) && f.frame.frame.ethernet.destination === mac);
      const fromA = answersIn(frames).filter((x) => x.source === lab.macA && x.solicited);
      console.log(`promiscuous A: ${fromA.length} answers, to strangers ${strangers.map((s) => answered(s).length).join('/')}`);
      for (const stranger of strangers) expect(answered(stranger), `A answered a frame meant for another host (requester ${stranger})`).toEqual([]);
      expect(fromA.filter((x) => x.kind === 'arp').length).toBeGreaterThanOrEqual(2); // the unicast request and arping's
      expect(fromA.filter((x) => x.kind === 'ndp').length).toBeGreaterThanOrEqual(2); // the unicast NS and ndisc6's
      expect(await tsharkMalformed(file, `eth.src == ${lab.macA}`)).toBe('');
      expect((await stats(a)).responder.dropped['not-for-us']).toBeGreaterThanOrEqual(3);
    } finally {
      await lab.topo.run(lab.a, ['ip', 'link', 'set', 'eth0', 'promisc', 'off']);
    }
  });
});

describe('conflicts', () => {
  it("A reports the client's kernel claiming its VIPs (arping -U and -A, an unsolicited NA) and does not answer the claims", async () => {
    const a = start('a', [...responderAgent, 'eth0', ipv4.vip, ipv6.vip]);
    await a.waitForLine(/^ready /, 10_000);
    const capture = await lab.topo.capture(lab.sw, 'p-a', 'conflict');
    const from = a.lines.length;
    await lab.topo.run(lab.client, ['sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=1', 'net.ipv6.conf.eth0.ndisc_notify=1']);
    try {
      // arping binds to the VIP as its source, so the claims come from the client's kernel.
      await lab.topo.run(lab.client, ['arping', '-U', '-c', '1', '-I', 'eth0', '-s', ipv4.vip, ipv4.vip]);
      await lab.topo.run(lab.client, ['arping', '-A', '-c', '1', '-I', 'eth0', '-s', ipv4.vip, ipv4.vip]);
      // With ndisc_notify, Linux sends an unsolicited NA for an address it adds once duplicate
      // address detection is over (off in the lab's namespaces; with `nodad` it sends none).
      await lab.topo.run(lab.client, ['ip', '-6', 'addr', 'add', `${ipv6.vip}/128`, 'dev', 'eth0']);
      expect(await lineAfter(a, from, new RegExp(`^conflict ${ipv4.vip} ${lab.macClient}$`), 5000)).toBeDefined();
      expect(await lineAfter(a, from, new RegExp(`^conflict ${ipv6.vip} ${lab.macClient}$`), 5000)).toBeDefined();
    } finally {
      await lab.topo.run(lab.client, ['ip', '-6', 'addr', 'del', `${ipv6.vip}/128`, 'dev', 'eth0'], true);
      await lab.topo.run(lab.client, ['sysctl', '-qw', 'net.ipv4.ip_nonlocal_bind=0', 'net.ipv6.conf.eth0.ndisc_notify=0']);
    }
    const counters = await stats(a);
    console.log(`conflicts: ${JSON.stringify(counters.responder)}`);
    expect(counters.responder.conflicts).toBeGreaterThanOrEqual(3);
    expect(a.lines.filter((l) => l.startsWith('conflict '))).toHaveLength(2); // one report per VIP and claimant
    const file = await capture.stop();
    expect(answersIn(readCapture(file)).filter((x) => x.source === lab.macA && x.solicited)).toEqual([]);
  });
});
