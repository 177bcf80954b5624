// Controller benchmark: a real kube-apiserver and etcd (scripts/build-kube), vipcast
// installed from manifests/, the controller as its own ServiceAccount in a child process.
// Creates 5,000 Services and measures, per Service, create -> status IP: from the create's
// 201 answer (the Service exists) to its address showing on a watch, which is the target's
// measure, and also from sending the create request (adding the apiserver's own create
// time). Plus the total time and the controller's RSS and CPU. (ADDED on the same watch is
// no good start mark: under load ADDED and the status update arrive in one chunk.)
import { existsSync, readFileSync } from 'node:fs';
import { request, Agent } from 'node:https';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './machine.js';
import { startApiServer, type TestApiServer } from '../lab/apiserver.js';
import { cacheRoot, pinnedVersions, type KubeBinaries } from '../lab/kube-binaries.js';
import { kubeExpectOk, type KubeCredentials } from '../lab/kube-client.js';
import { stopController, waitFor, type ControllerProcess } from '../lab/cluster-helpers.js';
import { startVipcastClusterOn, waitLeading } from '../lab/vipcast-cluster.js';

const SERVICES = 5_000;
/** Creates in flight at once; more saturates a 2-core machine's apiserver and measures its queue. */
const IN_FLIGHT = Number(process.env['VIPCAST_BENCH_IN_FLIGHT'] ?? 4);
const target = { p99Ms: 100, rssMb: 150 };
const CONFIG = `
address-pools:
- name: bench
  protocol: layer2
  addresses: [10.64.0.0/18]
`;

/** The repository root: the first parent holding package.json and manifests/ (works from dist/ too). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'manifests'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root above the bench');
    dir = up;
  }
  return dir;
}

function binaries(root: string): KubeBinaries {
  const versions = pinnedVersions(join(root, 'scripts', 'build-kube'));
  const apiserver = process.env['VIPCAST_KUBE_APISERVER'] || join(cacheRoot(), 'kube', versions.kube, 'kube-apiserver');
  const etcd = process.env['VIPCAST_ETCD'] || join(cacheRoot(), 'etcd', versions.etcd, 'etcd');
  for (const path of [apiserver, etcd]) if (!existsSync(path)) throw new Error(`missing ${path}: run scripts/build-kube`);
  return { apiserver, etcd };
}

/** Watches Services from `resourceVersion` and calls `onIngress` the first time each shows an address. */
function watchIngress(admin: KubeCredentials, resourceVersion: string, onIngress: (name: string, at: number) => void): () => void {
  const url = new URL(`/api/v1/namespaces/bench/services?watch=1&resourceVersion=${resourceVersion}`, admin.server);
  const seen = new Set<string>();
  const req = request(url, { ca: admin.ca, cert: admin.cert, key: admin.key, headers: { Accept: 'application/json' } }, (res) => {
    let buffered = '';
    res.on('data', (chunk: Buffer) => {
      const at = performance.now();
      buffered += chunk.toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const event = JSON.parse(line) as { object?: { metadata?: { name?: string }; status?: { loadBalancer?: { ingress?: unknown[] } } } };
        const name = event.object?.metadata?.name ?? '';
        if ((event.object?.status?.loadBalancer?.ingress?.length ?? 0) > 0 && !seen.has(name)) {
          seen.add(name);
          onIngress(name, at);
        }
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

/** Reads the controller's CPU seconds (user + system) and peak and current RSS from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssMb: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuSeconds: ticks / 100, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The controller's own view from vipcast_allocation_latency_seconds: mean, and the buckets holding p50 and p99. */
async function controllerLatency(controller: ControllerProcess): Promise<{ meanMs: number; p50Ms: number; p99Ms: number }> {
  const name = 'vipcast_allocation_latency_seconds';
  const count = await controller.metric(`${name}_count`);
  const sum = await controller.metric(`${name}_sum`);
  const bound = async (q: number): Promise<number> => {
    for (const le of buckets) if ((await controller.metric(`${name}_bucket`, { le: String(le) })) >= q * count) return le * 1000;
    return Infinity;
  };
  return { meanMs: (1000 * sum) / count, p50Ms: await bound(0.5), p99Ms: await bound(0.99) };
}

/** Runs the benchmark, prints its figures, and returns whether the targets were met. */
export async function benchController(): Promise<boolean> {
  const root = repoRoot();
  console.log(`\ncontroller: ${SERVICES} Services on a real kube-apiserver, ${IN_FLIGHT} creates in flight`);
  let server: TestApiServer | undefined;
  let controller: ControllerProcess | undefined;
  const previousCwd = process.cwd();
  let stopping = false;
  process.chdir(root);
  try {
    server = await startApiServer({ binaries: binaries(root), serviceClusterIpRange: '10.0.0.0/16' });
    const cluster = await startVipcastClusterOn(server, CONFIG);
    const admin = server.admin;
    await kubeExpectOk(admin, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } } });
    // The program as the image runs it: bin/vipcast.js, with the image's Node flags.
    controller = cluster.startController([], [join(root, 'bin', 'vipcast.js'), 'controller']);
    const running = controller;
    void running.exited.then((code) => {
      if (!stopping) console.log(`  the controller exited (${code}) during the run; its last log lines:\n${running.logs.slice(-8).map((l) => JSON.stringify(l)).join('\n')}`);
    });
    await waitLeading(controller);
    const idle = processUsage(controller.pid);

    const list = (await kubeExpectOk(admin, '/api/v1/namespaces/bench/services')) as { metadata: { resourceVersion: string } };
    const sentAt = new Map<string, number>();
    const createdAt = new Map<string, number>();
    const ingressAt = new Map<string, number>();
    const fromSent: number[] = [];
    const latencies: number[] = [];
    let done = 0;
    let allDone: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    const stopWatch = watchIngress(admin, list.metadata.resourceVersion, (name, at) => {
      ingressAt.set(name, at);
      const sent = sentAt.get(name);
      if (sent !== undefined) fromSent.push(at - sent);
      if (++done === SERVICES) allDone();
    });
    const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT, ca: admin.ca, ...(admin.cert === undefined ? {} : { cert: admin.cert }), ...(admin.key === undefined ? {} : { key: admin.key }) });
    const create = (name: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, selector: { app: name }, ports: [{ port: 80 }] } });
        sentAt.set(name, performance.now());
        const req = request(new URL('/api/v1/namespaces/bench/services', admin.server), { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => {
            createdAt.set(name, performance.now());
            if (res.statusCode === 201) resolve();
            else reject(new Error(`create ${name}: ${res.statusCode}`));
          });
        });
        req.on('error', reject);
        req.end(body);
      });
    const started = performance.now();
    let next = 0;
    let peakRssMb = 0;
    const sampler = setInterval(() => {
      try {
        peakRssMb = Math.max(peakRssMb, processUsage(running.pid).rssMb);
      } catch {
        // The controller exited; the exit handler above reports it.
      }
    }, 200);
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < SERVICES) await create(`svc-${next++}`);
      }),
    );
    const createdMs = performance.now() - started;
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`only ${done} of ${SERVICES} Services got an address in 5 minutes`)), 300_000);
      }),
    ]).finally(() => clearTimeout(deadline));
    const totalMs = performance.now() - started;
    clearInterval(sampler);
    stopWatch();
    agent.destroy();
    const busy = processUsage(controller.pid);
    peakRssMb = Math.max(peakRssMb, busy.rssMb);
    await waitFor(async () => (await controller?.metric('vipcast_controller_api_writes_total', { kind: 'status' })) === SERVICES, 30_000, 'every status write to be counted');

    const own = await controllerLatency(controller);
    // An address seen before the bench even read the 201 counts as 0 ms.
    for (const [name, created] of createdAt) latencies.push(Math.max(0, (ingressAt.get(name) ?? NaN) - created));
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    const sortedSent = [...fromSent].sort((a, b) => a - b);
    const cpuSeconds = busy.cpuSeconds - idle.cpuSeconds;
    console.log(`  create request sent -> status IP (includes the apiserver's own create): p50 ${percentile(sortedSent, 50).toFixed(1)} ms, p99 ${percentile(sortedSent, 99).toFixed(1)} ms`);
    console.log(`  created (201 answered) -> status IP on a watch: p50 ${p50.toFixed(1)} ms, p90 ${percentile(sorted, 90).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms (target p99 <= ${target.p99Ms} ms)`);
    console.log(`  the controller's own view (a change reaching it -> status written; its histogram): mean ${own.meanMs.toFixed(1)} ms, p50 <= ${own.p50Ms} ms, p99 <= ${own.p99Ms} ms`);
    console.log(`  total: ${(totalMs / 1000).toFixed(1)} s for ${SERVICES} Services (creates took ${(createdMs / 1000).toFixed(1)} s, ${Math.round(SERVICES / (totalMs / 1000))} Services/s)`);
    console.log(`  controller CPU: ${cpuSeconds.toFixed(1)} s (${Math.round((100 * cpuSeconds) / (totalMs / 1000))}% of one core over the run)`);
    console.log(`  machine load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other work on the machine inflates the tail)`);
    console.log(`  controller RSS: idle ${idle.rssMb.toFixed(0)} MB, peak ${Math.max(peakRssMb, busy.peakRssMb).toFixed(0)} MB, after ${busy.rssMb.toFixed(0)} MB (target <= ${target.rssMb} MB)`);
    return p99 <= target.p99Ms && Math.max(peakRssMb, busy.peakRssMb) <= target.rssMb;
  } finally {
    stopping = true;
    if (controller) await stopController(controller);
    await server?.stop();
    process.chdir(previousCwd);
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) process.exitCode = (await benchController()) ? 0 : 1;
