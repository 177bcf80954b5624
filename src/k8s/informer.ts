// A cache of one kind of object kept current by list + watch (client-node's ListWatch).
// ListWatch relists on 410 Gone by itself; on any other error it stops, and this wrapper
// starts it again with exponential backoff. Cached objects carry no managedFields. Each
// informer also records when its loop last made progress, for /healthz.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeRest } from './rest.js';

/** What an informer reports; each callback receives the object as the server sent it. */
export interface InformerHandler<T> {
  /** An object appeared (on the first list, or later). */
  add(object: T): void;
  /** An object changed (a new resourceVersion). */
  update(object: T): void;
  /** An object went away (deleted, or missing from a relist). */
  delete(object: T): void;
}

/** Options of one {@link Informer}. */
export interface InformerOptions {
  /** Name used in logs and metrics, e.g. `services`. */
  readonly name: string;
  /** Collection path, e.g. `/api/v1/services` or `/api/v1/namespaces/x/configmaps`. */
  readonly path: string;
  /** Optional field selector, e.g. `metadata.name=vipcast-config`. */
  readonly fieldSelector?: string;
  /** First retry delay after an error in ms; 200 when omitted. */
  readonly initialBackoffMs?: number;
  /** Longest retry delay in ms; 30 000 when omitted. */
  readonly maxBackoffMs?: number;
  /**
   * Each watch asks the server to end it after a random time between this and twice this
   * (seconds), so a connection that died silently is replaced; 300 when omitted.
   */
  readonly watchTimeoutSeconds?: number;
  /** Told about each error before the restart is scheduled. */
  readonly onError?: (error: unknown, retryInMs: number) => void;
  /** Monotonic clock in ms for the health record; performance.now when omitted. */
  readonly clock?: () => number;
}

/** What an informer's list/watch loop is doing, as /healthz judges it. Times are monotonic ms. */
export interface InformerHealth {
  /** The informer's name, e.g. `services`. */
  readonly name: string;
  /** Whether the first list has completed. */
  readonly synced: boolean;
  /** Last sign that the loop is alive: a (re)connect, a list, an event, an error, a restart. */
  readonly lastProgressAt: number;
  /** When the pending restart after an error is due; undefined while none is pending. */
  readonly restartDueAt: number | undefined;
  /** When the current run of errors began (no list or event since); undefined while none failed. */
  readonly failingSince: number | undefined;
  /** The last error, as text. */
  readonly lastError: string | undefined;
  /** Longest a healthy loop goes without progress: the server ends each watch within this. */
  readonly maxQuietMs: number;
  /** Restarts after errors so far. */
  readonly restarts: number;
  /** Full lists so far. */
  readonly lists: number;
}

/** Extra time a healthy loop may need beyond its watch timeout: a reconnect, a slow list. */
const quietGraceMs = 180_000;


/** A list+watch cache of one resource that restarts after errors and says when it is synced. */
export class Informer<T extends object> {
  private readonly listWatch: ListWatch<KubernetesObject>;
  private stopped = true;
  private isSynced = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly syncedWaiters: (() => void)[] = [];
  private readonly clock: () => number;
  private readonly maxQuietMs: number;
  private lastProgressAt: number;
  private restartDueAt: number | undefined;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  /** Counts errors, so a start() can tell whether its own attempt failed. */
  private errorEpoch = 0;
  /** How many times the informer was restarted after an error. */
  restarts = 0;
  /** How many full lists were made: 1 after the first sync, more after each 410 Gone relist. */
  lists = 0;

  /** Creates a stopped informer; call start(). */
  constructor(kc: KubeConfig, rest: KubeRest, private readonly options: InformerOptions, handler: InformerHandler<T>) {
    this.clock = options.clock ?? (() => performance.now());
    this.lastProgressAt = this.clock();
    const query = options.fieldSelector === undefined ? '' : `?fieldSelector=${encodeURIComponent(options.fieldSelector)}`;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      const answer = await rest.get<KubernetesListObject<KubernetesObject>>(`${options.path}${query}`);
      this.failures = 0;
      this.lists++;
      this.succeeded();
      for (const item of answer.items) dropManagedFields(item);
      // ListWatch fills its cache synchronously after this promise resolves; by the next
      // macrotask the cache holds the whole list.
      setImmediate(() => this.markSynced());
      return answer;
    };
    // Bookmarks keep the resourceVersion current on quiet, filtered watches, so a restart
    // resumes instead of relisting; the timeout bounds how long a dead connection can hide.
    const timeout = options.watchTimeoutSeconds ?? 300;
    const watchSeconds = timeout + Math.floor(Math.random() * timeout);
    this.maxQuietMs = watchSeconds * 1000 + quietGraceMs;
    const watchPath = `${options.path}?allowWatchBookmarks=true&timeoutSeconds=${watchSeconds}`;
    this.listWatch = new ListWatch<KubernetesObject>(watchPath, new Watch(kc), list, false, undefined, options.fieldSelector);
    this.listWatch.on('add', (o) => {
      this.succeeded();
      handler.add(dropManagedFields(o) as T);
    });
    this.listWatch.on('update', (o) => {
      this.failures = 0;
      this.succeeded();
      handler.update(dropManagedFields(o) as T);
    });
    this.listWatch.on('delete', (o) => {
      this.succeeded();
      handler.delete(o as T);
    });
    this.listWatch.on('connect', () => (this.lastProgressAt = this.clock()));
    this.listWatch.on('error', (error) => this.failed(error));
  }

  /** Lists and starts watching. */
  start(): void {
    this.stopped = false;
    this.restartDueAt = undefined;
    this.lastProgressAt = this.clock();
    const epoch = this.errorEpoch;
    this.listWatch.start().then(
      // Resolved without an error of its own: the watch is open again.
      () => {
        if (epoch === this.errorEpoch && !this.stopped) this.succeeded();
      },
      (error: unknown) => this.failed(error),
    );
  }

  /** Stops watching and cancels any pending restart. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.restartDueAt = undefined;
    void this.listWatch.stop();
  }

  /** What the list/watch loop is doing now, for /healthz. */
  health(): InformerHealth {
    return {
      name: this.options.name,
      synced: this.isSynced,
      lastProgressAt: this.lastProgressAt,
      restartDueAt: this.restartDueAt,
      failingSince: this.failingSince,
      lastError: this.lastError,
      maxQuietMs: this.maxQuietMs,
      restarts: this.restarts,
      lists: this.lists,
    };
  }

  /** Whether the first list has completed (the cache holds every object). */
  get synced(): boolean {
    return this.isSynced;
  }

  /** Resolves once the first list has completed. */
  waitSynced(): Promise<void> {
    if (this.isSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  /** Every cached object. */
  list(): readonly T[] {
    return this.listWatch.list() as T[];
  }

  /** One cached object by name (and namespace for namespaced kinds). */
  get(name: string, namespace?: string): T | undefined {
    return this.listWatch.get(name, namespace) as T | undefined;
  }

  private markSynced(): void {
    if (this.isSynced) return;
    this.isSynced = true;
    for (const resolve of this.syncedWaiters.splice(0)) resolve();
  }

  private succeeded(): void {
    this.lastProgressAt = this.clock();
    this.failingSince = undefined;
  }

  private failed(error: unknown): void {
    // stop() aborts the watch request, which ListWatch reports as an error: ignore it.
    if (this.stopped) return;
    const base = this.options.initialBackoffMs ?? 200;
    const delay = Math.min(this.options.maxBackoffMs ?? 30_000, base * 2 ** Math.min(this.failures, 20));
    this.failures++;
    this.errorEpoch++;
    const now = this.clock();
    this.lastProgressAt = now;
    this.failingSince ??= now;
    this.lastError = (error instanceof Error ? error.message : String(error)).slice(0, 300);
    this.restartDueAt = now + delay;
    this.options.onError?.(error, delay);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      this.restarts++;
      this.start();
    }, delay);
  }
}

/**
 * Removes `metadata.managedFields` from an object in the cache (the handlers receive the
 * cached object itself): nobody reading a cache needs them, and they are often half of an
 * object's size.
 */
function dropManagedFields(object: KubernetesObject): KubernetesObject {
  if (object.metadata?.managedFields !== undefined) delete object.metadata.managedFields;
  return object;
}
