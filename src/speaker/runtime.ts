// The speaker on one node: caches Services, EndpointSlices, Nodes, the config source and the
// speaker Leases; computes the VIPs and who may announce them; hands each announcement mode
// (protocol.ts: layer 2 and BGP) the VIPs of its pools. Reads caches, calls pure decisions,
// then acts (style.md rule 6).
import type { Config, Pool, Protocol } from '../config/types.js';
import type { EventRecorder } from '../k8s/events.js';
import { createConfigFeed, locationFields, type ConfigFeed, type ConfigLocation } from '../k8s/config-feed.js';
import { Informer, type InformerHandler, type InformerHealth } from '../k8s/informer.js';
import type { KubeRest, KubeWatcher } from '../k8s/rest.js';
import type { Logger } from '../log.js';
import { formatIssue } from '../config/types.js';
import { desiredVips, layer2Vips, speakerKeeps, type DesiredVip, type EndpointSliceView, type NodeView, type ServiceView } from './desired.js';
import { BgpProtocol, type BgpAnnouncer } from './bgp-protocol.js';
import type { Layer2Ownership } from './layer2-ownership.js';
import { Layer2Protocol, type LinkSpeaker } from './layer2-protocol.js';
import type { AnnouncementProtocol } from './protocol.js';
import type { PeerMesh } from '../../speakers/peer/mesh.js';
import type { SpeakerLease, SpeakerLeaseObject } from './speaker-lease.js';

/** A recompute starts no sooner than this many times the last one's duration after it ended... */
const recomputeSpacing = 5;
/** ...but a change never waits longer than this for it. */
const maxRecomputeWaitMs = 1000;

/** What the runtime needs from its environment, injectable for tests. */
export interface SpeakerRuntimeOptions {
  readonly rest: KubeRest & KubeWatcher;
  readonly node: string;
  /** Namespace of the speaker Leases. */
  readonly namespace: string;
  /** Where the address pools are read (a ConfigMap, which need not be beside the Leases, or MetalLB's objects). */
  readonly config: ConfigLocation;
  readonly loadBalancerClass: string | undefined;
  readonly lease: SpeakerLease;
  readonly clock: () => number;
  readonly log: Logger;
  readonly events: EventRecorder;
  /**
   * The interfaces to announce a layer-2 VIP of this pool on, each able to carry frames now;
   * empty when there is none, which makes the node decline the VIP (ADR 0022).
   */
  readonly interfacesFor: (pool: Pool, vip: string) => string[];
  readonly openLink: (interfaceName: string) => LinkSpeaker;
  readonly bgp: BgpAnnouncer | undefined;
  /** The peer channel (ADR 0017); without it layer-2 ownership follows the Lease alone. */
  readonly peer?: PeerMesh | undefined;
  /** Told whenever the announced set changes (metrics). */
  readonly onChange?: () => void;
}

/** The running speaker. */
export class SpeakerRuntime {
  readonly #layer2: Layer2Protocol;
  readonly #protocols: ReadonlyMap<Protocol, AnnouncementProtocol>;
  readonly #informers: Informer<object>[] = [];
  readonly #services: Informer<ServiceView & object>;
  readonly #slices: Informer<EndpointSliceView & object>;
  readonly #nodes: Informer<NodeView & object>;
  readonly #configFeed: ConfigFeed;
  #config: Config | undefined;
  #configVersion: string | undefined;
  #configText: string | undefined;
  #desired = new Map<string, DesiredVip>();
  #scheduled = false;
  /** When the last recompute ended and how long it took (performance.now, ms). */
  #recomputedAt = Number.NEGATIVE_INFINITY;
  #recomputeMs = 0;
  #recomputeTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly o: SpeakerRuntimeOptions) {
    const report = (vip: DesiredVip, type: 'Normal' | 'Warning', reason: string, note: string): void => this.#event(vip, type, reason, note);
    this.#layer2 = new Layer2Protocol({ node: o.node, lease: o.lease, clock: o.clock, log: o.log, interfacesFor: o.interfacesFor, openLink: o.openLink, peer: o.peer, report, onChange: o.onChange });
    const bgp = new BgpProtocol({ node: o.node, lease: o.lease, log: o.log, announcer: o.bgp, report, onChange: o.onChange });
    this.#protocols = new Map<Protocol, AnnouncementProtocol>([
      [this.#layer2.mode, this.#layer2],
      [bgp.mode, bgp],
    ]);
    const changed = { add: () => this.schedule(), update: () => this.schedule(), delete: () => this.schedule() };
    const onError = (name: string) => (error: unknown, retryInMs: number) => o.log.warn('watch failed; restarting', { informer: name, error: String(error), retryInMs });
    const make = <T extends object>(name: string, path: string, handler: InformerHandler<T> = changed, fieldSelector?: string, keep?: (object: object) => object): Informer<T> => {
      const informer = new Informer<T>(o.rest, { name, path, onError: onError(name), ...(fieldSelector ? { fieldSelector } : {}), ...(keep ? { keep } : {}) }, handler);
      this.#informers.push(informer);
      return informer;
    };
    this.#services = make('services', '/api/v1/services', changed, undefined, speakerKeeps.service);
    this.#slices = make('endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', changed, undefined, speakerKeeps.endpointSlice);
    this.#nodes = make('nodes', '/api/v1/nodes', changed, undefined, speakerKeeps.node);
    this.#configFeed = createConfigFeed(o.rest, o.config, () => this.schedule(), onError);
    this.#informers.push(...this.#configFeed.informers);
    make<SpeakerLeaseObject>('leases', `/apis/coordination.k8s.io/v1/namespaces/${o.namespace}/leases`, {
      add: (lease) => this.ownership.observeLease(lease),
      update: (lease) => this.ownership.observeLease(lease),
      delete: (lease) => this.ownership.forgetLease(lease),
    });
  }

  /** The layer-2 election and peer quorum (ADR 0017), for status and metrics. */
  get ownership(): Layer2Ownership {
    return this.#layer2.ownership;
  }

  /** Starts the caches, waits for them, then starts the announcement modes. */
  async start(): Promise<void> {
    for (const informer of this.#informers) informer.start();
    await Promise.all(this.#informers.map((informer) => informer.waitSynced()));
    for (const protocol of this.#protocols.values()) protocol.start();
    this.recompute();
  }

  /** The health of each cache's informer, for /healthz. */
  informersHealth(): InformerHealth[] {
    return this.#informers.map((informer) => informer.health());
  }

  /** Whether every cache has synced. */
  get synced(): boolean {
    return this.#informers.every((informer) => informer.synced);
  }

  /**
   * Recomputes once after a burst of cache events. A recompute reads every Service, so under a
   * stream of changes (5,000 Services created, then their statuses written) it runs at most
   * once per `recomputeSpacing` times its own last duration: a change waits at most a few
   * recompute times, and recomputing takes at most a sixth of the CPU instead of all of it.
   */
  schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      this.#recomputeTimer = undefined;
      if (this.synced && !this.#stopped) this.recompute();
    };
    const waitMs = Math.min(maxRecomputeWaitMs, this.#recomputedAt + recomputeSpacing * this.#recomputeMs - performance.now());
    if (waitMs < 1) setImmediate(run);
    else this.#recomputeTimer = setTimeout(run, waitMs);
  }

  /** Recomputes the wanted VIPs and hands each announcement mode those of its pools. */
  recompute(): void {
    const startedAt = performance.now();
    try {
      this.#recompute();
    } finally {
      this.#recomputedAt = performance.now();
      this.#recomputeMs = this.#recomputedAt - startedAt;
    }
  }

  #recompute(): void {
    this.#refreshConfig();
    const config = this.#config;
    if (!config) return;
    const services = this.#services.list();
    // The kernel's links, read before deciding: desiredVips takes them as a snapshot.
    const linkDown = new Set<string>();
    for (const [vip, pool] of layer2Vips(config, services, this.o.loadBalancerClass)) if (this.o.interfacesFor(pool, vip).length === 0) linkDown.add(vip);
    this.#desired = desiredVips({
      config,
      services,
      endpointSlices: this.#slices.list(),
      nodes: this.#nodes.list(),
      self: this.o.node,
      linkDown,
      loadBalancerClass: this.o.loadBalancerClass,
    });
    const byMode = new Map<Protocol, Map<string, DesiredVip>>([...this.#protocols.keys()].map((mode) => [mode, new Map()]));
    for (const [ip, vip] of this.#desired) byMode.get(vip.pool.protocol)?.set(ip, vip);
    for (const [mode, vips] of byMode) this.#protocols.get(mode)?.setVips(vips, config);
  }

  /** What this node does for each VIP, for status and tests. */
  describe(): { vip: string; services: readonly string[]; pool: string; mode: string; announcing: boolean; reason: string; owner?: string | undefined }[] {
    return [...this.#desired.values()].map((vip) => {
      const reason = this.ownership.reasons.get(vip.ip);
      const announcing = this.#protocols.get(vip.pool.protocol)?.announcing(vip.ip) ?? false;
      // A pool no mode announces (a MetalLB pool no advertisement selects) is no node's to announce.
      const fallback = vip.pool.protocol === 'none' ? 'not-advertised' : announcing ? 'eligible' : 'not-eligible';
      return { vip: vip.ip, services: vip.services, pool: vip.pool.name, mode: vip.pool.protocol, announcing, reason: reason?.reason ?? fallback, owner: reason?.owner };
    });
  }

  /** The labels of a Node as cached (empty when unknown). */
  nodeLabels(name: string): Readonly<Record<string, string>> {
    return this.#nodes.get(name)?.metadata.labels ?? {};
  }

  /** Layer-2 VIPs held and BGP VIPs announced now. */
  counts(): { layer2: number; bgp: number } {
    return { layer2: this.#protocols.get('layer2')?.count ?? 0, bgp: this.#protocols.get('bgp')?.count ?? 0 };
  }

  /** Replies sent by all layer-2 speakers. */
  answered(): number {
    return this.#layer2.answered();
  }

  /** Planned stop: release layer-2 VIPs and the Lease, withdraw BGP routes, stop the caches. */
  async stop(): Promise<void> {
    // No recompute after this point: one would open BGP sessions again after their Cease.
    this.#stopped = true;
    clearTimeout(this.#recomputeTimer);
    // Each step runs even if an earlier one fails: a failed Lease release must not leave BGP
    // routes announced, nor the other way round.
    const steps: [string, () => Promise<void> | void][] = [
      ['release the layer-2 VIPs and the Lease', () => this.#protocols.get('layer2')?.stop()],
      ['withdraw the BGP routes', () => this.#protocols.get('bgp')?.stop()],
      ['stop the caches', () => this.#informers.forEach((informer) => informer.stop())],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (error) {
        this.o.log.error(`stopping: could not ${what}`, { error: String(error) });
      }
    }
  }

  #refreshConfig(): void {
    const version = this.#configFeed.version();
    if (version === this.#configVersion && this.#config) return;
    this.#configVersion = version;
    const verdict = this.#configFeed.verdict();
    if (verdict.ok) {
      if (verdict.text === this.#configText) return;
      this.#configText = verdict.text;
      this.#config = verdict.config;
      this.o.log.info('config loaded', { ...locationFields(this.o.config), pools: verdict.config.pools.length, peers: verdict.config.peers.length });
    } else {
      this.o.log.error('config rejected; keeping the last valid one', { ...locationFields(this.o.config), errors: verdict.errors.map(formatIssue), haveConfig: this.#config !== undefined });
    }
  }

  /** Another host claims a VIP this node answers for: a log line and a Warning Event on its Services. */
  reportConflict(vip: string, mac: string, interfaceName: string): void {
    this.#layer2.reportConflict(vip, mac, interfaceName);
  }

  /** A BGP route could not be sent to a peer: a log line, and a Warning Event on the Services of the VIPs it covers. */
  reportNotAnnounced(peer: string, prefixes: readonly string[], reason: string): void {
    this.o.log.warn('bgp routes not announced', { peer, prefixes, reason });
    for (const prefix of prefixes) {
      const desired = this.#desired.get(prefix.replace(/\/\d+$/, ''));
      if (desired) this.#event(desired, 'Warning', 'NotAnnouncedBGP', `node ${this.o.node} cannot announce ${prefix} to ${peer}: ${reason}`);
    }
  }

  #event(vip: DesiredVip, type: 'Normal' | 'Warning', reason: string, note: string): void {
    for (const key of vip.services) {
      const [namespace = '', name = ''] = key.split('/');
      const service = this.#services.get(name, namespace) as { metadata?: { uid?: string } } | undefined;
      void this.o.events.record({ apiVersion: 'v1', kind: 'Service', namespace, name, uid: service?.metadata?.uid }, { type, reason, note, action: 'Announce' });
    }
  }
}
