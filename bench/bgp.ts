// BGP benchmark (needs root, BIRD and gobgpd; runs the compiled agent from dist/): how long
// BIRD takes to hold 10,000 /32s announced by `vipcast bgp announce`, and to lose them again
// on withdrawal; then the same with Debian's gobgpd announcing the same prefixes to the same
// BIRD. Both clocks start at the Established time BIRD itself records for the session.
import { Buffer } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAttributes } from '../speakers/bgp/codec/index.js';
import { Topology, pollValue, runHostCommand, type HostProcess } from '../lab/netns.js';
import { birdProtocolName, startRouter, type BgpRouter } from '../lab/routers.js';
import { labProgram } from '../lab/paths.js';

const COUNT = 10_000;
const TRIALS = 5;
const agent = labProgram('bgp-announce');
const addr = { bird: '10.0.1.1', vipcast: '10.0.1.2', gobgp: '10.0.1.3' } as const;
const BIRD_ASN = 65001;
const SPEAKER_ASN = 4200000010;

/** The i-th benchmark prefix, 10.100.0.0 upwards. */
function prefix(i: number): string {
  return `10.100.${(i >> 8) & 0xff}.${i & 0xff}`;
}

/** An MRT TABLE_DUMP_V2 file (RFC 6396 section 4.3) holding the prefixes, for `gobgp mrt inject`. */
export function mrtFile(nextHop: string): Buffer {
  const record = (subtype: number, body: Buffer): Buffer => {
    const head = Buffer.alloc(12);
    head.writeUInt32BE(Math.floor(Date.now() / 1000), 0);
    head.writeUInt16BE(13, 4); // TABLE_DUMP_V2
    head.writeUInt16BE(subtype, 6);
    head.writeUInt32BE(body.length, 8);
    return Buffer.concat([head, body]);
  };
  // PEER_INDEX_TABLE: collector ID, empty view name, one peer (IPv4 address, 4-octet AS).
  const peers = Buffer.alloc(4 + 2 + 2 + 1 + 4 + 4 + 4);
  Buffer.from(nextHop.split('.').map(Number)).copy(peers, 0);
  peers.writeUInt16BE(0, 4);
  peers.writeUInt16BE(1, 6);
  peers[8] = 0x02;
  Buffer.from(nextHop.split('.').map(Number)).copy(peers, 9);
  Buffer.from(nextHop.split('.').map(Number)).copy(peers, 13);
  peers.writeUInt32BE(SPEAKER_ASN, 17);
  const attributes = encodeAttributes({ origin: 'igp', asPath: [], nextHop }, { fourOctetAs: true });
  const out = [record(1, peers)];
  // Every prefix twice: `gobgp mrt inject` exits before gobgpd has read the last few hundred
  // records of its stream, so the second copy is what gets cut off.
  for (let n = 0; n < 2 * COUNT; n += 1) {
    const i = n % COUNT;
    const body = Buffer.alloc(4 + 1 + 4 + 2 + 2 + 4 + 2 + attributes.length);
    body.writeUInt32BE(n, 0);
    body[4] = 32;
    Buffer.from(prefix(i).split('.').map(Number)).copy(body, 5);
    body.writeUInt16BE(1, 9);
    body.writeUInt16BE(0, 11);
    body.writeUInt32BE(Math.floor(Date.now() / 1000), 13);
    body.writeUInt16BE(attributes.length, 17);
    attributes.copy(body, 19);
    out.push(record(2, body)); // RIB_IPV4_UNICAST
  }
  return Buffer.concat(out);
}

async function routeCount(bird: BgpRouter, peer: string): Promise<number> {
  const text = await bird.cli(['show', 'route', 'protocol', birdProtocolName(peer), 'count']);
  return Number(/(\d+) of \d+ routes/.exec(text)?.[1] ?? 0);
}

/** The wall-clock time BIRD says the session with `peer` entered its current state. */
async function establishedAt(bird: BgpRouter, peer: string): Promise<number | undefined> {
  const text = await bird.cli(['show', 'protocols', birdProtocolName(peer)]);
  const m = /\s(\d\d):(\d\d):(\d\d)\.(\d{3})\s+Established/.exec(text);
  if (!m) return undefined;
  const d = new Date();
  d.setHours(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
  return d.getTime();
}

/** CPU seconds (user + system) and peak RSS in MB of a process, from /proc. */
function usage(pid: number): { cpu: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpu: ticks / 100, rssMb: Number(hwm ?? 0) / 1024 };
}

interface Run {
  announceMs: number;
  withdrawMs: number;
  cpu: number;
  rssMb: number;
}

async function measure(bird: BgpRouter, peer: string, proc: HostProcess, withdraw: () => Promise<void>): Promise<Run> {
  const full = await pollValue(() => routeCount(bird, peer), (n) => n >= COUNT, 120_000, 10);
  const fullAt = Date.now();
  if (full < COUNT) throw new Error(`BIRD holds only ${full} of ${COUNT} routes from ${peer}`);
  const up = await establishedAt(bird, peer);
  if (up === undefined) throw new Error(`BIRD shows no Established session with ${peer}`);
  const withdrawFrom = Date.now();
  await withdraw();
  const left = await pollValue(() => routeCount(bird, peer), (n) => n === 0, 120_000, 10);
  if (left !== 0) throw new Error(`BIRD still holds ${left} routes from ${peer}`);
  const withdrawMs = Date.now() - withdrawFrom;
  return { announceMs: fullAt - up, withdrawMs, ...usage(proc.pid) };
}

/** Runs the benchmark; true when vipcast is no slower than gobgpd in both directions. */
export async function benchBgp(): Promise<boolean> {
  console.log(`\nbgp: ${COUNT} /32 routes to BIRD 2, vipcast vs gobgpd`);
  const topo = await Topology.create();
  try {
    const s = await topo.addHost('s');
    const r = await topo.addHost('r');
    await topo.link(s, 'eth0', r, 'eth0');
    for (const a of [addr.vipcast, addr.gobgp]) await topo.run(s, ['ip', 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
    await topo.run(r, ['ip', 'addr', 'add', `${addr.bird}/24`, 'dev', 'eth0']);
    const bird = await startRouter(topo, {
      kind: 'bird',
      host: r,
      routerId: addr.bird,
      asn: BIRD_ASN,
      holdTime: 90,
      peers: [
        { address: addr.vipcast, asn: SPEAKER_ASN },
        { address: addr.gobgp, asn: SPEAKER_ASN, passive: false, disabled: true },
      ],
    });

    const prefixes = Array.from({ length: COUNT }, (_, i) => ['--prefix', prefix(i)]).flat();
    const ourRuns: Run[] = [];
    for (let t = 0; t < TRIALS; t += 1) {
      const vipcast = topo.start(s, ['node', agent, '--peer', addr.bird, '--source', addr.vipcast, '--peer-asn', String(BIRD_ASN), '--my-asn', String(SPEAKER_ASN), ...prefixes]);
      ourRuns.push(
        await measure(bird, addr.vipcast, vipcast, () => {
          vipcast.child.kill('SIGUSR1');
          return Promise.resolve();
        }),
      );
      vipcast.child.kill('SIGTERM');
      await vipcast.exited;
    }

    const gobgp = await startRouter(topo, { kind: 'gobgp', host: s, routerId: addr.gobgp, asn: SPEAKER_ASN, localAddress: addr.gobgp, holdTime: 90, peers: [{ address: addr.bird, asn: BIRD_ASN }] });
    const mrt = join(topo.dir, 'routes.mrt');
    writeFileSync(mrt, mrtFile(addr.gobgp));
    const theirRuns: Run[] = [];
    for (let t = 0; t < TRIALS; t += 1) {
      await bird.cli(['disable', birdProtocolName(addr.gobgp)]);
      // Injecting the same routes again is harmless (the session to BIRD is down meanwhile).
      let rib = '';
      for (let attempt = 0; attempt < 10 && !rib.includes(`Destination: ${COUNT},`); attempt += 1) {
        await topo.run(s, ['gobgp', 'mrt', 'inject', 'global', mrt]);
        rib = await pollValue(() => gobgp.cli(['global', 'rib', 'summary', '-a', 'ipv4']), (x) => x.includes(`Destination: ${COUNT},`), 2000, 100);
      }
      if (!rib.includes(`Destination: ${COUNT},`)) throw new Error(`gobgpd did not take the ${COUNT} routes: ${rib}`);
      await bird.cli(['enable', birdProtocolName(addr.gobgp)]);
      theirRuns.push(
        await measure(bird, addr.gobgp, gobgp.process, async () => {
          await runHostCommand(['ip', 'netns', 'exec', s.ns, 'gobgp', 'global', 'rib', 'del', 'all', '-a', 'ipv4']);
        }),
      );
    }
    const median = (runs: Run[]): Run => {
      const mid = (f: (r: Run) => number): number => runs.map(f).sort((a, b) => a - b)[Math.floor(runs.length / 2)] ?? NaN;
      return { announceMs: mid((r) => r.announceMs), withdrawMs: mid((r) => r.withdrawMs), cpu: mid((r) => r.cpu), rssMb: mid((r) => r.rssMb) };
    };
    console.log(`  trials: vipcast ${ourRuns.map((r) => `${r.announceMs}/${r.withdrawMs}`).join(" ")}; gobgpd ${theirRuns.map((r) => `${r.announceMs}/${r.withdrawMs}`).join(" ")} (announce/withdraw ms)`);
    const ours = median(ourRuns);
    const theirs = median(theirRuns);
    console.log(`  median of ${TRIALS} trials each; vipcast CPU/RSS per fresh process, gobgpd's cumulative (one daemon, MRT injection included)`);
    const row = (name: string, x: Run): string =>
      `  ${name.padEnd(8)} announce ${x.announceMs.toFixed(0).padStart(6)} ms   withdraw ${x.withdrawMs.toFixed(0).padStart(6)} ms   CPU ${x.cpu.toFixed(2)} s   peak RSS ${x.rssMb.toFixed(0)} MB`;
    console.log(row('vipcast', ours));
    console.log(row('gobgpd', theirs));
    const announceRatio = ours.announceMs / theirs.announceMs;
    const withdrawRatio = ours.withdrawMs / theirs.withdrawMs;
    console.log(`  ratio vipcast/gobgpd: announce ${announceRatio.toFixed(2)}, withdraw ${withdrawRatio.toFixed(2)} (target <= 1)`);
    return announceRatio <= 1 && withdrawRatio <= 1;
  } finally {
    await topo.destroy();
  }
}
