// Layer-2 benchmark (needs root; runs compiled agents from dist/): in the namespace lab of
// lab/layer2-lab.ts, how long a takeover takes to reach a client's kernel, how fast
// the responder answers arping, and what an ARP request flood does to it.
import { percentile } from './machine.js';
import { createLayer2Lab, ipv4, ipv6, lineAfter } from '../lab/layer2-lab.js';
import type { Family, Layer2Lab } from '../lab/layer2-lab.js';
import type { HostProcess } from '../lab/netns.js';
import { labProgram } from '../lab/paths.js';

const agent = ['node', labProgram('layer2-agent')];
const trials = 50;
const target = { moveP99Ms: 5, floodRate: 50_000 };

interface AgentStats {
  responder: { received: number; answered: number; rateLimited: number };
  cpu: { user: number; system: number };
  rss: number;
}

async function signal(p: HostProcess, name: 'SIGUSR1' | 'SIGUSR2', word: string, vip: string): Promise<bigint> {
  const from = p.lines.length;
  p.child.kill(name);
  return BigInt((await lineAfter(p, from, new RegExp(`^${word} ${vip} t=`), 5000)).split('t=')[1] ?? '0');
}

async function stats(p: HostProcess): Promise<AgentStats> {
  const from = p.lines.length;
  p.child.kill('SIGHUP');
  return JSON.parse((await lineAfter(p, from, /^stats /, 5000)).slice(6)) as AgentStats;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(2)} ms`;
}

/** Announce-to-neighbour-update latency: B and A take the VIP from each other `trials` times. */
async function moveLatency(lab: Layer2Lab, family: Family, a: HostProcess, b: HostProcess): Promise<number[]> {
  const monitor = lab.topo.start(lab.client, ['ip', family.flag, 'monitor', 'neigh']);
  const seen: { line: string; at: bigint }[] = [];
  let partial = '';
  monitor.child.stdout?.on('data', (chunk: Buffer) => {
    const at = process.hrtime.bigint();
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) seen.push({ line, at });
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await signal(a, 'SIGUSR1', 'announced', family.vip);
  await lab.topo.run(lab.client, family.name === 'IPv4' ? ['ping', '-c', '1', '-W', '1', family.vip] : ['ping', '-6', '-c', '1', '-W', '1', family.vip]);
  const latencies: number[] = [];
  let [from, to, toMac] = [a, b, lab.macB];
  for (let i = 0; i < trials; i++) {
    const mark = seen.length;
    await signal(from, 'SIGUSR2', 'released', family.vip);
    const t0 = await signal(to, 'SIGUSR1', 'announced', family.vip);
    const deadline = Date.now() + 3000;
    let hit: { at: bigint } | undefined;
    while (!hit && Date.now() < deadline) {
      hit = seen.slice(mark).find((s) => s.line.startsWith(`${family.vip} `) && s.line.includes(`lladdr ${toMac}`));
      if (!hit) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (!hit) throw new Error(`${family.name}: trial ${i}: the client never moved to ${toMac}`);
    latencies.push(Number(hit.at - t0) / 1e6);
    [from, to, toMac] = to === b ? [b, a, lab.macA] : [a, b, lab.macB];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await signal(from, 'SIGUSR2', 'released', family.vip);
  monitor.child.kill('SIGTERM');
  await monitor.exited;
  return latencies;
}

/** arping's own round-trip figures for `count` single requests 0.1 s apart (within the per-requester limit). */
async function arpingLatency(lab: Layer2Lab, count: number): Promise<{ times: number[]; macs: Set<string> }> {
  const times: number[] = [];
  const macs = new Set<string>();
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const { stdout } = await lab.topo.run(lab.client, ['arping', '-c', '1', '-w', '1', '-I', 'eth0', ipv4.vip], true);
    const match = /reply from \S+ \[([0-9A-Fa-f:]{17})\]\s+([0-9.]+)ms/.exec(stdout);
    if (match) {
      macs.add((match[1] ?? '').toLowerCase());
      times.push(Number(match[2]));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (performance.now() - started))));
  }
  return { times, macs };
}

/** An ARP flood at `rate` for `seconds` while arping asks too; reports what the responder did and paid. */
async function flood(lab: Layer2Lab, a: HostProcess, mode: 'same' | 'random', rate: number, seconds: number): Promise<boolean> {
  const before = await stats(a);
  const sender = lab.topo.start(lab.client, [...agent, 'flood', 'eth0', ipv4.vip, String(rate), String(seconds), mode]);
  const honest = arpingLatency(lab, seconds * 10);
  const done = await sender.waitForLine(/^flooded /, (seconds + 30) * 1000);
  const { times, macs } = await honest;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const after = await stats(a);
  const alive = a.child.exitCode === null && a.child.signalCode === null;
  const received = after.responder.received - before.responder.received;
  const answered = after.responder.answered - before.responder.answered;
  const limited = after.responder.rateLimited - before.responder.rateLimited;
  const cpuMs = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000;
  const correct = macs.size === 1 && macs.has(lab.macA);
  console.log(
    `  flood (${mode === 'same' ? 'one forged sender' : 'a new forged sender per frame'}): ${done.replace('flooded ', 'sent ')}; ` +
      `responder received ${received}, answered ${answered}, rate-limited ${limited}; CPU ${cpuMs.toFixed(0)} ms ` +
      `(${((cpuMs / 1000 / seconds) * 100).toFixed(0)}% of a core), RSS ${(after.rss / 2 ** 20).toFixed(0)} MiB; ` +
      `honest arping answered ${times.length}/${seconds * 10}${times.length > 0 ? `, ${summary(times)}` : ''}, MAC ${correct ? 'correct' : `WRONG ${[...macs].join(',')}`}; ` +
      `speaker ${alive ? 'up' : 'DOWN'}`,
  );
  return alive && (macs.size === 0 || correct);
}

/** Runs the layer-2 benchmark and prints its figures; returns whether the targets were met. */
export async function benchLayer2(): Promise<boolean> {
  console.log('\nlayer2: namespaces (switch, nodes A and B, client) joined by veth pairs');
  const lab = await createLayer2Lab();
  try {
    const start = async (host: 'a' | 'b'): Promise<HostProcess> => {
      const p = lab.topo.start(lab[host], [...agent, 'speaker', 'eth0', '10000', ipv4.vip, ipv6.vip]);
      await p.waitForLine(/^ready /, 10_000);
      return p;
    };
    const [a, b] = [await start('a'), await start('b')];
    let ok = true;
    for (const family of [ipv4, ipv6]) {
      const latencies = await moveLatency(lab, family, a, b);
      const p99 = percentile([...latencies].sort((x, y) => x - y), 99);
      console.log(`  ${family.name} takeover, announce call -> client kernel points at the new MAC (${trials} trials): ${summary(latencies)}`);
      ok &&= p99 <= target.moveP99Ms;
    }
    await signal(a, 'SIGUSR1', 'announced', ipv4.vip);
    const { times, macs } = await arpingLatency(lab, 50);
    console.log(`  arping round trip to the responder (50 requests): ${summary(times)}; answered ${times.length}/50 by ${[...macs].join(',')}`);
    ok &&= times.length === 50 && macs.size === 1 && macs.has(lab.macA);
    ok = (await flood(lab, a, 'same', target.floodRate, 3)) && ok;
    ok = (await flood(lab, a, 'random', target.floodRate, 3)) && ok;
    console.log(`  targets: takeover p99 <= ${target.moveP99Ms} ms, correct answers and no crash under ${target.floodRate.toLocaleString('en')} requests/s`);
    return ok;
  } finally {
    await lab.topo.destroy();
  }
}
