// Allocator benchmark: 100k Services across an IPv4 /12 and an IPv6 /64, release half,
// allocate again; then the same on pools 2^40 times smaller, to show that memory follows
// the number of allocations and not the size of the pools.
import { Allocator } from '../src/allocator/allocator.js';
import { serviceRequest } from '../src/allocator/request.js';
import type { ServiceRequest } from '../src/allocator/types.js';
import { parseConfig } from '../src/config/parse.js';
import { percentile, settledHeap } from './machine.js';

const services = 100_000;
const target = { allocationsPerSecond: 50_000 };

interface Phase {
  name: string;
  count: number;
  seconds: number;
  latenciesUs: number[];
}

function requests(prefix: string, count: number): ServiceRequest[] {
  return Array.from({ length: count }, (_, i) =>
    serviceRequest({
      metadata: { name: `${prefix}${i}`, namespace: 'bench', annotations: { 'vipcast.io/address-pool': i % 2 === 0 ? 'v4' : 'v6' } },
      spec: { ipFamilies: [i % 2 === 0 ? 'IPv4' : 'IPv6'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80, protocol: 'TCP' }] },
    }),
  );
}

function timed(name: string, batch: ServiceRequest[], run: (r: ServiceRequest) => boolean): Phase {
  const latenciesUs: number[] = [];
  const start = process.hrtime.bigint();
  for (const request of batch) {
    const t0 = process.hrtime.bigint();
    if (!run(request)) throw new Error(`${name}: allocation failed for ${request.key}`);
    latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { name, count: batch.length, seconds, latenciesUs: latenciesUs.sort((a, b) => a - b) };
}

function run(v4: string, v6: string): { phases: Phase[]; heapGrowth: number } {
  const parsed = parseConfig(`address-pools:\n- {name: v4, protocol: layer2, addresses: ["${v4}"]}\n- {name: v6, protocol: bgp, addresses: ["${v6}"]}\n`);
  if (!parsed.ok) throw new Error('bench config invalid');
  const first = requests('svc', services);
  const again = requests('again', services / 2);
  const heapBefore = settledHeap();
  const allocator = new Allocator(parsed.config);
  const phases = [timed('allocate 100k', first, (r) => allocator.allocate(r).ok)];
  const heapGrowth = settledHeap() - heapBefore;
  phases.push(timed('release 50k', first.filter((_, i) => i % 4 < 2), (r) => allocator.release(r.key)));
  phases.push(timed('allocate 50k again', again, (r) => allocator.allocate(r).ok));
  return { phases, heapGrowth };
}

/** Runs the allocator benchmark and prints its figures; returns whether targets were met. */
export function benchAllocator(): boolean {
  console.log(`\nallocator: ${services.toLocaleString('en')} Services, half IPv4 and half IPv6, SingleStack`);
  run('10.16.0.0/15', 'fd00::/112'); // warm-up, so the JIT has compiled the hot paths
  const big = run('10.16.0.0/12', '2001:db8:1:2::/64');
  const small = run('10.16.0.0/15', '2001:db8:1:2::/111');
  let met = true;
  console.log('  phase                    ops/s      p50 µs   p99 µs   max µs');
  for (const phase of big.phases) {
    const rate = phase.count / phase.seconds;
    const row = `  ${phase.name.padEnd(22)} ${Math.round(rate).toLocaleString('en').padStart(9)}  ${percentile(phase.latenciesUs, 50).toFixed(2).padStart(7)}  ${percentile(phase.latenciesUs, 99).toFixed(2).padStart(7)}  ${phase.latenciesUs.at(-1)?.toFixed(0).padStart(7)}`;
    console.log(row);
    if (phase.name.startsWith('allocate') && rate < target.allocationsPerSecond) met = false;
  }
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
  console.log(`  heap after 100k allocations: ${mib(big.heapGrowth)} with a /12 and a /64; ${mib(small.heapGrowth)} with a /15 and a /111 (2^40 times fewer IPv6 addresses)`);
  const ratio = big.heapGrowth / small.heapGrowth;
  console.log(`  heap ratio big/small pools: ${ratio.toFixed(2)} (1.00 means pool size does not matter)`);
  if (ratio > 1.25 || ratio < 0.8) met = false;
  console.log(`  target: allocate >= ${target.allocationsPerSecond.toLocaleString('en')}/s, heap independent of pool size: ${met ? 'met' : 'NOT met'}`);
  return met;
}
