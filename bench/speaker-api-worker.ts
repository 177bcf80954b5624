// A child process of the speaker API-cost bench: runs a share of the speakers, each the
// DaemonSet's ownership code unchanged (SpeakerLease, Layer2Ownership, PeerMesh on a real UDP
// socket, an Informer watching the speaker Leases), and answers the parent over IPC. Speakers
// live in several processes so that no one event loop carries all of them: a real node runs one.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadApiAccess } from '../src/k8s/kubeconfig.js';
import { Informer } from '../src/k8s/informer.js';
import { createKubeRest } from '../src/k8s/rest.js';
import { Layer2Ownership, apiOkAgeMs } from '../src/speaker/layer2-ownership.js';
import { SpeakerLease, defaultSpeakerLeaseTiming, type SpeakerLeaseObject } from '../src/speaker/speaker-lease.js';
import { loadPeerKey } from '../src/speaker/peer-key.js';
import { PeerMesh } from '../speakers/peer/mesh.js';
import { defaultPeerTiming, peerTimingProblems } from '../speakers/peer/quorum.js';
import { openUdpPeerSocket } from '../speakers/peer/udp.js';

/** What the parent asks. */
export type WorkerRequest =
  | { readonly type: 'start'; readonly nodes: readonly { readonly name: string; readonly port: number }[] }
  | { readonly type: 'status' }
  | { readonly type: 'stop' };

/** What a worker answers. */
export type WorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'started' }
  | { readonly type: 'status'; readonly status: WorkerStatus }
  | { readonly type: 'stopped' }
  | { readonly type: 'failed'; readonly error: string };

/** One worker's speakers, summed. */
export interface WorkerStatus {
  readonly speakers: number;
  readonly holding: number;
  readonly heldVips: number;
  readonly epochs: number;
  readonly contacts: readonly number[];
  readonly members: number;
  readonly sendErrors: number;
  readonly dropped: Readonly<Record<string, number>>;
  /** Event-loop delay since the last status, p99 and max in ms. */
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** CPU used since the last status, as a share of one core. */
  readonly cpu: number;
}

const [kubeconfig, namespace, vipCount, allNodesCsv, pingScale] = process.argv.slice(2) as [string, string, string, string, string];
// The DaemonSet's peer timings, or all of them a whole multiple longer (the parent says why).
const scale = Number(pingScale);
const timing = { pingIntervalMs: defaultPeerTiming.pingIntervalMs * scale, holdMs: defaultPeerTiming.holdMs * scale, quietMs: defaultPeerTiming.quietMs * scale };
const problems = peerTimingProblems(timing);
if (problems.length > 0) throw new Error(`bench worker: peer timing ${JSON.stringify(timing)}: ${problems.join('; ')}`);
const clock = (): number => performance.now();
const access = await loadApiAccess({ kubeconfig });
const key = await loadPeerKey(createKubeRest(access, { fieldManager: 'bench' }), namespace);
const allNodes = allNodesCsv.split(',');
const vips = new Map(Array.from({ length: Number(vipCount) }, (_, i) => [`198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`, new Set(allNodes)] as const));
const speakers: { ownership: Layer2Ownership; mesh: PeerMesh; stop: () => Promise<void> }[] = [];
// With VIPCAST_BENCH_API_PROFILE_DIR, a CPU profile of the whole run, written when asked to stop.
const profileDir = process.env['VIPCAST_BENCH_API_PROFILE_DIR'];
const profiler = profileDir ? new Session() : undefined;
if (profiler) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
let cpuSince = process.cpuUsage();
let cpuAt = performance.now();

async function startSpeaker(node: string, port: number): Promise<void> {
  const rest = createKubeRest(access, { fieldManager: 'vipcast-speaker', timeoutMs: 1100, maxSockets: 2 });
  const lease = new SpeakerLease(rest, namespace, node, defaultSpeakerLeaseTiming, clock);
  const endpoint = { address: '127.0.0.1', port };
  // The socket delivers to the mesh, and the mesh reports to the ownership, made after both.
  const late: { mesh?: PeerMesh; ownership?: Layer2Ownership } = {};
  const socket = await openUdpPeerSocket(endpoint, (packet, from) => late.mesh?.receive(packet, from), () => undefined);
  const mesh = new PeerMesh({ self: node, key, timing, clock, socket, apiOkAgeMs: () => apiOkAgeMs(lease, clock()), onChange: () => late.ownership?.peerChanged() });
  lease.peer = endpoint;
  const ownership = new Layer2Ownership(lease, clock, { answer: () => undefined, silence: () => undefined }, mesh);
  Object.assign(late, { mesh, ownership });
  const informer = new Informer<SpeakerLeaseObject>(rest, { name: 'leases', path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases` }, {
    add: (l) => ownership.observeLease(l),
    update: (l) => ownership.observeLease(l),
    delete: (l) => ownership.forgetLease(l),
  });
  informer.start();
  await informer.waitSynced();
  ownership.start();
  ownership.setVips(vips);
  speakers.push({
    ownership,
    mesh,
    stop: async () => {
      informer.stop();
      await ownership.stop().catch(() => undefined);
    },
  });
}

function status(): WorkerStatus {
  const states = speakers.map((s) => s.ownership.status());
  const dropped: Record<string, number> = {};
  for (const s of speakers) for (const [reason, n] of Object.entries(s.mesh.counters.dropped)) dropped[reason] = (dropped[reason] ?? 0) + n;
  const cpu = process.cpuUsage(cpuSince);
  const now = performance.now();
  const result: WorkerStatus = {
    speakers: speakers.length,
    holding: states.filter((s) => s.holding).length,
    heldVips: speakers.reduce((n, s) => n + s.ownership.held().size, 0),
    epochs: states.reduce((n, s) => n + s.epoch, 0),
    contacts: states.map((s) => s.contacts.length),
    members: Math.max(0, ...states.map((s) => s.members.length)),
    sendErrors: speakers.reduce((n, s) => n + s.mesh.counters.sendErrors, 0),
    dropped,
    lagP99Ms: lag.percentile(99) / 1e6,
    lagMaxMs: lag.max / 1e6,
    cpu: (cpu.user + cpu.system) / 1000 / (now - cpuAt),
  };
  lag.reset();
  cpuSince = process.cpuUsage();
  cpuAt = now;
  return result;
}

function reply(message: WorkerReply): void {
  process.send?.(message);
}

process.on('message', (request: WorkerRequest) => {
  void (async () => {
    try {
      if (request.type === 'start') {
        await Promise.all(request.nodes.map((n) => startSpeaker(n.name, n.port)));
        reply({ type: 'started' });
      } else if (request.type === 'status') reply({ type: 'status', status: status() });
      else {
        if (profiler && profileDir) {
          const { profile } = await profiler.post('Profiler.stop');
          await writeFile(`${profileDir}/speaker-api-worker-${process.pid}.cpuprofile`, JSON.stringify(profile));
        }
        // All at once (each releases its Lease), and at most 5 s: the parent kills a worker
        // that takes 10.
        await Promise.race([Promise.all(speakers.map((s) => s.stop())), setTimeout(5_000)]);
        // Exit once the reply is out: keep-alive agents and timers of the stopped speakers
        // would otherwise hold the process until it is killed.
        process.send?.({ type: 'stopped' } satisfies WorkerReply, () => process.exit(0));
      }
    } catch (error) {
      reply({ type: 'failed', error: String(error) });
    }
  })();
});
reply({ type: 'ready' });
