// Layer 2 on the wire: vipcast's speaker against real Linux kernels in namespaces (a switch,
// nodes A and B, a client). The client's neighbour table, arping and ndisc6 are the witnesses;
// every capture is decoded with our codec and checked by tshark.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeArpFrame } from '../../speakers/layer2/codec/arp.js';
import { Layer2DecodeError } from '../../speakers/layer2/codec/errors.js';
import {
  answersIn,
  askFromClient,
  connectFromClient,
  createLayer2Lab,
  forgetNeighbour,
  ipv4,
  ipv6,
  lineAfter,
  neighbourEntry,
  readCapture,
  tsharkMalformed,
  stopStarted,
} from '../../lab/layer2-lab.js';
import type { Family, Layer2Lab } from '../../lab/layer2-lab.js';
import { waitUntil } from '../../lab/netns.js';
import type { HostProcess } from '../../lab/netns.js';
import { arpRequest, neighborSolicitation } from '../helpers/layer2-requests.js';
import { labProgram } from '../../lab/paths.js';

const cli = ['node', 'dist/test/wire/agents/announce-cli.js'];
const agent = ['node', labProgram('layer2-agent')];
const frameAgent = ['node', 'dist/test/wire/agents/frame-agent.js'];
const families = [ipv4, ipv6];

let lab: Layer2Lab;

beforeAll(async () => {
  lab = await createLayer2Lab();
});

afterAll(async () => {
  await lab?.topo.destroy();
});

// A failed test must not leave a speaker announcing into the next one.
const started: HostProcess[] = [];
afterEach(() => stopStarted(started));

function start(host: 'a' | 'b' | 'client', argv: string[]): HostProcess {
  const process = lab.topo.start(lab[host], argv);
  started.push(process);
  return process;
}

async function stopCli(process: HostProcess): Promise<void> {
  process.child.kill('SIGTERM');
  expect(await process.exited).toBe(0);
  expect(process.lines.some((l) => /^SIGTERM: released /.test(l))).toBe(true);
}

async function startSpeaker(host: 'a' | 'b', refreshMs = 10_000): Promise<HostProcess> {
  const process = start(host, [...agent, 'speaker', 'eth0', String(refreshMs), ipv4.vip, ipv6.vip]);
  await process.waitForLine(/^ready /, 10_000);
  return process;
}

async function signal(process: HostProcess, name: 'SIGUSR1' | 'SIGUSR2', word: string, vip: string): Promise<bigint> {
  const from = process.lines.length;
  process.child.kill(name);
  const line = await lineAfter(process, from, new RegExp(`^${word} ${vip} t=`), 5000);
  return BigInt(line.split('t=')[1] ?? '0');
}

async function stats(process: HostProcess): Promise<{ responder: { received: number; answered: number; malformed: Record<string, number>; dropped: Record<string, number> } }> {
  const from = process.lines.length;
  process.child.kill('SIGHUP');
  return JSON.parse((await lineAfter(process, from, /^stats /, 5000)).slice(6)) as never;
}

describe.each(families)('$name', (family: Family) => {
  it('a VIP announced from A resolves to A and carries a TCP connection to A; only vipcast answers', async () => {
    await forgetNeighbour(lab, family, family.vip);
    // Control: with the VIP on lo of both nodes, their kernels stay silent.
    expect(await askFromClient(lab, family, family.vip)).toBeUndefined();
    const capture = await lab.topo.capture(lab.client, 'eth0', `s1-${family.name}`);
    const announce = start('a', [...cli, '--interface', 'eth0', '--ip', family.vip]);
    await announce.waitForLine(new RegExp(`^announcing ${family.vip} on eth0 at ${lab.macA}`), 10_000);
    expect(await askFromClient(lab, family, family.vip)).toBe(lab.macA);
    expect(await connectFromClient(lab, family.vip)).toBe('a');
    expect(await neighbourEntry(lab, family, family.vip)).toContain(`lladdr ${lab.macA}`);
    await stopCli(announce);
    // Released at once: nobody answers any more.
    expect(await askFromClient(lab, family, family.vip)).toBeUndefined();
    const file = await capture.stop();
    const answers = answersIn(readCapture(file)).filter((x) => x.address === family.vip);
    expect(answers.filter((x) => x.solicited).length).toBeGreaterThanOrEqual(2); // arping/ndisc6 and the kernel's own question
    expect(answers.every((x) => x.source === lab.macA)).toBe(true);
    expect(await tsharkMalformed(file)).toBe('');
  });

  it('the VIP moves from A to B while the client entry is REACHABLE, without waiting for ageing', async () => {
    const [a, b] = [await startSpeaker('a'), await startSpeaker('b')];
    await signal(a, 'SIGUSR1', 'announced', family.vip);
    expect(await connectFromClient(lab, family.vip)).toBe('a');
    expect(await neighbourEntry(lab, family, family.vip)).toMatch(new RegExp(`lladdr ${lab.macA} .*REACHABLE`));
    const monitor = start('client', ['ip', family.flag, 'monitor', 'neigh']);
    const seen: { line: string; at: bigint }[] = [];
    monitor.child.stdout?.on('data', (chunk: Buffer) => seen.push({ line: chunk.toString(), at: process.hrtime.bigint() }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await signal(a, 'SIGUSR2', 'released', family.vip);
    const t0 = await signal(b, 'SIGUSR1', 'announced', family.vip);
    const flipped = await waitUntil(() => seen.find((s) => s.line.includes(family.vip) && s.line.includes(lab.macB)), (s) => s !== undefined, 3000, 2);
    expect(flipped, 'the client kernel never pointed the VIP at B').toBeDefined();
    const ms = Number((flipped?.at ?? 0n) - t0) / 1e6;
    console.log(`${family.name}: client neighbour entry moved A -> B ${ms.toFixed(2)} ms after B's announce call`);
    expect(ms).toBeLessThan(1000);
    expect(await neighbourEntry(lab, family, family.vip)).toContain(`lladdr ${lab.macB}`);
    expect(await connectFromClient(lab, family.vip)).toBe('b');
    for (const p of [a, b, monitor]) p.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited, monitor.exited]);
  });

  it('a VIP nobody owns is never answered, and B never answers for a VIP A owns', async () => {
    const [a, b] = [await startSpeaker('a'), await startSpeaker('b')];
    await signal(a, 'SIGUSR1', 'announced', family.vip);
    const captures = await Promise.all(['p-a', 'p-b', 'p-client'].map((port) => lab.topo.capture(lab.sw, port, `s3-${family.name}-${port}`)));
    for (let i = 0; i < 3; i++) {
      await forgetNeighbour(lab, family, family.vip);
      expect(await askFromClient(lab, family, family.vip)).toBe(lab.macA);
      expect(await askFromClient(lab, family, family.unowned)).toBeUndefined();
      expect(await connectFromClient(lab, family.vip)).toBe('a');
    }
    const files = await Promise.all(captures.map((c) => c.stop()));
    const answers = files.flatMap((f) => answersIn(readCapture(f)));
    expect(answers.filter((x) => x.address === family.vip && x.source === lab.macA).length).toBeGreaterThanOrEqual(6);
    expect(answers.filter((x) => x.address === family.unowned)).toEqual([]);
    expect(answers.filter((x) => x.source === lab.macB)).toEqual([]);
    for (const f of files) expect(await tsharkMalformed(f)).toBe('');
    expect((await stats(b)).responder.answered).toBe(0);
    for (const p of [a, b]) p.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  });
});

describe('hostile input and refresh', () => {
  it('malformed and hostile frames get no reply and do not crash the speaker', async () => {
    const a = await startSpeaker('a');
    await signal(a, 'SIGUSR1', 'announced', ipv6.vip);
    const capture = await lab.topo.capture(lab.sw, 'p-a', 'hostile');
    const request = arpRequest(ipv4.vip, '192.0.2.9', lab.macClient);
    const wrongHardwareLength = Buffer.from(request);
    wrongHardwareLength[18] = 4;
    const ns = neighborSolicitation(ipv6.vip, { senderMac: lab.macClient });
    const badChecksum = Buffer.from(ns);
    badChecksum.writeUInt8(badChecksum.readUInt8(56) ^ 0xff, 56);
    const longPayloadLength = Buffer.from(ns);
    longPayloadLength.writeUInt16BE(400, 18);
    const hostile = [
      request.subarray(0, 30), // truncated ARP
      wrongHardwareLength,
      encodeArpFrame({ ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: lab.macClient }, arp: { operation: 'request', senderMac: lab.macClient, senderIp: '192.0.2.9', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.201' } }),
      neighborSolicitation(ipv6.vip, { hopLimit: 64, senderMac: lab.macClient }),
      ns.subarray(0, 70), // truncated NS
      badChecksum,
      longPayloadLength,
      neighborSolicitation('2001:db8::201', { senderMac: lab.macClient }),
    ];
    const sent = start('client', [...frameAgent, 'send', 'eth0', ...hostile.map((f) => f.toString('hex'))]);
    await sent.waitForLine(/^sent 8$/, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const counters = (await stats(a)).responder;
    console.log(`hostile frames: ${JSON.stringify(counters)}`);
    expect(counters.received).toBe(8);
    expect(counters.answered).toBe(0);
    expect(counters.dropped['hop-limit']).toBe(1);
    expect(counters.dropped['not-owned']).toBe(2);
    expect(counters.malformed).toEqual({ truncated: 3, 'unsupported-hardware': 1, 'bad-checksum': 1 });
    // Still alive and still right.
    expect(await askFromClient(lab, ipv4, ipv4.vip)).toBe(lab.macA);
    expect(await askFromClient(lab, ipv6, ipv6.vip)).toBe(lab.macA);
    const file = await capture.stop();
    const frames = readCapture(file);
    const answers = answersIn(frames);
    expect(answers.filter((x) => x.source === lab.macA && x.solicited).length).toBe(2); // the two honest questions only
    expect(frames.filter((f) => f.frame instanceof Layer2DecodeError).length).toBeGreaterThanOrEqual(4);
    expect(await tsharkMalformed(file, `eth.src == ${lab.macA}`)).toBe('');
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
  });

  it('refresh announcements keep coming at the configured interval after the burst', async () => {
    const capture = await lab.topo.capture(lab.sw, 'p-a', 'refresh');
    const announce = start('a', [...cli, '-i', 'eth0', '--ip', ipv4.vip, '--ip', ipv6.vip, '--refresh', '2']);
    await announce.waitForLine(new RegExp(`^announcing ${ipv6.vip}`), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 8500));
    await stopCli(announce);
    const file = await capture.stop();
    const answers = answersIn(readCapture(file)).filter((x) => !x.solicited);
    for (const family of families) {
      const times = answers.filter((x) => x.address === family.vip).map((x) => Number(x.micros) / 1000);
      const gaps = times.slice(1).map((t, i) => Math.round((t - (times[i] ?? 0)) / 100) / 10);
      console.log(`${family.name}: gaps between announcements (s): ${gaps.join(', ')}`);
      // The burst at 0, 1 and 2 s, then a refresh every 2 s (IPv4: the reply form of each round).
      expect(gaps.slice(0, 5)).toEqual([1, 1, 2, 2, 2]);
    }
    expect(await tsharkMalformed(file)).toBe('');
  });
});
