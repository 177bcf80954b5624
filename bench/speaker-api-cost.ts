// The API cost of layer-2 ownership at 10 and 100 speakers (issue 14, ADR 0017), read from the
// real kube-apiserver's own metrics. Each speaker is the DaemonSet's ownership code unchanged
// (speaker-api-worker.ts), with its own connection and watch; they are spread over a few child
// processes, join ten at a time as a rollout would, and hold 100 layer-2 VIPs between them.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeExpectOk, kubeRequest } from '../lab/kube-client.js';
import { startApiServer } from '../lab/apiserver.js';
import { leaseRecordFrom, type SpeakerLeaseObject } from '../src/speaker/speaker-lease.js';
import { defaultPeerTiming } from '../speakers/peer/quorum.js';
import type { WorkerReply, WorkerRequest, WorkerStatus } from './speaker-api-worker.js';

const namespace = 'vipcast-system';
const windowMs = Number(process.env['VIPCAST_BENCH_API_WINDOW_MS'] ?? 30_000);
// VIPCAST_BENCH_API_PROFILE_DIR (read by each worker, which inherits the environment): where
// each worker writes a V8 CPU profile of its run.
/** Speaker counts to measure; the issue asks for 10 and 100. */
const counts = (process.env['VIPCAST_BENCH_API_SPEAKERS'] ?? '10,100').split(',').map(Number);
/** How much longer every peer timing is in the rerun of a count the default pings did not fit. */
const slowPings = 4;
/** Speakers per child process at most: one event loop carries about 50 before its delay reaches the peer hold time. */
const perWorker = 25;
const vipCount = 100;
/** Issue 14's ceilings at 100 speakers, cluster-wide. */
const target = { writesPerSecond: 20, watchEventsPerSecond: 2000 };

/** Sums the samples of a Prometheus text metric whose labels match. */
function sum(text: string, metric: string, match: (labels: string) => boolean): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.indexOf('}');
    if (!match(line.slice(metric.length + 1, close))) continue;
    total += Number(line.slice(close + 1).trim().split(' ')[0]);
  }
  return total;
}

interface Counters {
  readonly writes: number;
  readonly reads: number;
  readonly watchEvents: number;
}

async function leaseCounters(admin: Parameters<typeof kubeRequest>[0]): Promise<Counters> {
  const answer = await kubeRequest(admin, '/metrics');
  const leases = (labels: string): boolean => labels.includes('resource="leases"');
  return {
    writes: sum(answer.text, 'apiserver_request_total', (l) => leases(l) && /verb="(POST|PUT|PATCH|DELETE|APPLY)"/.test(l)),
    reads: sum(answer.text, 'apiserver_request_total', (l) => leases(l) && /verb="(GET|LIST)"/.test(l)),
    watchEvents: sum(answer.text, 'apiserver_watch_events_total', (l) => leases(l) || l.includes('kind="Lease"')),
  };
}

/** A child process running some of the speakers. */
class Worker {
  readonly #child: ChildProcess;
  readonly #waiting: { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }[] = [];
  readonly ready: Promise<WorkerReply>;

  constructor(kubeconfig: string, nodes: readonly string[], pingScale: number) {
    this.#child = fork(new URL('./speaker-api-worker.js', import.meta.url), [kubeconfig, namespace, String(vipCount), nodes.join(','), String(pingScale)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (reply: WorkerReply) => {
      const waiter = this.#waiting.shift();
      if (reply.type === 'failed') waiter?.reject(new Error(`bench worker: ${reply.error}`));
      else waiter?.resolve(reply);
    });
    this.#child.on('exit', (code, signal) => {
      if (code !== 0) console.log(`  a bench worker exited with ${code ?? signal}`);
      for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error(`bench worker exited with ${code}`));
    });
    this.ready = this.#next();
  }

  #next(): Promise<WorkerReply> {
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  ask(request: WorkerRequest): Promise<WorkerReply> {
    const answer = this.#next();
    this.#child.send(request);
    return answer;
  }

  async status(): Promise<WorkerStatus> {
    const reply = await this.ask({ type: 'status' });
    if (reply.type !== 'status') throw new Error(`bench worker answered ${reply.type} to status`);
    return reply.status;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    // The worker exits once its 'stopped' reply is out; one that takes over 10 s is killed.
    void this.ask({ type: 'stop' }).catch(() => undefined);
    await Promise.race([exited, sleep(10_000)]);
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await exited;
  }
}

/** Every worker's status, summed. */
async function statusOf(workers: readonly Worker[]): Promise<WorkerStatus> {
  const all = await Promise.all(workers.map((w) => w.status()));
  const dropped: Record<string, number> = {};
  for (const s of all) for (const [reason, n] of Object.entries(s.dropped)) dropped[reason] = (dropped[reason] ?? 0) + n;
  return {
    speakers: all.reduce((n, s) => n + s.speakers, 0),
    holding: all.reduce((n, s) => n + s.holding, 0),
    heldVips: all.reduce((n, s) => n + s.heldVips, 0),
    epochs: all.reduce((n, s) => n + s.epochs, 0),
    contacts: all.flatMap((s) => s.contacts).sort((a, b) => a - b),
    members: Math.max(0, ...all.map((s) => s.members)),
    sendErrors: all.reduce((n, s) => n + s.sendErrors, 0),
    dropped,
    lagP99Ms: Math.max(0, ...all.map((s) => s.lagP99Ms)),
    lagMaxMs: Math.max(0, ...all.map((s) => s.lagMaxMs)),
    cpu: all.reduce((n, s) => n + s.cpu, 0),
  };
}

interface Measured {
  readonly writes: number;
  readonly reads: number;
  readonly watchEvents: number;
  readonly settled: boolean;
  readonly status: WorkerStatus;
  readonly epochsInWindow: number;
}

/** Measures `count` speakers for the window; returns writes, reads and watch events per second. */
async function measure(count: number, pingScale: number): Promise<Measured> {
  const api = await startApiServer();
  const workers: Worker[] = [];
  try {
    await kubeExpectOk(api.admin, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } });
    const kubeconfig = await api.writeKubeconfig();
    const nodes = Array.from({ length: count }, (_, i) => `node-${String(i + 1).padStart(3, '0')}`);
    const workerCount = Math.ceil(count / perWorker);
    for (let w = 0; w < workerCount; w++) workers.push(new Worker(kubeconfig, nodes, pingScale));
    await Promise.all(workers.map((w) => w.ready));
    // Speakers join ten at a time, round the workers, each ten once the earlier ones hold.
    for (let first = 0; first < count; first += 10) {
      const batch = nodes.slice(first, first + 10).map((name, i) => ({ name, port: 21000 + first + i, worker: (first + i) % workerCount }));
      await Promise.all(workers.map((w, index) => w.ask({ type: 'start', nodes: batch.filter((b) => b.worker === index) })));
      const until = Date.now() + 60_000;
      let s = await statusOf(workers);
      while (s.holding < s.speakers && Date.now() < until) {
        await sleep(500);
        s = await statusOf(workers);
      }
      if (count > 10) console.log(`    ${s.speakers} started, ${s.holding} holding; bench workers' CPU ${(s.cpu * 100).toFixed(0)}% of a core, event-loop delay p99 ${s.lagP99Ms.toFixed(0)} ms`);
    }
    // Settled: every speaker has recorded a full configuration and every VIP has one holder.
    const deadline = Date.now() + 120_000;
    let settled = false;
    while (!settled && Date.now() < deadline) {
      const list = (await kubeExpectOk(api.admin, `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`)) as { items: SpeakerLeaseObject[] };
      const configured = list.items.map(leaseRecordFrom).filter((r) => r !== undefined && r.members.length === Math.min(7, count)).length;
      settled = configured === count && (await statusOf(workers)).heldVips === vipCount;
      if (!settled) await sleep(1000);
    }
    await sleep(5000);
    const start = await statusOf(workers);
    const before = await leaseCounters(api.admin);
    await sleep(windowMs);
    const after = await leaseCounters(api.admin);
    const status = await statusOf(workers);
    const seconds = windowMs / 1000;
    return {
      writes: (after.writes - before.writes) / seconds,
      reads: (after.reads - before.reads) / seconds,
      watchEvents: (after.watchEvents - before.watchEvents) / seconds,
      settled,
      status,
      epochsInWindow: status.epochs - start.epochs,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await api.stop();
  }
}

/** Prints one measurement. */
function report(count: number, r: Measured, pingScale: number): void {
  const s = r.status;
  const timing = pingScale === 1 ? '' : ` (pings every ${defaultPeerTiming.pingIntervalMs * pingScale} ms)`;
  console.log(`  ${count} speakers${timing}: ${r.writes.toFixed(2)} Lease writes/s, ${r.watchEvents.toFixed(1)} Lease watch events/s, ${r.reads.toFixed(1)} Lease reads/s; ${s.holding} of ${count} holding ${s.heldVips} of ${vipCount} VIPs${r.settled ? '' : ' (never settled)'}, configurations of ${s.members}`);
  console.log(`    during the window: ${r.epochsInWindow} epochs begun, contacts min ${s.contacts[0]} median ${s.contacts[s.contacts.length >> 1]}, peer send errors ${s.sendErrors}, dropped ${JSON.stringify(s.dropped)}; workers' CPU ${(s.cpu * 100).toFixed(0)}% of a core, event-loop delay p99 ${s.lagP99Ms.toFixed(0)} ms (max ${s.lagMaxMs.toFixed(0)})`);
  console.log(`    expected (ADR 0017): writes N/30 = ${(count / 30).toFixed(2)}/s, watch events N²/30 = ${((count * count) / 30).toFixed(1)}/s, reads 2N = ${2 * count}/s (probes)`);
}

/** Runs the API-cost benchmark; true when 100 speakers stay under issue 14's ceilings. */
export async function benchSpeakerApiCost(): Promise<boolean> {
  console.log(`\nspeaker API cost: N speakers (the DaemonSet's Lease, ownership and peer-channel code, each with its own watch, up to ${perWorker} per child process over ${availableParallelism()} cores) holding ${vipCount} layer-2 VIPs against a real kube-apiserver; rates from its own metrics over ${windowMs / 1000} s`);
  // The target is judged at 100 speakers only; a run without them has not met it.
  let met = counts.includes(100);
  if (!met) console.log(`  100 speakers not in VIPCAST_BENCH_API_SPEAKERS (${counts.join(',')}): the target is not judged`);
  for (const count of counts) {
    let r = await measure(count, 1);
    report(count, r, 1);
    // The peer channel's 50 ms pings cost CPU per speaker, and this machine runs every speaker
    // at once: when they do not fit its cores, holding fails for want of CPU, not of the API.
    // The API cost does not depend on the ping rate, so it is measured again with slower pings.
    if (!r.settled || r.status.holding < count) {
      console.log(`    the default pings (every ${defaultPeerTiming.pingIntervalMs} ms, hold ${defaultPeerTiming.holdMs} ms) did not fit ${count} speakers on ${availableParallelism()} cores (event-loop delay p99 ${r.status.lagP99Ms.toFixed(0)} ms); again with every peer timing ${slowPings}x longer:`);
      r = await measure(count, slowPings);
      report(count, r, slowPings);
    }
    if (count === 100 && (!r.settled || r.status.holding < count || r.writes > target.writesPerSecond || r.watchEvents > target.watchEventsPerSecond)) met = false;
  }
  console.log(`  targets at 100 speakers: <= ${target.writesPerSecond} writes/s and <= ${target.watchEventsPerSecond} watch events/s; ADR 0013 measured 2N writes/s and 2N² events/s (4 nodes: 9.9 and 39; 8 nodes: 18.0 and 143)`);
  return met;
}
