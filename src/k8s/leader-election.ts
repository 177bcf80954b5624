// The controller's leader election: read → create on 404 → replace with resourceVersion; a
// 409 means someone else won. What to do with the Lease just read, what to write and when
// another holder's Lease has expired are the shared core's (src/k8s/lease-election.ts): it
// counts as expired only when its record has not changed for a whole lease duration on OUR
// monotonic clock. This adds the loop, the renew deadline and the callbacks.
import { LeaseConflict, microTime, type Lease, type LeaseClient, type LeaseSpec } from './lease-client.js';
import { decide, leaseRecordFrom, nextSpec, observe, releasedSpec, validateTimings, type ElectionTimings, type LeaseRecord, type Observation } from './lease-election.js';

/** Timings and callbacks of a {@link LeaderElector}. */
export interface LeaderElectorOptions {
  /** This candidate's identity, written as holderIdentity (e.g. the Pod name). */
  readonly identity: string;
  /** How long a lease is valid without renewal (ms). */
  readonly leaseDurationMs: number;
  /** The leader gives up when it could not renew for this long (ms); below leaseDurationMs. */
  readonly renewDeadlineMs: number;
  /** Pause between attempts to acquire or renew (ms). */
  readonly retryPeriodMs: number;
  /** Called once when this candidate becomes leader. */
  readonly onStartedLeading: () => void;
  /** Called once when it stops leading (lost the lease, or stop() released it). */
  readonly onStoppedLeading: (why: string) => void;
  /** Called when the observed holder changes (including to this candidate). */
  readonly onNewLeader?: (identity: string) => void;
  /** Called on an error talking to the API (the elector keeps trying). */
  readonly onError?: (error: unknown) => void;
  /** Monotonic clock in ms; performance.now when omitted (tests pass a fake one). */
  readonly monotonicNow?: () => number;
  /** Wall clock, only to write renewTime/acquireTime for humans; Date when omitted. */
  readonly wallNow?: () => Date;
}

/** Campaigns for a Lease and keeps renewing it while leading. */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private observation: Observation | undefined;
  private observedHolder = '';
  private lastRenewAt = 0;
  private current: LeaseRecord | undefined;
  private readonly timings: ElectionTimings;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly wallNow: () => Date;

  /** Creates an elector; call start(). */
  constructor(private readonly client: LeaseClient, private readonly options: LeaderElectorOptions) {
    this.timings = validateTimings({ leaseDurationMs: options.leaseDurationMs, renewDeadlineMs: options.renewDeadlineMs, retryPeriodMs: options.retryPeriodMs });
    this.now = options.monotonicNow ?? (() => performance.now());
    this.wallNow = options.wallNow ?? (() => new Date());
  }

  /** Whether this candidate currently leads. */
  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Whether this candidate leads AND renewed the Lease within the renew deadline, by the
   * local monotonic clock. Check it right before each write: after a long pause (a frozen
   * process, a partition) it turns false at once, before the renew loop has noticed.
   */
  holdsLease(): boolean {
    return this.leading && this.now() - this.lastRenewAt < this.options.renewDeadlineMs;
  }

  /** Starts campaigning in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.release();
      this.options.onStoppedLeading('stopped');
    }
  }

  /** One attempt to acquire or renew; resolves with whether this candidate holds the Lease. Exposed for tests. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const read = await this.client.get();
    const now = this.now();
    const lease = read === undefined ? undefined : this.observe(read, now);
    const decision = decide(lease, this.observation, this.options.identity, now);
    if (decision.kind === 'wait') return false;
    const spec = nextSpec(lease, this.options.identity, this.timings, microTime(this.wallNow())) as LeaseSpec;
    try {
      this.observe(decision.kind === 'create' ? await this.client.create(spec) : await this.client.replace(lease?.resourceVersion ?? '', spec), now);
      return true;
    } catch (error) {
      if (error instanceof LeaseConflict) return false;
      throw error;
    }
  }

  /** Records a Lease we saw (the expiry clock restarts whenever its record changes) and reports a new holder. */
  private observe(read: Lease, now: number): LeaseRecord {
    const lease = leaseRecordFrom(read) ?? { resourceVersion: '', holder: '', durationSeconds: 1, renewTime: '', acquireTime: '', transitions: 0 };
    this.current = lease;
    this.observation = observe(this.observation, lease, now);
    if (lease.holder !== this.observedHolder) {
      this.observedHolder = lease.holder;
      if (lease.holder !== '') this.options.onNewLeader?.(lease.holder);
    }
    return lease;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let held = false;
      const started = this.now();
      try {
        held = await withTimeout(this.tryAcquireOrRenew(), this.options.renewDeadlineMs);
      } catch (error) {
        this.options.onError?.(error);
      }
      if (this.stopped) break;
      if (held) {
        this.lastRenewAt = started;
        if (!this.leading) {
          this.leading = true;
          this.options.onStartedLeading();
        }
      } else if (this.leading && (this.now() - this.lastRenewAt >= this.options.renewDeadlineMs || this.observedHolder !== this.options.identity)) {
        this.leading = false;
        this.options.onStoppedLeading(`could not renew the Lease within ${this.options.renewDeadlineMs} ms`);
        // A deposed leader does not campaign again: its owner restarts it with a clean state.
        this.stopped = true;
        break;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.retryPeriodMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async release(): Promise<void> {
    const lease = this.current;
    if (lease?.holder !== this.options.identity) return;
    try {
      await this.client.replace(lease.resourceVersion, releasedSpec(lease, microTime(this.wallNow())));
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Lease request took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
