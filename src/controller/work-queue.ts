// A queue of keys to reconcile: a key queued many times is handled once, never two at a
// time, and up to `concurrency` different keys run at once. A key queued while it runs is
// handled again afterwards; a failure is retried after a growing delay.

/** Options of a {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Keys handled at the same time. */
  readonly concurrency: number;
  /** First retry delay after a failure (ms). */
  readonly initialRetryMs: number;
  /** Longest retry delay (ms). */
  readonly maxRetryMs: number;
  /** Told about each failure. */
  readonly onError: (key: string, error: unknown, retryInMs: number) => void;
  /** Monotonic clock in ms; performance.now when omitted. */
  readonly clock?: () => number;
}

/** Deduplicating, per-key exclusive work queue. */
export class WorkQueue {
  /** Keys waiting, each with when it was first queued (monotonic ms). */
  private readonly pending = new Map<string, number>();
  /** Keys running, each with when its run began (monotonic ms). */
  private readonly running = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  /** Creates a queue that runs `handle` for each key, telling it when the key was first queued. */
  constructor(private readonly handle: (key: string, queuedAt: number) => Promise<void>, private readonly options: WorkQueueOptions) {}

  /** Queues a key. */
  add(key: string): void {
    if (this.stopped) return;
    if (!this.pending.has(key)) this.pending.set(key, this.now());
    this.pump();
  }

  /** Number of keys queued or running. */
  get size(): number {
    return this.pending.size + this.running.size;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** When the longest-running key began (monotonic ms), or undefined when none runs; for /healthz. */
  oldestRunningSince(): number | undefined {
    let oldest: number | undefined;
    for (const since of this.running.values()) if (oldest === undefined || since < oldest) oldest = since;
    return oldest;
  }

  /** Drops everything queued and cancels retries; running keys finish. */
  stop(): void {
    this.stopped = true;
    this.pending.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private pump(): void {
    for (const [key, queuedAt] of this.pending) {
      if (this.running.size >= this.options.concurrency) break;
      if (this.running.has(key)) continue;
      this.pending.delete(key);
      this.running.set(key, this.now());
      void this.run(key, queuedAt);
    }
    if (this.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private now(): number {
    return this.options.clock?.() ?? performance.now();
  }

  private async run(key: string, queuedAt: number): Promise<void> {
    try {
      await this.handle(key, queuedAt);
      this.failures.delete(key);
    } catch (error) {
      const count = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, count);
      const delay = Math.min(this.options.maxRetryMs, this.options.initialRetryMs * 2 ** Math.min(count - 1, 20));
      this.options.onError(key, error, delay);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.add(key);
      }, delay);
      this.timers.add(timer);
    } finally {
      this.running.delete(key);
      this.pump();
    }
  }
}
