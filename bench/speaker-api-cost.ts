// The API cost of layer-2 ownership at 10 and 100 speakers (issue 14, ADR 0017), read from the
// real kube-apiserver's own metrics. Each speaker is the DaemonSet's ownership code unchanged —
// SpeakerLease, Layer2Ownership, PeerMesh on a real UDP socket, and an Informer watching the
// speaker Leases — many of them in this one process, each with its own connection and watch,
// holding 100 layer-2 VIPs between them.
import { loadKubeConfig } from '../src/k8s/kubeconfig.js';
import { Informer } from '../src/k8s/informer.js';
import { createKubeRest } from '../src/k8s/rest.js';
import { kubeExpectOk, kubeRequest } from '../test/harness/kube-client.js';
import { startApiServer } from '../test/harness/apiserver.js';
import { Layer2Ownership, apiOkAgeMs } from '../src/speaker/layer2-ownership.js';
import { SpeakerLease, defaultSpeakerLeaseTiming, leaseRecordFrom, type SpeakerLeaseObject } from '../src/speaker/speaker-lease.js';
import { loadPeerKey } from '../src/speaker/peer-key.js';
import { PeerMesh } from '../speakers/peer/mesh.js';
import { defaultPeerTiming } from '../speakers/peer/quorum.js';
import { openUdpPeerSocket } from '../speakers/peer/udp.js';

const namespace = 'vipcast-system';
const windowMs = Number(process.env['VIPCAST_BENCH_API_WINDOW_MS'] ?? 30_000);
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

/** Measures `count` speakers for the window; returns writes, reads and watch events per second. */
async function measure(count: number): Promise<{ writes: number; reads: number; watchEvents: number; holding: number; members: number }> {
  const api = await startApiServer();
  const stops: (() => Promise<void> | void)[] = [];
  try {
    await kubeExpectOk(api.admin, '/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } });
    const kc = loadKubeConfig({ kubeconfig: await api.writeKubeconfig() });
    const key = await loadPeerKey(createKubeRest(kc, { fieldManager: 'bench' }), namespace);
    const clock = (): number => performance.now();
    const nodes = Array.from({ length: count }, (_, i) => `node-${String(i + 1).padStart(3, '0')}`);
    const vips = new Map(Array.from({ length: 100 }, (_, i) => [`198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`, new Set(nodes)] as const));
    const owners: Layer2Ownership[] = [];
    for (const [i, node] of nodes.entries()) {
      const rest = createKubeRest(kc, { fieldManager: 'vipcast-speaker', timeoutMs: 1100, maxSockets: 2 });
      const lease = new SpeakerLease(rest, namespace, node, defaultSpeakerLeaseTiming, clock);
      const endpoint = { address: '127.0.0.1', port: 21000 + i };
      // The socket delivers to the mesh, and the mesh reports to the ownership, made after both.
      const late: { mesh?: PeerMesh; ownership?: Layer2Ownership } = {};
      const socket = await openUdpPeerSocket(endpoint, (packet, from) => late.mesh?.receive(packet, from), () => undefined);
      const mesh = new PeerMesh({ self: node, key, timing: defaultPeerTiming, clock, socket, apiOkAgeMs: () => apiOkAgeMs(lease, clock()), onChange: () => late.ownership?.peerChanged() });
      lease.peer = endpoint;
      const own = new Layer2Ownership(lease, clock, { answer: () => undefined, silence: () => undefined }, mesh);
      Object.assign(late, { mesh, ownership: own });
      const informer = new Informer<SpeakerLeaseObject>(kc, rest, { name: 'leases', path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases` }, {
        add: (l) => own.observeLease(l),
        update: (l) => own.observeLease(l),
        delete: (l) => own.forgetLease(l),
      });
      informer.start();
      await informer.waitSynced();
      own.start();
      own.setVips(vips);
      owners.push(own);
      stops.push(async () => {
        informer.stop();
        await own.stop().catch(() => undefined);
      });
    }
    // Settled: every speaker has recorded a full configuration and every VIP has one holder.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const list = (await kubeExpectOk(api.admin, `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`)) as { items: SpeakerLeaseObject[] };
      const records = list.items.map(leaseRecordFrom).filter((r) => r !== undefined);
      const configured = records.filter((r) => r.members.length === Math.min(7, count)).length;
      const held = owners.reduce((n, o) => n + o.held().size, 0);
      if ((configured === count && held === vips.size) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const before = await leaseCounters(api.admin);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = await leaseCounters(api.admin);
    const seconds = windowMs / 1000;
    const status = owners.map((o) => o.status());
    return {
      writes: (after.writes - before.writes) / seconds,
      reads: (after.reads - before.reads) / seconds,
      watchEvents: (after.watchEvents - before.watchEvents) / seconds,
      holding: status.filter((s) => s.holding).length,
      members: Math.max(...status.map((s) => s.members.length)),
    };
  } finally {
    for (const stop of stops) await stop();
    await api.stop();
  }
}

/** Runs the API-cost benchmark; true when 100 speakers stay under issue 14's ceilings. */
export async function benchSpeakerApiCost(): Promise<boolean> {
  console.log(`\nspeaker API cost: N speakers (the DaemonSet's Lease, ownership and peer-channel code, many in this process, each with its own watch) holding 100 layer-2 VIPs against a real kube-apiserver; rates from its own metrics over ${windowMs / 1000} s`);
  let met = true;
  for (const count of [10, 100]) {
    const r = await measure(count);
    console.log(`  ${count} speakers: ${r.writes.toFixed(2)} Lease writes/s, ${r.watchEvents.toFixed(1)} Lease watch events/s, ${r.reads.toFixed(1)} Lease reads/s; ${r.holding} of ${count} holding, configurations of ${r.members}`);
    console.log(`    expected (ADR 0017): writes N/30 = ${(count / 30).toFixed(2)}/s, watch events N²/30 = ${((count * count) / 30).toFixed(1)}/s, reads 2N = ${2 * count}/s (probes)`);
    if (count === 100 && (r.writes > target.writesPerSecond || r.watchEvents > target.watchEventsPerSecond)) met = false;
  }
  console.log(`  targets at 100 speakers: <= ${target.writesPerSecond} writes/s and <= ${target.watchEventsPerSecond} watch events/s; ADR 0013 measured 2N writes/s and 2N² events/s (4 nodes: 9.9 and 39; 8 nodes: 18.0 and 143)`);
  return met;
}
