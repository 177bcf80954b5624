// What /healthz reports, for the controller and the speaker: a set of named checks, each
// judged at a monotonic time passed in, so tests drive the clock. A liveness failure gets
// the container restarted, so checks fail only for wedges a restart cures — an informer
// whose restart never comes or whose watch went silent, work that never finishes, an event
// loop that stays far behind — and never merely because the API server is unreachable:
// restarting then would only throw away caches (and the speaker's BGP routes) that cannot
// be refilled until the API server is back.
import type { InformerHealth } from '../k8s/informer.js';
import { statusOf, type KubeRest } from '../k8s/rest.js';

/** One check's verdict, as the /healthz body shows it. */
export interface CheckVerdict {
  /** Whether the check passes. */
  readonly ok: boolean;
  /** What it saw, in a sentence: the reason when it fails. */
  readonly message: string;
}

/** A check judged at monotonic time `now` (ms). */
export type HealthCheck = (now: number) => CheckVerdict;

/** The /healthz answer: healthy when every check passes. */
export interface HealthReport {
  /** Whether every check passes. */
  readonly ok: boolean;
  /** Each check's verdict by name. */
  readonly checks: Readonly<Record<string, CheckVerdict>>;
}

/** Runs every check at `now`; a check that throws fails with its error as the message. */
export function evaluateHealth(checks: Readonly<Record<string, HealthCheck>>, now: number): HealthReport {
  const verdicts: Record<string, CheckVerdict> = {};
  for (const [name, check] of Object.entries(checks)) {
    try {
      verdicts[name] = check(now);
    } catch (error) {
      verdicts[name] = { ok: false, message: `the check failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
  return { ok: Object.values(verdicts).every((v) => v.ok), checks: verdicts };
}

/** Limits for {@link judgeInformer}. */
export interface InformerLimits {
  /** A pending restart this much past its due time means the restart loop is stuck. */
  readonly restartOverdueMs: number;
  /**
   * Failing this long while the API server answers other requests means the informer is
   * wedged; undefined never fails for errors alone.
   */
  readonly failingMs?: number | undefined;
  /** Apply `failingMs` only to informers that never synced (a synced cache keeps serving). */
  readonly failingOnlyBeforeSync?: boolean | undefined;
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

/** Judges one informer at `now`; `apiAnswering` says whether the API server answers other requests. */
export function judgeInformer(informer: InformerHealth, now: number, limits: InformerLimits, apiAnswering: boolean): CheckVerdict {
  const { name } = informer;
  if (informer.restartDueAt !== undefined) {
    const late = now - informer.restartDueAt;
    if (late > limits.restartOverdueMs) return { ok: false, message: `${name}: its restart after an error is ${seconds(late)} overdue` };
  } else if (now - informer.lastProgressAt > informer.maxQuietMs) {
    return { ok: false, message: `${name}: no list, watch or event for ${seconds(now - informer.lastProgressAt)} (a live watch is renewed within ${seconds(informer.maxQuietMs)})` };
  }
  if (informer.failingSince !== undefined) {
    const failing = now - informer.failingSince;
    const applies = limits.failingMs !== undefined && (!limits.failingOnlyBeforeSync || !informer.synced);
    const last = informer.lastError === undefined ? '' : ` (${informer.lastError})`;
    if (applies && apiAnswering && limits.failingMs !== undefined && failing > limits.failingMs) {
      return { ok: false, message: `${name}: failing for ${seconds(failing)} while the API server answers${last}` };
    }
    return { ok: true, message: `${name}: retrying after errors for ${seconds(failing)}${last}` };
  }
  return { ok: true, message: `${name}: ${informer.synced ? 'synced' : 'listing'}, ${informer.lists} list(s), ${informer.restarts} restart(s)` };
}

/** A check over every informer `source` returns; it fails when any one fails. */
export function informersCheck(source: () => readonly InformerHealth[], limits: InformerLimits, apiAnswering: (now: number) => boolean): HealthCheck {
  return (now) => {
    const informers = source();
    if (informers.length === 0) return { ok: true, message: 'no informer running' };
    const answering = apiAnswering(now);
    const verdicts = informers.map((informer) => judgeInformer(informer, now, limits, answering));
    const failed = verdicts.filter((v) => !v.ok);
    return { ok: failed.length === 0, message: (failed.length > 0 ? failed : verdicts).map((v) => v.message).join('; ') };
  };
}

/** A check that fails while one piece of work has been running longer than `limitMs`. */
export function stuckWorkCheck(what: string, runningSince: () => number | undefined, limitMs: number): HealthCheck {
  return (now) => {
    const since = runningSince();
    if (since === undefined || now - since <= limitMs) return { ok: true, message: `no ${what} running longer than ${seconds(limitMs)}` };
    return { ok: false, message: `a ${what} has been running for ${seconds(now - since)}` };
  };
}

/** Limits for an {@link EventLoopLag}. */
export interface LagLimits {
  /** A tick this late counts as lagging. */
  readonly thresholdMs: number;
  /** Lagging on every tick for this long fails the check. */
  readonly sustainedMs: number;
}

/**
 * Event-loop lag measured by timer drift: how late each tick of a fixed-interval timer
 * fires. One long pause is over by the time it is measured and fails nothing (while it
 * lasts, /healthz cannot answer at all, and the kubelet's probe timeout acts on that);
 * a loop that stays behind on every tick for `sustainedMs` fails.
 */
export class EventLoopLag {
  private laggingSince: number | undefined;
  private lastLagMs = 0;
  private worstLagMs = 0;
  private timer: NodeJS.Timeout | undefined;

  /** Creates a tracker; call start() to sample with real timers, or record() to feed it. */
  constructor(private readonly limits: LagLimits) {}

  /** Records one tick that fired `lagMs` late at `now`. */
  record(lagMs: number, now: number): void {
    this.lastLagMs = lagMs;
    this.worstLagMs = Math.max(this.worstLagMs, lagMs);
    if (lagMs < this.limits.thresholdMs) this.laggingSince = undefined;
    else this.laggingSince ??= now;
  }

  /** The check: fails while every tick for `sustainedMs` was late. */
  readonly check: HealthCheck = (now) => {
    const lagging = this.laggingSince === undefined ? 0 : now - this.laggingSince;
    const detail = `last tick ${Math.round(this.lastLagMs)} ms late, worst ${Math.round(this.worstLagMs)} ms`;
    if (lagging >= this.limits.sustainedMs) return { ok: false, message: `the event loop has been over ${this.limits.thresholdMs} ms behind for ${seconds(lagging)}; ${detail}` };
    return { ok: true, message: detail };
  };

  /** Samples every `intervalMs` on `clock` until stop(); the timer does not keep the process alive. */
  start(clock: () => number, intervalMs: number): void {
    this.stop();
    let expected = clock() + intervalMs;
    const tick = (): void => {
      const now = clock();
      this.record(Math.max(0, now - expected), now);
      expected = now + intervalMs;
      this.timer = setTimeout(tick, intervalMs).unref();
    };
    this.timer = setTimeout(tick, intervalMs).unref();
  }

  /** Stops sampling. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Limits for a {@link RenewalWrites} check. */
export interface RenewalLimits {
  /** No write attempted (or one still in flight) for this long means the renewal loop is stuck. */
  readonly stalledMs: number;
  /** Writes refused by an answering API server for this long fail the check. */
  readonly refusedMs: number;
}

/**
 * The record of a periodic write that must keep happening — the speaker's Lease renewal —
 * fed through {@link trackRequests}. It tells a server that refuses the writes (it answers:
 * 4xx such as 403 or 422) from one that cannot be reached (no answer, 408, 429, 5xx): only
 * the first, or a loop that stopped trying, fails the check.
 */
export class RenewalWrites {
  private attempts = 0;
  /** When a write was last sent or last ended. */
  private lastActivityAt: number | undefined;
  private lastSuccessAt: number | undefined;
  private refusedSince: number | undefined;
  private unreachableSince: number | undefined;
  private lastFailure: string | undefined;

  /** The failure last reported to `onChange`, until a write succeeds. */
  private reported: string | undefined;

  /**
   * Creates an empty record; `what` names the writes in messages. `onChange`, when given, hears
   * each new kind of failure once (not every retry) and the first success after failures, so a
   * refused or unreachable renewal is logged, never silent.
   */
  constructor(
    private readonly what: string,
    private readonly limits: RenewalLimits,
    private readonly onChange?: (change: { readonly failing: boolean; readonly message: string }) => void,
  ) {}

  /** A write was sent at `now`. */
  attempted(now: number): void {
    this.attempts++;
    this.lastActivityAt = now;
  }

  /** A write succeeded at `now`. */
  succeeded(now: number): void {
    this.lastActivityAt = now;
    this.lastSuccessAt = now;
    this.refusedSince = undefined;
    this.unreachableSince = undefined;
    if (this.reported !== undefined) this.onChange?.({ failing: false, message: `${this.what} succeeded again after: ${this.reported}` });
    this.reported = undefined;
  }

  /** A write failed at `now` with this HTTP status (0: no answer). */
  failed(now: number, status: number, message: string): void {
    this.lastActivityAt = now;
    this.lastFailure = status === 0 ? message : `${status}: ${message}`;
    if (answeredAndRefused(status)) this.refusedSince ??= now;
    else this.unreachableSince ??= now;
    // Timeouts differ only in their figures; report a kind of failure once.
    const kind = this.lastFailure.replace(/\d+/g, 'N');
    if (kind !== this.reported?.replace(/\d+/g, 'N')) {
      this.reported = this.lastFailure;
      this.onChange?.({ failing: true, message: `${this.what} failed: ${this.lastFailure}` });
    }
  }

  /** The check. */
  readonly check: HealthCheck = (now) => {
    if (this.lastActivityAt === undefined) return { ok: true, message: `no ${this.what} yet (they start once the caches are synced)` };
    const idle = now - this.lastActivityAt;
    if (idle > this.limits.stalledMs) return { ok: false, message: `no ${this.what} attempted or finished for ${seconds(idle)}: the renewal loop is stuck` };
    if (this.refusedSince !== undefined && now - this.refusedSince > this.limits.refusedMs) {
      return { ok: false, message: `the API server has refused every ${this.what} for ${seconds(now - this.refusedSince)} (last: ${this.lastFailure ?? '?'})` };
    }
    if (this.unreachableSince !== undefined) {
      return { ok: true, message: `the API server has not taken a ${this.what} for ${seconds(now - this.unreachableSince)} (last: ${this.lastFailure ?? '?'}); a restart would not help` };
    }
    const ago = this.lastSuccessAt === undefined ? 'never succeeded' : `last succeeded ${seconds(now - this.lastSuccessAt)} ago`;
    return { ok: true, message: `${this.attempts} ${this.what}(s), ${ago}` };
  };
}

/** Whether an HTTP status means the server is there and said no (as opposed to unavailable). */
function answeredAndRefused(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * A KubeRest whose requests are recorded in `writes`: the speaker's Lease loop, which between
 * two writes of a peer-quorum configuration reads its Lease to probe the API (ADR 0017).
 */
export function trackRequests(rest: KubeRest, writes: RenewalWrites, clock: () => number): KubeRest {
  const tracked = async <T>(send: () => Promise<T>): Promise<T> => {
    writes.attempted(clock());
    try {
      const answer = await send();
      writes.succeeded(clock());
      return answer;
    } catch (error) {
      // 404 is an answer the caller expects (our Lease does not exist yet, or was deleted), not a failure.
      if (statusOf(error) === 404) writes.succeeded(clock());
      else writes.failed(clock(), statusOf(error), error instanceof Error ? error.message : String(error));
      throw error;
    }
  };
  return {
    get: (path) => tracked(() => rest.get(path)),
    create: (path, body) => tracked(() => rest.create(path, body)),
    replace: (path, body) => tracked(() => rest.replace(path, body)),
    mergePatch: (path, body) => tracked(() => rest.mergePatch(path, body)),
  };
}

/** The limits both programs use, in ms; see docs/controller.md and docs/speaker.md. */
export const defaultHealthLimits = {
  /** A restart timer can only be this late if the process is wedged. */
  restartOverdueMs: 60_000,
  /** An informer failing this long while the API server answers is wedged. */
  informerFailingMs: 300_000,
  /** Event-loop sampling interval, lag threshold and how long lag must last. */
  lagIntervalMs: 1_000,
  lagThresholdMs: 2_000,
  lagSustainedMs: 30_000,
  /** No reconcile of one Service takes this long unless it hangs. */
  reconcileStuckMs: 120_000,
  /** The speaker Lease: no renewal attempt for this long, or refusals for this long. */
  leaseStalledMs: 30_000,
  leaseRefusedMs: 60_000,
} as const;
