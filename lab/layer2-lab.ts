// The layer-2 lab shared by test/wire/layer2.test.ts and bench/layer2.ts: a switch, two
// nodes A and B that can hold the VIPs, and a client. Both nodes accept traffic for the VIPs
// (they sit on lo, as kube-proxy's IPVS mode puts them on kube-ipvs0) but their kernels never
// answer ARP or NS for them: arp_ignore=1 answers only for addresses on the asking interface,
// arp_announce=2 keeps the VIP out of the kernel's own ARP requests, and Linux answers NS on
// an interface only for addresses configured on that interface. So only vipcast answers.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { Layer2DecodeError } from '../speakers/layer2/codec/errors.js';
import { decodeLayer2Frame } from '../speakers/layer2/codec/layer2-frame.js';
import type { Layer2Frame } from '../speakers/layer2/codec/layer2-frame.js';
import { decodePcap } from './pcap.js';
import { Topology, runHostCommand, pollValue } from './netns.js';
import { labProgram } from './paths.js';
import type { Host, HostProcess } from './netns.js';

/** One address family's addresses and witnesses. */
export interface Family {
  readonly name: 'IPv4' | 'IPv6';
  /** The VIP the nodes take turns holding. */
  readonly vip: string;
  /** A VIP in the subnet that nobody holds. */
  readonly unowned: string;
  /** `ip` family flag. */
  readonly flag: '-4' | '-6';
  /** The client's question for an address, answered or not (arping / ndisc6). */
  ask(address: string): string[];
  /** The MAC in an answer to ask(), lower case, or undefined if none came. */
  answerMac(output: string): string | undefined;
}

/** IPv4: ARP, asked with arping. */
export const ipv4: Family = {
  name: 'IPv4',
  vip: '192.0.2.100',
  unowned: '192.0.2.200',
  flag: '-4',
  ask: (address) => ['arping', '-c', '1', '-w', '1', '-I', 'eth0', address],
  answerMac: (output) => /reply from \S+ \[([0-9A-Fa-f:]{17})\]/.exec(output)?.[1]?.toLowerCase(),
};

/** IPv6: Neighbor Discovery, asked with ndisc6. */
export const ipv6: Family = {
  name: 'IPv6',
  vip: '2001:db8::100',
  unowned: '2001:db8::200',
  flag: '-6',
  ask: (address) => ['ndisc6', '-1', '-r', '1', '-w', '500', address, 'eth0'],
  answerMac: (output) => /Target link-layer address: ([0-9A-Fa-f:]{17})/.exec(output)?.[1]?.toLowerCase(),
};

/** The running lab. */
export interface Layer2Lab {
  readonly topo: Topology;
  /** The switch; captures on its ports p-a, p-b, p-client see what each host sends and receives. */
  readonly sw: Host;
  readonly a: Host;
  readonly b: Host;
  readonly client: Host;
  readonly macA: string;
  readonly macB: string;
  readonly macClient: string;
}

const tcpClient = `const s = require('net').connect(8080, process.argv[1]); s.setEncoding('utf8'); s.on('data', (d) => process.stdout.write(d));
s.on('error', (e) => { console.error(e.message); process.exit(1); }); setTimeout(() => process.exit(3), 3000).unref();`;

/** Builds the lab: addresses 192.0.2.1/.2/.9 and 2001:db8::1/::2/::9, both VIPs on lo of A and B, a TCP server on each node. */
export async function createLayer2Lab(): Promise<Layer2Lab> {
  const topo = await Topology.create();
  try {
    const sw = await topo.addSwitch('sw');
    // A plain switch. With MLD snooping or br_netfilter's ip6tables hook on, the Linux bridge
    // itself drops IPv6 frames whose header lengths are wrong, and the hostile-frame test
    // wants them to reach the nodes.
    await topo.run(sw, ['ip', 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await topo.run(sw, ['sh', '-c', 'for f in /proc/sys/net/bridge/bridge-nf-call-*; do [ -w "$f" ] && echo 0 > "$f"; done; true']);
    const a = await topo.addHost('a');
    const b = await topo.addHost('b');
    const client = await topo.addHost('client');
    const macA = (await topo.link(a, 'eth0', sw, 'p-a', sw)).a;
    const macB = (await topo.link(b, 'eth0', sw, 'p-b', sw)).a;
    const macClient = (await topo.link(client, 'eth0', sw, 'p-client', sw)).a;
    for (const [host, n] of [[a, 1], [b, 2], [client, 9]] as const) {
      await topo.run(host, ['ip', 'addr', 'add', `192.0.2.${n}/24`, 'dev', 'eth0']);
      await topo.run(host, ['ip', 'addr', 'add', `2001:db8::${n}/64`, 'dev', 'eth0', 'nodad']);
    }
    for (const host of [a, b]) {
      await topo.run(host, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
      await topo.run(host, ['sysctl', '-qw', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2']);
      await topo.run(host, ['ip', 'addr', 'add', `${ipv4.vip}/32`, 'dev', 'lo']);
      await topo.run(host, ['ip', 'addr', 'add', `${ipv6.vip}/128`, 'dev', 'lo', 'nodad']);
      const server = topo.start(host, [process.execPath, labProgram('echo-server'), host.name]);
      await server.waitForLine(/^listening on port 8080 /, 10_000);
    }
    return { topo, sw, a, b, client, macA, macB, macClient };
  } catch (error) {
    await topo.destroy();
    throw error;
  }
}

/** The client's neighbour entry for an address, e.g. "192.0.2.100 lladdr 02:.. REACHABLE", or "". */
export async function neighbourEntry(lab: Layer2Lab, family: Family, address: string): Promise<string> {
  const { stdout } = await lab.topo.run(lab.client, ['ip', family.flag, 'neigh', 'show', address, 'dev', 'eth0']);
  return stdout.trim();
}

/** Asks for an address from the client with arping/ndisc6; returns the answering MAC or undefined. */
export async function askFromClient(lab: Layer2Lab, family: Family, address: string): Promise<string | undefined> {
  const { stdout } = await lab.topo.run(lab.client, family.ask(address), true);
  return family.answerMac(stdout);
}

/** Opens a TCP connection from the client to the address; returns what the server said (its host name), or the error. */
export async function connectFromClient(lab: Layer2Lab, address: string): Promise<string> {
  const { stdout, stderr } = await lab.topo.run(lab.client, ['node', '-e', tcpClient, address], true);
  return (stdout || stderr).trim();
}

/** Removes the client's neighbour entry for an address, so the next question starts afresh. */
export async function forgetNeighbour(lab: Layer2Lab, family: Family, address: string): Promise<void> {
  await lab.topo.run(lab.client, ['ip', family.flag, 'neigh', 'flush', 'to', address, 'dev', 'eth0'], true);
}

/** The next stdout line of a process after index `from` that matches, within the timeout. */
export async function lineAfter(process: HostProcess, from: number, pattern: RegExp, timeoutMs: number): Promise<string> {
  const found = await pollValue(() => process.lines.slice(from).find((l) => pattern.test(l)), (l) => l !== undefined, timeoutMs, 2);
  if (found === undefined) throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; stderr: ${process.stderr().slice(-1000)}`);
  return found;
}

/** A captured frame: its time (µs since the epoch) and what our codec makes of it. */
export interface CapturedFrame {
  readonly micros: bigint;
  readonly bytes: Buffer;
  readonly frame: Layer2Frame | Layer2DecodeError | undefined;
}

/** Reads a pcap and decodes each ARP/NDP frame with our codec (undefined: another protocol). */
export function readCapture(file: string): CapturedFrame[] {
  return decodePcap(readFileSync(file)).records.map((record) => {
    const etherType = record.data.length >= 14 ? record.data.readUInt16BE(12) : 0;
    let frame: Layer2Frame | Layer2DecodeError | undefined;
    if (etherType === 0x0806 || (etherType === 0x86dd && record.data.length > 54 && record.data[20] === 58 && [135, 136].includes(record.data[54] ?? 0))) {
      try {
        frame = decodeLayer2Frame(record.data);
      } catch (error) {
        if (!(error instanceof Layer2DecodeError)) throw error;
        frame = error;
      }
    }
    return { micros: record.timestampMicros, bytes: Buffer.from(record.data), frame };
  });
}

/** Answers in a capture: ARP replies and Neighbor Advertisements, with who sent them and for which address. */
export function answersIn(frames: readonly CapturedFrame[]): { micros: bigint; source: string; address: string; kind: 'arp' | 'ndp'; solicited: boolean }[] {
  const out = [];
  for (const { micros, frame } of frames) {
    if (!frame || frame instanceof Layer2DecodeError) continue;
    if (frame.kind === 'arp' && frame.frame.arp.operation === 'reply') {
      out.push({ micros, source: frame.frame.ethernet.source, address: frame.frame.arp.senderIp, kind: 'arp' as const, solicited: frame.frame.arp.targetMac !== frame.frame.arp.senderMac });
    }
    if (frame.kind === 'ndp' && frame.frame.packet.message.type === 'neighbor-advertisement') {
      out.push({ micros, source: frame.frame.ethernet.source, address: frame.frame.packet.message.target, kind: 'ndp' as const, solicited: frame.frame.packet.message.solicited });
    }
  }
  return out;
}

/**
 * The ARP requests for `vip` in a capture (gratuitous ones left out) and how each was answered.
 * A reply answers the latest request of its target MAC, within 500 ms before it, that its
 * sender had not answered yet (the kernel's unicast probe and arping's broadcast can come a
 * millisecond apart). A request is doubled when two MACs answered it, unanswered when none did.
 */
export function arpRequestAnswers(frames: readonly CapturedFrame[], vip: string): { requests: number; replies: number; doubled: number; unanswered: number; unansweredAtMs: number[]; unansweredFrom: string[] } {
  const requests: { micros: bigint; requester: string; answeredBy: Set<string>; detail: string }[] = [];
  let replies = 0;
  for (const { micros, frame } of frames) {
    if (!frame || frame instanceof Layer2DecodeError || frame.kind !== 'arp') continue;
    const arp = frame.frame.arp;
    // A request whose sender is the VIP itself is the owner's gratuitous ARP, not a question.
    if (arp.operation === 'request' && arp.targetIp === vip && arp.senderIp !== vip) requests.push({ micros, requester: arp.senderMac, answeredBy: new Set(), detail: `${arp.senderMac} (${arp.senderIp}) to ${frame.frame.ethernet.destination}` });
    if (arp.operation === 'reply' && arp.senderIp === vip && arp.targetMac !== arp.senderMac) {
      replies++;
      const source = frame.frame.ethernet.source;
      let request: (typeof requests)[number] | undefined;
      for (let i = requests.length - 1; i >= 0 && request === undefined; i--) {
        const r = requests[i]!;
        if (micros - r.micros >= 500_000n) break;
        if (r.requester === arp.targetMac && !r.answeredBy.has(source)) request = r;
      }
      request?.answeredBy.add(source);
    }
  }
  const unansweredAtMs = requests.filter((r) => r.answeredBy.size === 0).map((r) => Number(r.micros / 1000n));
  const unansweredFrom = requests.filter((r) => r.answeredBy.size === 0).map((r) => r.detail);
  return { requests: requests.length, replies, doubled: requests.filter((r) => r.answeredBy.size > 1).length, unanswered: unansweredAtMs.length, unansweredAtMs, unansweredFrom };
}

/**
 * What tshark calls malformed in a capture (optionally narrowed by a display filter); "" when
 * nothing is. Each malformed frame is one line: its number, time, addresses, the protocols
 * tshark saw in it and its expert messages, so a failure says which layer broke. `decodeAs`
 * are tshark -d rules (e.g. `tcp.port==6443,tls`) for ports tshark would otherwise guess at:
 * an ephemeral client port of 6667 makes it read TLS as IRC, and IRC as malformed.
 */
export async function tsharkMalformed(file: string, narrow?: string, decodeAs: readonly string[] = []): Promise<string> {
  const filter = narrow ? `_ws.malformed && (${narrow})` : '_ws.malformed';
  const fields = ['frame.number', 'frame.time_relative', 'eth.src', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'frame.protocols', '_ws.expert.message'];
  const { stdout } = await runHostCommand(['tshark', '-n', '-r', file, ...decodeAs.flatMap((rule) => ['-d', rule]), '-Y', filter, '-T', 'fields', '-E', 'separator= ', ...fields.flatMap((f) => ['-e', f])]);
  return stdout.trim();
}

/** SIGTERMs every process in `started` that still runs, waits for each, and empties the list, so a failed test leaves no speaker announcing into the next. */
export async function stopStarted(started: HostProcess[]): Promise<void> {
  for (const p of started.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await p.exited;
  }
}
