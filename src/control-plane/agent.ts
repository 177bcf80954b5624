// The control-plane agent (`vipcast control-plane`): campaigns for the Lease only while the
// local API server answers /readyz, holds the VIP only while it leads, and lets it go the
// moment it stops leading, its API server turns unhealthy, or it is stopped. Decisions are the
// pure functions of election.ts; this file owns the timers, the requests and the ordering
// rules that keep two nodes from holding the VIP at once (ADR 0012):
//   - the VIP goes before the Lease is released, and comes after the Lease is won;
//   - a holder drops the VIP when its last successful renewal started renewDeadline ago;
//   - the address carries a kernel lifetime shorter than the lease, refreshed at each renewal.
// A cordoned node (kubectl cordon or drain) hands the VIP to a healthy peer while everything
// still works, so that the reboot that usually follows moves nothing.
import { ApiClient, formatTarget, type ApiTarget } from './api-client.js';
import { CredentialChooser, readKubeconfigCredentials } from './credentials.js';
import { decide, leaseRecordFrom, mustLetGo, nextSpec, observe, releasedSpec, type ElectionTimings, type LeaseRecord, type Observation } from '../k8s/lease-election.js';
import { apiServerPeers, createLease, getLease, isReady, leaseWatchPath, mayUpdateLease, replaceLease, type LeaseRef, type LeaseResult } from './lease-api.js';
import type { VipHolder } from './vip-holder.js';
import { microTime } from '../k8s/lease-client.js';
import type { Logger } from '../log.js';
import type { ControlPlaneCounts, ControlPlaneState } from './metrics.js';

/** Everything the agent needs; the CLI fills it from flags. */
export interface AgentOptions {
  /** This node's name in the Lease. */
  readonly identity: string;
  /** The local API server (never the VIP). */
  readonly local: ApiTarget;
  /** The name the API server certificates must carry. */
  readonly serverName: string;
  /** The Lease. */
  readonly lease: LeaseRef;
  readonly timings: ElectionTimings;
  /** Time between /readyz probes (ms). */
  readonly healthIntervalMs: number;
  /** Consecutive failed probes that make the local API server unhealthy. */
  readonly healthFailures: number;
  /** Timeout of each API request (ms); below the renew deadline. */
  readonly requestTimeoutMs: number;
  /** kubeconfig of the normal credential (kubeadm's admin.conf). */
  readonly kubeconfig: string;
  /** kubeconfig used only while the normal one is refused during kubeadm init (super-admin.conf). */
  readonly bootstrapKubeconfig: string | undefined;
  readonly holder: VipHolder;
  /** Whether a cordoned node gives the VIP to another control plane (true) or keeps it. */
  readonly handOverWhenCordoned: boolean;
  readonly log: Logger;
  /** Monotonic clock (ms); performance.now by default. */
  readonly now?: () => number;
}

const FIELD_MANAGER = 'vipcast-control-plane';
const PEER_REFRESH_MS = 10_000;
const ACCESS_REVIEW_MS = 1000;
/** After its node is cordoned, how long the agent leaves a free Lease to the others before it takes it back itself. */
export const CORDON_GRACE_MS = 2000;
/** Pause between release attempts while no API server accepts one (etcd electing a leader). */
const RELEASE_RETRY_MS = 200;

/** Runs the election, the health probe and the Lease watch until stop(). */
export class ControlPlaneAgent {
  private stopped = false;
  private healthy = false;
  private failures = 0;
  private leading = false;
  private lastRenewStartMs = 0;
  private lastLease: LeaseRecord | undefined;
  private observation: Observation | undefined;
  private peers: ApiTarget[] = [];
  private peersAt = -Infinity;
  private reviewAt = -Infinity;
  private refusalLogged = false;
  private readonly chooser = new CredentialChooser();
  private admin: ApiClient | undefined;
  private bootstrap: ApiClient | undefined;
  private wakeElection: (() => void) | undefined;
  private abortWatch: (() => void) | undefined;
  private abortNodeWatch: (() => void) | undefined;
  private cordoned = false;
  /** Until when (monotonic ms) a free Lease is left to the others, after a cordon. */
  private standAsideUntilMs = -Infinity;
  private readonly counts = { takeovers: 0, letGo: 0, released: 0, releaseFailed: 0, leaseRequestFailures: 0 } satisfies ControlPlaneCounts;
  private readonly timers: NodeJS.Timeout[] = [];
  private loops: Promise<void>[] = [];
  private readonly now: () => number;

  constructor(private readonly options: AgentOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Whether this node leads (and, while healthy, holds the VIP). */
  get isLeader(): boolean {
    return this.leading;
  }

  /** What the metrics and /readyz report. */
  state(): ControlPlaneState {
    return { leading: this.leading, apiServerReady: this.healthy, cordoned: this.cordoned, counts: { ...this.counts } };
  }

  /** Starts the loops. */
  start(): void {
    if (this.options.holder.clearStale()) this.options.log.warn('removed a VIP left on the interface by an earlier run', { vip: this.options.holder.vip });
    this.timers.push(setInterval(() => this.enforceDeadline(), 50));
    this.loops = [this.healthLoop(), this.electionLoop(), this.watchLoop()];
    if (this.options.handOverWhenCordoned) this.loops.push(this.nodeLoop());
  }

  /** Stops: the VIP goes at once, then the Lease is released so a standby takes over immediately. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    const wasLeading = this.leading;
    this.letGo('stopping');
    this.wakeElection?.();
    this.abortWatch?.();
    this.abortNodeWatch?.();
    if (wasLeading) await this.release('stopping');
    await Promise.allSettled(this.loops);
    this.options.holder.close();
    this.admin?.close();
    this.bootstrap?.close();
  }

  // ---- credentials -------------------------------------------------------------------------

  private async client(): Promise<ApiClient | undefined> {
    const { kubeconfig, bootstrapKubeconfig, serverName } = this.options;
    if (this.chooser.current === 'bootstrap' && bootstrapKubeconfig !== undefined) {
      if (this.bootstrap === undefined) {
        const credentials = await readKubeconfigCredentials(bootstrapKubeconfig);
        if (credentials !== undefined) this.bootstrap = new ApiClient(credentials, serverName, FIELD_MANAGER);
      }
      return this.bootstrap;
    }
    if (this.admin === undefined) {
      const credentials = await readKubeconfigCredentials(kubeconfig);
      if (credentials !== undefined) this.admin = new ApiClient(credentials, serverName, FIELD_MANAGER);
    }
    return this.admin;
  }

  /** The normal credential was refused: fall back to the bootstrap one if the rule allows. */
  private async refused(status: number): Promise<void> {
    if (this.chooser.current !== 'admin') return;
    const path = this.options.bootstrapKubeconfig;
    const available = path !== undefined && (await readKubeconfigCredentials(path).catch(() => undefined)) !== undefined;
    const change = this.chooser.adminRefused(available);
    if (change.kind === 'use-bootstrap') {
      this.options.log.warn('the kubeconfig has no rights on the Lease yet (kubeadm init in progress?); using the bootstrap kubeconfig until it does', {
        status,
        kubeconfig: this.options.kubeconfig,
        bootstrapKubeconfig: path,
      });
      this.abortWatch?.();
    } else if (!this.refusalLogged) {
      this.refusalLogged = true;
      this.options.log.warn('refused by the API server; retrying until the kubeconfig is granted access to the Lease', { status, kubeconfig: this.options.kubeconfig });
    }
  }

  /** While on the bootstrap credential: once a second, ask whether the normal one may update the Lease now. */
  private async reviewAdmin(): Promise<void> {
    if (this.chooser.current !== 'bootstrap' || this.now() - this.reviewAt < ACCESS_REVIEW_MS) return;
    this.reviewAt = this.now();
    if (this.admin === undefined) {
      const credentials = await readKubeconfigCredentials(this.options.kubeconfig).catch(() => undefined);
      if (credentials === undefined) return;
      this.admin = new ApiClient(credentials, this.options.serverName, FIELD_MANAGER);
    }
    if ((await mayUpdateLease(this.admin, this.options.local, this.options.lease, this.options.requestTimeoutMs)) !== true) return;
    this.adminWorks();
  }

  private adminWorks(): void {
    const change = this.chooser.adminGranted();
    if (change.kind !== 'use-admin') return;
    this.bootstrap?.close();
    this.bootstrap = undefined;
    this.abortWatch?.();
    this.options.log.info('the kubeconfig has its rights now; the bootstrap kubeconfig is no longer used', { kubeconfig: this.options.kubeconfig });
  }

  // ---- health ------------------------------------------------------------------------------

  private async healthLoop(): Promise<void> {
    while (!this.stopped) {
      const client = await this.client().catch(() => undefined);
      const probe = client === undefined ? { ready: false, detail: 'no usable kubeconfig yet' } : await isReady(client, this.options.local, this.options.requestTimeoutMs);
      if (this.stopped) break;
      if (probe.ready) {
        this.failures = 0;
        if (!this.healthy) {
          this.healthy = true;
          this.options.log.info('local API server ready', { server: formatTarget(this.options.local) });
          this.wakeElection?.();
        }
      } else if (++this.failures >= this.options.healthFailures && (this.healthy || this.failures === this.options.healthFailures)) {
        const was = this.healthy;
        this.healthy = false;
        this.options.log.warn('local API server not ready', { server: formatTarget(this.options.local), detail: probe.detail });
        if (was && this.leading) {
          this.letGo('local API server not ready');
          void this.release('local API server not ready');
        }
      }
      await sleep(this.options.healthIntervalMs);
    }
  }

  // ---- election ----------------------------------------------------------------------------

  private async electionLoop(): Promise<void> {
    while (!this.stopped) {
      let pauseMs = this.options.timings.retryPeriodMs;
      try {
        if (this.healthy) pauseMs = await this.electionRound();
      } catch (error) {
        this.options.log.warn('election round failed', { error: String(error) });
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pauseMs);
        this.wakeElection = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One read-decide-write round; returns how long to pause before the next. */
  private async electionRound(): Promise<number> {
    const { identity, local, lease: ref, timings, requestTimeoutMs, log } = this.options;
    await this.reviewAdmin();
    const client = await this.client();
    if (client === undefined) return timings.retryPeriodMs;
    await this.refreshPeers(client);
    const started = this.now();
    const read = await getLease(client, local, ref, requestTimeoutMs);
    if (!(await this.handled(read, 'read'))) return timings.retryPeriodMs;
    if (read.kind !== 'ok') return timings.retryPeriodMs;
    const lease = read.lease;
    if (lease !== undefined) this.observation = observe(this.observation, lease, this.now());
    const decision = decide(lease, this.observation, identity, this.now());
    if (decision.kind === 'wait') {
      if (this.leading) this.letGo(`the Lease is held by ${decision.holder}`);
      this.lastLease = lease;
      return Math.min(timings.retryPeriodMs, Math.max(10, decision.expiresInMs + 10));
    }
    if (!this.healthy || this.stopped) return timings.retryPeriodMs;
    // Cordoned a moment ago: neither renew nor take it, so a peer does (a release still in flight may fail).
    if (this.now() < this.standAsideUntilMs) return timings.retryPeriodMs;
    const spec = nextSpec(lease, identity, timings, microTime(new Date()));
    const written =
      lease === undefined
        ? await createLease(client, local, ref, spec, requestTimeoutMs)
        : await replaceLease(client, local, ref, lease.resourceVersion, spec, requestTimeoutMs);
    if (!(await this.handled(written, 'write'))) return timings.retryPeriodMs;
    if (written.kind === 'conflict') {
      if (this.leading) this.letGo('lost a write race for the Lease');
      return 0;
    }
    if (written.kind !== 'ok' || written.lease === undefined) return timings.retryPeriodMs;
    // A write the normal credential was allowed to make settles the bootstrap question for good.
    if (client === this.admin && this.chooser.current === 'admin') this.adminWorks();
    this.lastLease = written.lease;
    this.observation = observe(this.observation, written.lease, this.now());
    this.lastRenewStartMs = started;
    if (!this.healthy || this.stopped || mustLetGo(started, this.now(), timings)) return timings.retryPeriodMs;
    const taking = !this.leading;
    this.leading = true;
    try {
      this.options.holder.hold();
    } catch (error) {
      log.error('cannot put the VIP on the interface', { error: String(error) });
      this.letGo('cannot add the address');
      void this.release('cannot add the address');
      return timings.retryPeriodMs;
    }
    if (taking) this.counts.takeovers++;
    if (taking) log.info('leading: VIP added and announced', { vip: this.options.holder.vip, interface: this.options.holder.interfaceName, from: decision.kind === 'acquire' ? decision.from : '' });
    return timings.retryPeriodMs;
  }

  /** Logs errors and handles refusals; returns false when the round should end. */
  private async handled(result: LeaseResult, what: string): Promise<boolean> {
    if (result.kind === 'refused' || result.kind === 'error') this.counts.leaseRequestFailures++;
    if (result.kind === 'refused') {
      await this.refused(result.status);
      return false;
    }
    if (result.kind === 'error') {
      this.options.log.warn(`cannot ${what} the Lease`, { error: result.message });
      return false;
    }
    return true;
  }

  /** Drops the VIP once the last renewal is too old (runs every 50 ms, whatever the requests do). */
  private enforceDeadline(): void {
    if (this.leading && mustLetGo(this.lastRenewStartMs, this.now(), this.options.timings)) {
      this.letGo(`could not renew the Lease within ${this.options.timings.renewDeadlineMs} ms`);
    }
  }

  /** Stops leading and removes the VIP (idempotent). */
  private letGo(why: string): void {
    const wasLeading = this.leading;
    this.leading = false;
    let dropped = false;
    try {
      dropped = this.options.holder.drop();
    } catch (error) {
      this.options.log.error('cannot remove the VIP from the interface', { error: String(error) });
    }
    if (wasLeading) this.counts.letGo++;
    if (wasLeading || dropped) this.options.log.info('not leading: VIP removed', { vip: this.options.holder.vip, why });
  }

  /**
   * Gives the Lease up (holder "") so a standby takes it at once. Sent to the local API server
   * and every known peer together, since the local one may be the reason for letting go, and
   * sent again while none accepts it (on a node shutting down, etcd may be choosing a new
   * leader) until the Lease would have expired anyway.
   */
  private async release(why: string): Promise<void> {
    const client = this.chooser.current === 'bootstrap' ? this.bootstrap : this.admin;
    let lease = this.lastLease;
    const { identity, lease: ref, requestTimeoutMs, timings, log } = this.options;
    if (client === undefined || lease === undefined || lease.holder !== identity) return;
    const targets = [this.options.local, ...this.peers.filter((p) => formatTarget(p) !== formatTarget(this.options.local))];
    const giveUpAt = this.now() + timings.leaseDurationMs;
    let attempts = 0;
    while (lease?.holder === identity && this.now() < giveUpAt) {
      attempts++;
      const current: LeaseRecord = lease;
      const spec = releasedSpec(current, microTime(new Date()));
      const results = await firstOk(targets.map((target) => replaceLease(client, target, ref, current.resourceVersion, spec, requestTimeoutMs)));
      if (results.ok !== undefined) {
        this.counts.released++;
        log.info('Lease released', { why, via: formatTarget(targets[results.ok] ?? { host: '?', port: 0 }), attempts });
        return;
      }
      if (results.all.some((r) => r.kind === 'conflict')) {
        // Our own renewal may have landed first: read again, and go on only while it is still ours.
        const read = await firstOk(targets.map((target) => getLease(client, target, ref, requestTimeoutMs)));
        const fresh = read.ok === undefined ? undefined : read.all[read.ok];
        if (fresh?.kind === 'ok') {
          lease = fresh.lease;
          continue;
        }
      }
      await sleep(RELEASE_RETRY_MS);
    }
    if (lease?.holder === identity) {
      this.counts.releaseFailed++;
      log.warn('could not release the Lease; standbys wait for it to expire', { why, attempts });
    }
  }

  private async refreshPeers(client: ApiClient): Promise<void> {
    if (this.now() - this.peersAt < PEER_REFRESH_MS) return;
    this.peersAt = this.now();
    const peers = await apiServerPeers(client, this.options.local, this.options.requestTimeoutMs);
    if (peers !== undefined) this.peers = peers;
  }

  // ---- cordon ------------------------------------------------------------------------------

  /**
   * Watches this node's Node object on the local API server. When it is cordoned and another
   * API server is known, the holder lets the VIP go and releases the Lease, and for
   * CORDON_GRACE_MS the agent takes no free Lease, so a healthy peer does; if none has by
   * then, this node takes it back rather than leave the VIP dark.
   */
  private nodeLoop(): Promise<void> {
    let refusedLogged = false;
    const path = `/api/v1/nodes?watch=1&fieldSelector=${encodeURIComponent(`metadata.name=${this.options.identity}`)}`;
    const onEvent = (event: unknown): void => {
      const { type, object } = (event ?? {}) as { type?: unknown; object?: { spec?: { unschedulable?: unknown } } };
      if (type === 'ERROR' || object === undefined) return;
      this.setCordoned(object.spec?.unschedulable === true);
    };
    const ended = (error: unknown): void => {
      if (refusedLogged || !/→ 40[13]/.test(String(error))) return;
      refusedLogged = true;
      this.options.log.warn('cannot watch this node; a cordon will not hand the VIP over', { node: this.options.identity, error: String(error) });
    };
    return this.watchLocal(path, onEvent, (abort) => (this.abortNodeWatch = abort), 1000, ended);
  }

  private setCordoned(cordoned: boolean): void {
    if (cordoned === this.cordoned) return;
    this.cordoned = cordoned;
    if (!cordoned) {
      this.standAsideUntilMs = -Infinity;
      this.options.log.info('node uncordoned', { node: this.options.identity });
      return;
    }
    // The `kubernetes` Endpoints list every API server, this node's own among them: with no
    // other, nobody could take the VIP, and handing it over would only make the API go dark.
    if (this.peers.length < 2) {
      this.options.log.info('node cordoned, but no other API server is known: keeping the VIP', { node: this.options.identity, apiServers: this.peers.map(formatTarget) });
      return;
    }
    this.standAsideUntilMs = this.now() + CORDON_GRACE_MS;
    const leading = this.leading;
    this.options.log.info(leading ? 'node cordoned: handing the VIP to another control plane' : 'node cordoned: leaving the VIP to the other control planes', { node: this.options.identity });
    if (leading) {
      this.letGo('node cordoned');
      void this.release('node cordoned');
    }
  }

  // ---- watch -------------------------------------------------------------------------------

  /** Watches the Lease on the local API server so a release wakes the election at once. */
  private watchLoop(): Promise<void> {
    const onEvent = (event: unknown): void => {
      const record = leaseRecordFrom((event as { object?: unknown } | undefined)?.object);
      if (record === undefined) return;
      // Each renewal is seen when it is made, not at the next read: a holder that vanished
      // expires a lease duration after its last renewal, up to a retry period sooner.
      this.observation = observe(this.observation, record, this.now());
      // Wake for a release (anyone may take it now) or, while leading, for a new holder.
      if (record.holder === '' || (this.leading && record.holder !== this.options.identity)) this.wakeElection?.();
    };
    return this.watchLocal(leaseWatchPath(this.options.lease), onEvent, (abort) => (this.abortWatch = abort), 500);
  }

  /**
   * Watches `path` on the local API server while it is healthy, and again `pauseMs` after each
   * end until stop(); `setAbort` holds the running watch's abort (undefined between watches)
   * and `ended` hears why a watch failed.
   */
  private async watchLocal(path: string, onEvent: (event: unknown) => void, setAbort: (abort: (() => void) | undefined) => void, pauseMs: number, ended?: (error: unknown) => void): Promise<void> {
    while (!this.stopped) {
      const client = this.healthy ? await this.client().catch(() => undefined) : undefined;
      if (client !== undefined) {
        const watch = client.stream(this.options.local, path, onEvent);
        setAbort(watch.abort);
        await watch.done.catch((error: unknown) => ended?.(error));
        setAbort(undefined);
      }
      if (!this.stopped) await sleep(client === undefined ? this.options.healthIntervalMs : pauseMs);
    }
  }
}

/**
 * The first result that is `ok` (its index) as soon as there is one, else every result once
 * all have settled.
 */
function firstOk(pending: readonly Promise<LeaseResult>[]): Promise<{ ok: number | undefined; all: LeaseResult[] }> {
  return new Promise((resolve) => {
    const all: LeaseResult[] = [];
    let left = pending.length;
    if (left === 0) resolve({ ok: undefined, all });
    pending.forEach((p, i) => {
      void p.then((result) => {
        all[i] = result;
        if (result.kind === 'ok') resolve({ ok: i, all });
        if (--left === 0) resolve({ ok: undefined, all });
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
