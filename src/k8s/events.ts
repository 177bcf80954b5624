// Writes events.k8s.io/v1 Events about objects, deduplicated: the same reason and note
// about the same object within a window becomes one Event whose `series` count is patched
// at most once per interval, instead of a new object per occurrence. Writes go out a few at a
// time: a burst (a node taking over 5,000 VIPs writes an Event for each) waits its turn
// instead of opening thousands of requests at once, and past a bound it is counted as dropped.
import { microTime } from './lease-client.js';
import type { KubeRest } from './rest.js';

/** The object an Event is about. */
export interface EventSubject {
  readonly apiVersion: string;
  readonly kind: string;
  /** '' for a cluster-scoped object such as a Node (its Events are written to `default`). */
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string | undefined;
}

/** One Event to record. */
export interface EventIntent {
  /** `Normal` or `Warning`. */
  readonly type: 'Normal' | 'Warning';
  /** CamelCase reason, e.g. `IPAllocated`. */
  readonly reason: string;
  /** Human-readable text; cut to the API's 1 kB limit. */
  readonly note: string;
  /** What the controller did or tried, e.g. `Allocate`. */
  readonly action: string;
}

/** Options of an {@link EventRecorder}. */
export interface EventRecorderOptions {
  /** `reportingController`, e.g. `vipcast.io/controller`. */
  readonly controller: string;
  /** `reportingInstance`, e.g. the Pod name. */
  readonly instance: string;
  /** Identical Events within this many ms are merged into one series; 10 minutes when omitted. */
  readonly windowMs?: number;
  /** A series' count is patched at most this often (ms); 30 s when omitted. */
  readonly patchIntervalMs?: number;
  /** Called after every API write, for metrics. */
  readonly onWrite?: (kind: 'create' | 'patch') => void;
  /** Called when a write fails (Events are best effort and never retried). */
  readonly onError?: (error: unknown, intent: EventIntent) => void;
  /** At most this many writes in flight; 4 when omitted. */
  readonly maxInFlight?: number;
  /** At most this many writes waiting for a turn; past it an Event is dropped. 10 000 when omitted. */
  readonly maxWaiting?: number;
  /** Called for each Event dropped because too many were waiting, for metrics and logs. */
  readonly onDropped?: (intent: EventIntent) => void;
  /** Monotonic clock in ms; performance.now when omitted. */
  readonly now?: () => number;
}

interface Series {
  readonly namespace: string;
  name: string | undefined;
  count: number;
  readonly firstAt: number;
  lastWrittenAt: number;
  writtenCount: number;
}

/** Maximum length of an Event's note accepted by the API server. */
export const maxNoteLength = 1024;

/** Records Events, merging repeats into series. */
export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly now: () => number;
  private sequence = 0;
  private inFlight = 0;
  private readonly waiting: ((go: boolean) => void)[] = [];
  private closed = false;

  /** Creates a recorder writing through `rest`. */
  constructor(private readonly rest: KubeRest, private readonly options: EventRecorderOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Records an Event about `subject`; resolves when written (or merged, or failed). */
  async record(subject: EventSubject, intent: EventIntent): Promise<void> {
    const note = truncate(intent.note);
    const key = `${subject.namespace}/${subject.kind}/${subject.name}/${subject.uid ?? ''}|${intent.type}|${intent.reason}|${note}`;
    const now = this.now();
    this.forgetOld(now);
    const existing = this.series.get(key);
    if (existing !== undefined) {
      existing.count++;
      if (existing.name === undefined || now - existing.lastWrittenAt < (this.options.patchIntervalMs ?? 30_000)) return;
      existing.lastWrittenAt = now;
      existing.writtenCount = existing.count;
      const path = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(existing.namespace)}/events/${encodeURIComponent(existing.name)}`;
      if (!(await this.turn(intent))) return;
      try {
        await this.rest.mergePatch(path, { series: { count: existing.count, lastObservedTime: microTime(new Date()) } });
        this.options.onWrite?.('patch');
      } catch (error) {
        this.options.onError?.(error, intent);
      } finally {
        this.done();
      }
      return;
    }
    // Events about cluster-scoped objects (a Node) live in `default`, as the kubelet's do.
    const namespace = subject.namespace === '' ? 'default' : subject.namespace;
    const entry: Series = { namespace, name: undefined, count: 1, firstAt: now, lastWrittenAt: now, writtenCount: 1 };
    this.series.set(key, entry);
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: this.eventName(subject.name), namespace },
      eventTime: microTime(new Date()),
      reportingController: this.options.controller,
      reportingInstance: this.options.instance,
      action: intent.action,
      reason: intent.reason,
      type: intent.type,
      note,
      regarding: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        namespace: subject.namespace,
        name: subject.name,
        ...(subject.uid === undefined ? {} : { uid: subject.uid }),
      },
    };
    if (!(await this.turn(intent))) {
      this.series.delete(key);
      return;
    }
    try {
      const created = await this.rest.create<{ metadata?: { name?: string } }>(
        `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`,
        body,
      );
      entry.name = created.metadata?.name;
      this.options.onWrite?.('create');
    } catch (error) {
      this.series.delete(key);
      this.options.onError?.(error, intent);
    } finally {
      this.done();
    }
  }

  /** Writes waiting for a turn now (for tests and status). */
  get backlog(): number {
    return this.waiting.length;
  }

  /**
   * Drops every write still waiting for a turn (each reported to onDropped) and refuses new
   * ones; the writes in flight finish. For shutdown: a backlog of thousands of Events must not
   * hold the process past its grace period.
   */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter(false);
  }

  /** Waits for a write slot; false (and reported) when too many writes wait already or the recorder is closed. */
  private async turn(intent: EventIntent): Promise<boolean> {
    if (!this.closed && this.inFlight < Math.max(1, this.options.maxInFlight ?? 4)) {
      this.inFlight++;
      return true;
    }
    // done() hands its slot straight to the first waiter, so inFlight is not touched here.
    const go = this.closed || this.waiting.length >= (this.options.maxWaiting ?? 10_000) ? false : await new Promise<boolean>((resolve) => this.waiting.push(resolve));
    if (!go) this.options.onDropped?.(intent);
    return go;
  }

  private done(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.inFlight--;
  }

  /**
   * A unique Event name: the subject's name, a dot and a hex suffix from the wall clock and
   * a counter (the API refuses a `generateName` ending in a dot, and names are subdomains).
   */
  private eventName(subject: string): string {
    this.sequence = (this.sequence + 1) % 0x10000;
    const suffix = `${Date.now().toString(16)}${this.sequence.toString(16).padStart(4, '0')}`;
    return `${subject.slice(0, 253 - suffix.length - 1).replace(/[.-]+$/, '')}.${suffix}`;
  }

  private forgetOld(now: number): void {
    const window = this.options.windowMs ?? 600_000;
    // Map iteration is in insertion order, so the oldest series come first.
    for (const [key, entry] of this.series) {
      if (now - entry.firstAt < window) break;
      this.series.delete(key);
    }
  }
}

function truncate(note: string): string {
  if (Buffer.byteLength(note) <= maxNoteLength) return note;
  let cut = note.slice(0, maxNoteLength - 20);
  while (Buffer.byteLength(cut) > maxNoteLength - 20) cut = cut.slice(0, -1);
  return `${cut} …(truncated)`;
}

/**
 * An onDropped for a program: counts every dropped Event (`count`, a metric) and logs a
 * warning at most once per `intervalMs` with how many were dropped since the last one.
 */
export function reportDroppedEvents(warn: (message: string, fields: Record<string, unknown>) => void, count: () => void, intervalMs = 30_000, now: () => number = () => performance.now()): (intent: EventIntent) => void {
  let unreported = 0;
  let reportedAt = Number.NEGATIVE_INFINITY;
  return (intent) => {
    count();
    unreported++;
    const at = now();
    if (at - reportedAt < intervalMs) return;
    warn('Events dropped: too many waiting to be written', { dropped: unreported, lastReason: intent.reason });
    unreported = 0;
    reportedAt = at;
  };
}
