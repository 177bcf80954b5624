// Several real Layer2Ownership instances with real PeerMesh peer channels, in one process:
// an in-memory, linearizable Lease store stands in for the API server (each write bumps a
// resourceVersion; every write reaches every speaker's watch), and an in-memory network
// carries the peer packets. Faults: the API unreachable for some or all speakers, packets
// dropped between two speakers, a speaker stopped. Real timers: tests run in seconds.
import { randomBytes } from 'node:crypto';
import type { KubeRest } from '../../../src/k8s/rest.js';
import { KubeApiError } from '../../../src/k8s/rest.js';
import { Layer2Ownership } from '../../../src/speaker/layer2-ownership.js';
import { apiOkAgeMs } from '../../../src/speaker/layer2-ownership.js';
import { SpeakerLease, type SpeakerLeaseObject, type SpeakerLeaseTiming } from '../../../src/speaker/speaker-lease.js';
import { PeerMesh, type PeerEndpoint } from '../../../speakers/peer/mesh.js';
import { defaultPeerTiming } from '../../../speakers/peer/quorum.js';

const clock = (): number => performance.now();

/** One speaker of the cluster. */
export interface ClusterNode {
  readonly name: string;
  readonly ownership: Layer2Ownership;
  readonly mesh: PeerMesh;
  readonly lease: SpeakerLease;
  /** The API server is unreachable for this node while true. */
  apiDown: boolean;
  stopped: boolean;
  readonly log: string[];
}

/** The cluster and its faults. */
export class OwnershipCluster {
  readonly nodes: ClusterNode[] = [];
  readonly #store = new Map<string, SpeakerLeaseObject>();
  #revision = 0;
  /** Packets from a to b are dropped while `${a}>${b}` is in here. */
  readonly cut = new Set<string>();
  readonly #key = randomBytes(32);
  /** Everyone's API is unreachable while true. */
  apiDownForAll = false;

  constructor(names: readonly string[], timing: SpeakerLeaseTiming = { durationMs: 1800, renewIntervalMs: 500, marginMs: 200 }) {
    names.forEach((name, i) => this.#add(name, i, timing));
  }

  #add(name: string, index: number, timing: SpeakerLeaseTiming): void {
    const endpoint: PeerEndpoint = { address: `192.0.2.${index + 1}`, port: 7947 };
    const node = { name, apiDown: false, stopped: false, log: [] as string[] } as ClusterNode & { apiDown: boolean; stopped: boolean };
    const rest = this.#rest(node);
    const lease = new SpeakerLease(rest, 'vipcast-system', name, timing, clock);
    lease.peer = endpoint;
    const mesh = new PeerMesh({
      self: name,
      key: this.#key,
      timing: defaultPeerTiming,
      clock,
      socket: {
        send: (packet, to) => {
          const target = this.nodes.find((n) => n.lease.peer?.address === to.address);
          if (!target || target.stopped || node.stopped || this.cut.has(`${name}>${target.name}`)) return;
          setImmediate(() => target.mesh.receive(packet, endpoint));
        },
        close: () => undefined,
      },
      apiOkAgeMs: () => apiOkAgeMs(lease, clock()),
      onChange: () => ownership.peerChanged(),
    });
    const ownership = new Layer2Ownership(lease, clock, {
      answer: (vip) => node.log.push(`answer ${vip}`),
      silence: (vip, reason) => node.log.push(`silence ${vip} ${reason}`),
      log: (message, fields) => node.log.push(`${message} ${JSON.stringify(fields)}`),
    }, mesh);
    Object.assign(node, { ownership, mesh, lease });
    this.nodes.push(node);
  }

  #rest(node: { name: string; apiDown: boolean }): KubeRest {
    const unreachable = (): Promise<never> => new Promise((_, reject) => setTimeout(() => reject(new KubeApiError('GET', '/', 0, undefined)), 50));
    const down = (): boolean => node.apiDown || this.apiDownForAll;
    const save = (body: SpeakerLeaseObject, create: boolean): SpeakerLeaseObject => {
      const name = body.metadata.name;
      const current = this.#store.get(name);
      if (create && current) throw new KubeApiError('POST', name, 409, { reason: 'AlreadyExists' });
      if (!create && (!current || current.metadata.resourceVersion !== body.metadata.resourceVersion)) throw new KubeApiError('PUT', name, current ? 409 : 404, {});
      const saved = structuredClone({ ...body, metadata: { ...body.metadata, resourceVersion: String(++this.#revision) } });
      this.#store.set(name, saved);
      for (const other of this.nodes) if (!other.stopped && !other.apiDown && !this.apiDownForAll) setImmediate(() => other.ownership.observeLease(structuredClone(saved)));
      return saved;
    };
    return {
      get: async <T>(path: string): Promise<T> => {
        if (down()) return unreachable();
        if (path.endsWith('/leases')) return { items: [...this.#store.values()].map((l) => structuredClone(l)) } as T;
        const lease = this.#store.get(decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)));
        if (!lease) throw new KubeApiError('GET', path, 404, {});
        return structuredClone(lease) as T;
      },
      create: async <T>(_path: string, body: unknown): Promise<T> => (down() ? unreachable() : (save(body as SpeakerLeaseObject, true) as T)),
      replace: async <T>(_path: string, body: unknown): Promise<T> => (down() ? unreachable() : (save(body as SpeakerLeaseObject, false) as T)),
      mergePatch: () => Promise.reject(new Error('not used')),
    };
  }

  /** Starts every speaker and gives them the VIPs, every node eligible. */
  start(vips: readonly string[]): void {
    const eligible = new Set(this.nodes.map((n) => n.name));
    for (const node of this.nodes) {
      node.ownership.start();
      node.ownership.setVips(new Map(vips.map((vip) => [vip, eligible])));
    }
  }

  /** Who may answer for the VIP right now (the synchronous gate every frame passes). */
  answerers(vip: string): string[] {
    return this.nodes.filter((n) => !n.stopped && n.ownership.mayAnswer(vip)).map((n) => n.name);
  }

  /** Hard loss: the speaker stops sending and receiving, its timers keep running unseen. */
  kill(name: string): void {
    const node = this.nodes.find((n) => n.name === name);
    if (node) node.stopped = true;
  }

  /** Stops every speaker's timers. */
  async destroy(): Promise<void> {
    for (const node of this.nodes) {
      node.apiDown = true;
      await node.ownership.stop().catch(() => undefined);
    }
  }
}

/** Samples the answerers of `vip` every `everyMs` until `ms` has passed; returns every sample. */
export async function sample(cluster: OwnershipCluster, vip: string, ms: number, everyMs = 5): Promise<{ at: number; answerers: string[] }[]> {
  const samples: { at: number; answerers: string[] }[] = [];
  const end = clock() + ms;
  while (clock() < end) {
    samples.push({ at: clock(), answerers: cluster.answerers(vip) });
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return samples;
}
