// The controller's reconciler: caches of Services, Namespaces and the config source; a
// work queue of Service keys; for each key a pure decision (decide.ts), then the writes.
// State lives in the allocator and is rebuilt from Service status on start, so nothing
// needs a finalizer and a restart moves no address.
import { Allocator } from '../allocator/allocator.js';
import { serviceRequest } from '../allocator/request.js';
import { formatIssue, type Config } from '../config/types.js';
import type { EventRecorder, EventIntent, EventSubject } from '../k8s/events.js';
import { createConfigFeed, locationFields, type ConfigFeed, type ConfigLocation } from '../k8s/config-feed.js';
import { Informer, type InformerHealth } from '../k8s/informer.js';
import { statusOf, type KubeRest, type KubeWatcher } from '../k8s/rest.js';
import { allocatedPoolAnnotation, type ServiceStatusWriter } from '../k8s/service-status.js';
import { patchServiceStatus, type ServiceCondition } from '../k8s/service-status-patch.js';
import type { Logger } from '../log.js';
import { rejectionNote } from '../config/config-map.js';
import { applyConditionChange } from './condition.js';
import { decideDeleted, decideService, type Decision } from './decide.js';
import type { ControllerMetrics } from './metrics.js';
import { createdAt, isServed, serviceKey, statusHasVipMode, statusIps, type ServiceObject } from './service-object.js';
import { WorkQueue } from './work-queue.js';

interface NamespaceObject {
  metadata?: { name?: string; labels?: Record<string, string> };
}

/** What a {@link Reconciler} needs. */
export interface ReconcilerOptions {
  readonly rest: KubeRest & KubeWatcher;
  /** Where the address pools are read: a ConfigMap (in any namespace, not only the Lease's) or MetalLB's objects. */
  readonly config: ConfigLocation;
  /** `--load-balancer-class`, or undefined to serve only classless Services. */
  readonly loadBalancerClass: string | undefined;
  readonly events: EventRecorder;
  /** Writes the pool annotation (status goes through `rest` in one patch with the condition). */
  readonly status: ServiceStatusWriter;
  readonly metrics: ControllerMetrics;
  readonly log: Logger;
  /** Services written at the same time; 16 when omitted. */
  readonly concurrency?: number;
  /**
   * Asked before every write; false refuses the write (the key is retried later). The
   * controller passes the leader elector's check, so a replica that was paused or
   * partitioned past its renew deadline writes nothing before it notices it lost the Lease.
   */
  readonly mayWrite?: () => boolean;
  /** Wall clock for conditions' lastTransitionTime; `new Date()` when omitted. */
  readonly wallClock?: () => Date;
}

/** Thrown instead of writing when {@link ReconcilerOptions.mayWrite} says no. */
export class NotLeading extends Error {
  constructor() {
    super('not writing: this replica does not hold the Lease');
    this.name = 'NotLeading';
  }
}

/** Keeps every served Service's address, status and annotation in line with the config. */
export class Reconciler {
  private allocator: Allocator | undefined;
  private config: Config | undefined;
  private configText: string | undefined;
  private rejectedText: string | undefined;
  private ready = false;
  private readonly failing = new Set<string>();
  private readonly droppedBecause = new Map<string, string>();
  private readonly lastSeen = new Map<string, ServiceObject>();
  private readonly services: Informer<ServiceObject>;
  private readonly namespaces: Informer<NamespaceObject>;
  private readonly configFeed: ConfigFeed;
  private readonly queue: WorkQueue;

  /** Creates a stopped reconciler; call start() once leading. */
  constructor(private readonly options: ReconcilerOptions) {
    const { rest, log } = options;
    const onError = (name: string) => (error: unknown, retryInMs: number) => log.warn('informer failed, restarting', { informer: name, error, retryInMs });
    this.queue = new WorkQueue((key, queuedAt) => this.reconcile(key, queuedAt), {
      concurrency: options.concurrency ?? 16,
      initialRetryMs: 200,
      maxRetryMs: 30_000,
      onError: (key, error, retryInMs) => log.warn('reconcile failed, retrying', { service: key, error, retryInMs }),
    });
    const enqueue = (service: ServiceObject): void => {
      if (this.ready) this.queue.add(serviceKey(service));
    };
    this.services = new Informer(rest, { name: 'services', path: '/api/v1/services', onError: onError('services') }, {
      add: enqueue,
      update: enqueue,
      delete: (service) => {
        this.lastSeen.set(serviceKey(service), service);
        enqueue(service);
      },
    });
    const namespaceChanged = (ns: NamespaceObject): void => {
      if (!this.ready) return;
      for (const service of this.services.list()) if (service.metadata?.namespace === ns.metadata?.name) this.queue.add(serviceKey(service));
    };
    this.namespaces = new Informer(rest, { name: 'namespaces', path: '/api/v1/namespaces', onError: onError('namespaces') }, {
      add: namespaceChanged,
      update: namespaceChanged,
      delete: () => undefined,
    });
    const configChanged = (): void => {
      if (this.ready) this.applyConfig();
    };
    this.configFeed = createConfigFeed(rest, options.config, configChanged, onError);
  }

  /** Fills the caches, loads the config, rebuilds allocations from Service status, then reconciles everything. */
  async start(): Promise<void> {
    for (const informer of this.informers()) informer.start();
    await Promise.all(this.informers().map((informer) => informer.waitSynced()));
    this.options.log.info('caches synced', { services: this.services.list().length, namespaces: this.namespaces.list().length });
    this.ready = true;
    this.applyConfig();
    for (const service of this.services.list()) this.queue.add(serviceKey(service));
  }

  /** The health of each cache's informer, for /healthz. */
  informersHealth(): InformerHealth[] {
    return this.informers().map((informer) => informer.health());
  }

  /** Stops the informers and drops queued work. */
  stop(): void {
    this.ready = false;
    this.queue.stop();
    for (const informer of this.informers()) informer.stop();
  }

  private informers(): Informer<object>[] {
    return [...this.configFeed.informers, this.namespaces, this.services];
  }

  /** Whether the caches are synced and the initial state is rebuilt. */
  get synced(): boolean {
    return this.ready;
  }

  /** When the longest-running reconcile began (performance.now ms), or undefined when none runs. */
  oldestReconcileSince(): number | undefined {
    return this.queue.oldestRunningSince();
  }

  /** Resolves when no Service is queued or being written. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Addresses in use per pool of the config in force. */
  poolUsage(): Map<string, number> {
    const usage = new Map<string, number>();
    const allocator = this.allocator;
    if (allocator === undefined || this.config === undefined) return usage;
    for (const pool of this.config.pools) usage.set(pool.name, allocator.addressesInUse(pool.name));
    return usage;
  }

  private applyConfig(): void {
    const verdict = this.configFeed.verdict();
    const { metrics, log } = this.options;
    if (!verdict.ok) {
      metrics.configValid.set(0);
      metrics.configErrors.set(verdict.errors.length);
      if (verdict.text !== undefined && verdict.text === this.rejectedText) return;
      this.rejectedText = verdict.text;
      log.warn('config rejected; the last valid config stays in force', { ...locationFields(this.options.config), configSource: this.options.config.source, errors: verdict.errors.map(formatIssue), inForce: this.configText !== undefined });
      const subject = this.configFeed.rejectionSubject(verdict);
      if (subject !== undefined && this.mayWrite()) void this.options.events.record(subject, { type: 'Warning', reason: 'ConfigRejected', action: 'LoadConfig', note: rejectionNote(verdict.errors) });
      return;
    }
    metrics.configValid.set(1);
    metrics.configErrors.set(0);
    this.rejectedText = undefined;
    if (verdict.text === this.configText) return;
    this.configText = verdict.text;
    this.config = verdict.config;
    for (const warning of verdict.warnings) log.warn('config warning', { issue: formatIssue(warning) });
    if (this.allocator === undefined) {
      this.allocator = new Allocator(verdict.config);
      this.restore(this.allocator);
      log.info('config loaded', { pools: verdict.config.pools.map((p) => p.name) });
      // Services seen while no valid config existed were left waiting: serve them now.
      for (const service of this.services.list()) this.queue.add(serviceKey(service));
      return;
    }
    const invalidated = this.allocator.setConfig(verdict.config);
    log.info('config changed', { pools: verdict.config.pools.map((p) => p.name), invalidated: invalidated.length });
    for (const dropped of invalidated) {
      this.droppedBecause.set(dropped.key, dropped.reason);
      this.queue.add(dropped.key);
    }
    for (const key of this.failing) this.queue.add(key);
  }

  /** Records the addresses Services already show, oldest Service first, so a restart moves nothing. */
  private restore(allocator: Allocator): void {
    const withStatus = this.services
      .list()
      .filter((s) => isServed(s, this.options.loadBalancerClass) && statusIps(s).length > 0)
      .sort((a, b) => createdAt(a) - createdAt(b) || serviceKey(a).localeCompare(serviceKey(b)));
    let restored = 0;
    for (const service of withStatus) {
      const why = allocator.restore(serviceRequest(service, this.namespaceLabels(service)), statusIps(service));
      if (why === undefined) restored++;
      else {
        this.droppedBecause.set(serviceKey(service), why);
        this.options.log.warn('cannot keep a Service\'s address', { service: serviceKey(service), ips: statusIps(service), why });
      }
    }
    this.options.log.info('allocations restored from Service status', { restored, refused: withStatus.length - restored });
  }

  private mayWrite(): boolean {
    return this.options.mayWrite?.() ?? true;
  }

  private namespaceLabels(service: ServiceObject): Record<string, string> {
    return this.namespaces.get(service.metadata?.namespace ?? '')?.metadata?.labels ?? {};
  }

  private async reconcile(key: string, queuedAt: number): Promise<void> {
    if (!this.ready) return;
    const slash = key.indexOf('/');
    const service = this.services.get(key.slice(slash + 1), key.slice(0, slash));
    let decision: Decision;
    let subject: ServiceObject | undefined = service;
    if (service === undefined) {
      decision = decideDeleted(key, this.allocator);
      subject = this.lastSeen.get(key);
      this.lastSeen.delete(key);
      this.failing.delete(key);
    } else {
      decision = decideService({
        service,
        namespaceLabels: this.namespaceLabels(service),
        loadBalancerClass: this.options.loadBalancerClass,
        allocator: this.allocator,
        droppedBecause: this.droppedBecause.get(key),
      });
      if (decision.outcome === 'failed') this.failing.add(key);
      else this.failing.delete(key);
      if (decision.outcome !== 'failed' && decision.outcome !== 'waiting-for-config') this.droppedBecause.delete(key);
    }
    this.account(key, decision);
    if (decision.freed) for (const other of this.failing) if (other !== key) this.queue.add(other);
    // Status first: it is what users and speakers wait for; Events follow.
    if (service !== undefined) {
      await this.write(service, decision);
      if (decision.outcome === 'allocated' || decision.outcome === 'changed') {
        this.options.metrics.allocationLatency.observe((performance.now() - queuedAt) / 1000);
      }
    }
    if (subject !== undefined) await Promise.all(decision.events.map((intent) => this.recordAbout(subject, intent)));
  }

  private account(key: string, decision: Decision): void {
    const { metrics, log } = this.options;
    metrics.servicesFailing.set(this.failing.size);
    if (decision.outcome === 'ignored' || decision.outcome === 'unchanged' || decision.outcome === 'waiting-for-config') return;
    metrics.allocations.inc({ outcome: decision.outcome });
    const desired = decision.desired.kind === 'set' ? { ips: decision.desired.ips, pool: decision.desired.pool } : {};
    const level = decision.outcome === 'failed' ? 'warn' : 'info';
    log[level](`service ${decision.outcome}`, { service: key, ...desired, events: decision.events.map((e) => e.note) });
  }

  private recordAbout(service: ServiceObject, intent: EventIntent): Promise<void> {
    const subject: EventSubject = {
      apiVersion: 'v1',
      kind: 'Service',
      namespace: service.metadata?.namespace ?? 'default',
      name: service.metadata?.name ?? '',
      uid: service.metadata?.uid,
    };
    if (!this.mayWrite()) return Promise.reject(new NotLeading());
    return this.options.events.record(subject, intent);
  }

  /** Writes what differs: status (addresses and condition, in one patch) first, then the pool annotation. */
  private async write(service: ServiceObject, decision: Decision): Promise<void> {
    if (!this.ready) return;
    const { desired } = decision;
    const namespace = service.metadata?.namespace ?? 'default';
    const name = service.metadata?.name ?? '';
    const current = statusIps(service);
    const annotated = service.metadata?.annotations?.[allocatedPoolAnnotation];
    let ips: readonly string[] | undefined;
    let pool: { value: string | undefined } | undefined;
    if (desired.kind === 'set') {
      const same = current.length === desired.ips.length && current.every((ip, i) => ip === desired.ips[i]) && statusHasVipMode(service);
      if (!same) ips = desired.ips;
      if (annotated !== desired.pool) pool = { value: desired.pool };
    } else if (desired.kind === 'clear') {
      if (current.length > 0) ips = [];
      if (annotated !== undefined) pool = { value: undefined };
    }
    const now = (this.options.wallClock ?? (() => new Date()))();
    const generation = service.metadata?.generation;
    const conditions = (list: readonly ServiceCondition[] | undefined): ServiceCondition[] | undefined => applyConditionChange(list, decision.condition, generation, now);
    const conditionChanges = conditions(service.status?.conditions) !== undefined;
    if (ips === undefined && !conditionChanges && pool === undefined) return;
    if (!this.mayWrite()) throw new NotLeading();
    try {
      const base = { resourceVersion: service.metadata?.resourceVersion, conditions: service.status?.conditions };
      if (ips !== undefined || conditionChanges) {
        if (await patchServiceStatus(this.options.rest, namespace, name, base, { ips, conditions })) this.options.metrics.apiWrites.inc({ kind: 'status' });
      }
      if (pool !== undefined) await this.options.status.setPoolAnnotation(namespace, name, pool.value);
    } catch (error) {
      // A Service deleted meanwhile needs nothing; its deletion is queued.
      if (statusOf(error) === 404) return;
      throw error;
    }
  }
}
