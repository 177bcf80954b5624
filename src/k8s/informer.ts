// A cache of one kind of object kept current by list + watch. The watch resumes from the
// last resourceVersion it saw (bookmarks keep that current on quiet, filtered watches); on
// 410 Gone it lists again and reports what changed meanwhile; on any other error it starts
// again with exponential backoff. Cached objects carry no managedFields, and an informer may
// keep only the fields its readers use (`keep`). Each informer also records when its loop
// last made progress, for /healthz. Our own code, not client-node's ListWatch (ADR 0023).
import { statusOf, type KubeRest, type KubeWatcher, type WatchEvent } from './rest.js';

/** The fields every cached object has. */
export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; managedFields?: unknown; [key: string]: unknown };
}

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
  /**
   * What to keep of each object in the cache (and hand to the handlers), so a large object
   * costs only the fields its readers use; metadata.name, namespace and resourceVersion must
   * stay. The whole object, less managedFields, when omitted.
   */
  readonly keep?: (object: KubeObject) => KubeObject;
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
  private readonly cache = new Map<string, KubeObject>();
  private resourceVersion: string | undefined;
  private watching: { abort(): void } | undefined;
  /** The server said our resourceVersion is too old (410): list again. */
  private gone = false;
  /** Bumped by each start() and stop(), so a loop that was replaced stops. */
  private run = 0;
  private stopped = true;
  private isSynced = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly syncedWaiters: (() => void)[] = [];
  private readonly clock: () => number;
  private readonly maxQuietMs: number;
  private readonly query: string;
  private readonly watchSeconds: number;
  private readonly keep: (object: KubeObject) => KubeObject;
  private lastProgressAt: number;
  private restartDueAt: number | undefined;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  /** How many times the informer was restarted after an error. */
  restarts = 0;
  /** How many full lists were made: 1 after the first sync, more after each 410 Gone. */
  lists = 0;

  /** Creates a stopped informer; call start(). */
  constructor(
    private readonly rest: KubeRest & KubeWatcher,
    private readonly options: InformerOptions,
    private readonly handler: InformerHandler<T>,
  ) {
    this.clock = options.clock ?? (() => performance.now());
    this.lastProgressAt = this.clock();
    this.query = options.fieldSelector === undefined ? '' : `fieldSelector=${encodeURIComponent(options.fieldSelector)}`;
    // Each watch asks the server to end it in time, which bounds how long a dead connection can hide.
    const timeout = options.watchTimeoutSeconds ?? 300;
    this.watchSeconds = timeout + Math.floor(Math.random() * timeout);
    this.maxQuietMs = this.watchSeconds * 1000 + quietGraceMs;
    const keep = options.keep;
    this.keep = (object) => {
      if (object.metadata?.managedFields !== undefined) delete object.metadata.managedFields;
      return keep ? keep(object) : object;
    };
  }

  /** Lists (unless it can resume) and starts watching. */
  start(): void {
    this.stopped = false;
    this.restartDueAt = undefined;
    this.lastProgressAt = this.clock();
    const run = ++this.run;
    this.loop(run).catch((error: unknown) => {
      if (run === this.run) this.failed(error);
    });
  }

  /** Stops watching and cancels any pending restart. */
  stop(): void {
    this.stopped = true;
    this.run++;
    clearTimeout(this.retryTimer);
    this.restartDueAt = undefined;
    this.watching?.abort();
    this.watching = undefined;
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
    return [...this.cache.values()] as T[];
  }

  /** One cached object by name (and namespace for namespaced kinds). */
  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(cacheKey(namespace, name)) as T | undefined;
  }

  private async loop(run: number): Promise<void> {
    const current = (): boolean => run === this.run && !this.stopped;
    while (current()) {
      if (this.resourceVersion === undefined || this.gone) {
        await this.relist(run);
        if (!current()) return;
      }
      const params = [this.query, 'watch=true', 'allowWatchBookmarks=true', `timeoutSeconds=${this.watchSeconds}`, `resourceVersion=${encodeURIComponent(this.resourceVersion ?? '')}`].filter((p) => p !== '');
      const watch = this.rest.watch(`${this.options.path}?${params.join('&')}`, (event) => {
        if (current()) this.apply(event, watch);
      });
      this.watching = watch;
      this.lastProgressAt = this.clock();
      await watch.done.catch((error: unknown) => {
        // A resourceVersion too old may also be refused outright rather than by an ERROR event.
        if (statusOf(error) === 410) this.gone = true;
        else throw error;
      });
      if (this.watching === watch) this.watching = undefined;
      // Ended by the server's timeout (a healthy watch) or after a 410: go round again.
      if (current() && !this.gone) this.succeeded();
    }
  }

  /** Lists the collection and reports the difference from the cache as add, update and delete. */
  private async relist(run: number): Promise<void> {
    const answer = await this.rest.get<{ metadata?: { resourceVersion?: string }; items?: KubeObject[] }>(`${this.options.path}${this.query === '' ? '' : `?${this.query}`}`);
    if (run !== this.run || this.stopped) return;
    this.failures = 0;
    this.lists++;
    this.gone = false;
    this.resourceVersion = answer.metadata?.resourceVersion;
    this.succeeded();
    const seen = new Set<string>();
    for (const item of answer.items ?? []) {
      const object = this.keep(item);
      const key = keyOf(object);
      seen.add(key);
      const before = this.cache.get(key);
      this.cache.set(key, object);
      if (!before) this.handler.add(object as T);
      else if (before.metadata?.resourceVersion !== object.metadata?.resourceVersion) this.handler.update(object as T);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.handler.delete(object as T);
    }
    this.markSynced();
  }

  private apply(event: WatchEvent, watch: { abort(): void }): void {
    const object = event.object as KubeObject & { code?: unknown; message?: unknown };
    if (event.type === 'ERROR') {
      if (object?.code === 410) {
        this.gone = true;
        watch.abort();
        return;
      }
      watch.abort();
      this.failed(new Error(`watch ${this.options.path}: ${typeof object?.message === 'string' ? object.message : JSON.stringify(event.object)}`));
      return;
    }
    const version = object?.metadata?.resourceVersion;
    if (version !== undefined) this.resourceVersion = version;
    this.failures = 0;
    this.succeeded();
    if (event.type === 'BOOKMARK') return;
    const kept = this.keep(object);
    const key = keyOf(kept);
    if (event.type === 'DELETED') {
      const before = this.cache.get(key);
      this.cache.delete(key);
      this.handler.delete((before ?? kept) as T);
      return;
    }
    const existed = this.cache.has(key);
    this.cache.set(key, kept);
    if (existed) this.handler.update(kept as T);
    else this.handler.add(kept as T);
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
    if (this.stopped) return;
    this.run++; // the loop that failed ends here
    this.watching?.abort();
    this.watching = undefined;
    const base = this.options.initialBackoffMs ?? 200;
    const delay = Math.min(this.options.maxBackoffMs ?? 30_000, base * 2 ** Math.min(this.failures, 20));
    this.failures++;
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

function cacheKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

function keyOf(object: KubeObject): string {
  return cacheKey(object.metadata?.namespace, object.metadata?.name ?? '');
}
