// A small JSON client for the API server: one keep-alive HTTPS agent for all requests,
// credentials asked for per request so rotated ServiceAccount tokens are picked up, and
// watches read as a stream of JSON lines (the transport is src/k8s/https-json.ts).
import { Agent } from 'node:https';
import { sendJson, StreamStatusError, streamJsonLines, userAgent, type JsonRequest } from './https-json.js';
import type { ApiAccess } from './kubeconfig.js';

/** An answer of the API server that was not 2xx. */
export class KubeApiError extends Error {
  /** HTTP status code (0 when the request never got an answer). */
  readonly status: number;
  /** The Status object's `reason` (`NotFound`, `Conflict`, `Forbidden`...), when given. */
  readonly reason: string | undefined;

  /** Builds the error from the request line and the server's answer. */
  constructor(method: string, path: string, status: number, body: unknown) {
    const statusObject = body as { message?: unknown; reason?: unknown } | undefined;
    const message = typeof statusObject?.message === 'string' ? statusObject.message : `HTTP ${status}`;
    super(`${method} ${path} → ${status}: ${message}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = typeof statusObject?.reason === 'string' ? statusObject.reason : undefined;
  }
}

/** Content types for PATCH (Kubernetes picks the patch strategy from it). */
export const patchTypes = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
} as const;

/** The subset of REST verbs the controller uses, each resolving with the parsed body. */
export interface KubeRest {
  /** GET a path; rejects with KubeApiError unless 2xx. */
  get<T>(path: string): Promise<T>;
  /** POST a body to a collection path. */
  create<T>(path: string, body: unknown): Promise<T>;
  /** PUT a whole object (with its resourceVersion for optimistic concurrency). */
  replace<T>(path: string, body: unknown): Promise<T>;
  /** PATCH with a JSON merge patch (RFC 7386). */
  mergePatch<T>(path: string, body: unknown): Promise<T>;
}

/** Watches, beside the REST verbs: what an informer needs. */
export interface KubeWatcher {
  /**
   * Opens a watch (a GET whose answer is one JSON event per line) and calls `onEvent` for
   * each; resolves when the server ends it, rejects on an error or a non-2xx answer. The
   * returned `abort` ends it early (the promise then resolves).
   */
  watch(path: string, onEvent: (event: WatchEvent) => void): { readonly done: Promise<void>; abort(): void };
}

/** One event of a watch, as the API server sends it. */
export interface WatchEvent {
  /** ADDED, MODIFIED, DELETED, BOOKMARK or ERROR. */
  readonly type: string;
  readonly object: unknown;
}

/** Options for {@link createKubeRest}. */
export interface KubeRestOptions {
  /** `fieldManager` sent with every write. */
  readonly fieldManager: string;
  /** Milliseconds before a request is abandoned; 30 000 when omitted. */
  readonly timeoutMs?: number;
  /** Concurrent connections kept to the server; 16 when omitted. */
  readonly maxSockets?: number;
}

/** Creates a {@link KubeRest} for the API server and credentials of `access`. */
export function createKubeRest(access: ApiAccess, options: KubeRestOptions): KubeRest & KubeWatcher {
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16, ...access.tls });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const agentHeader = { 'User-Agent': userAgent(options.fieldManager) };

  const requestFor = async (method: string, path: string, body?: unknown, contentType?: string): Promise<JsonRequest> => {
    const url = new URL(access.server + path);
    if (method !== 'GET') url.searchParams.set('fieldManager', options.fieldManager);
    return { method, url, headers: { ...agentHeader, ...(await access.headers()) }, body, ...(contentType === undefined ? {} : { contentType }), tls: { agent }, timeoutMs };
  };

  const send = async <T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> => {
    const response = await sendJson(await requestFor(method, path, body, contentType));
    if (response.status >= 200 && response.status < 300) return response.json as T;
    throw new KubeApiError(method, path, response.status, response.json);
  };

  const watch = (path: string, onEvent: (event: WatchEvent) => void): { done: Promise<void>; abort(): void } => {
    let aborted = false;
    let stream: { readonly done: Promise<void>; abort(): void } | undefined;
    // No request timeout: the server ends each watch (timeoutSeconds); a dead connection
    // is found by the caller's own progress check.
    const done = requestFor('GET', path).then((r) => {
      if (aborted) return;
      stream = streamJsonLines({ ...r, timeoutMs: 0 }, (value) => {
        const event = value as WatchEvent;
        if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return 'a line that is not an event';
        onEvent(event);
        return undefined;
      });
      return stream.done.catch((error: unknown) => {
        if (error instanceof StreamStatusError) throw new KubeApiError('GET', path, error.response.status, error.response.json);
        throw error;
      });
    });
    return {
      done,
      abort: () => {
        aborted = true;
        stream?.abort();
      },
    };
  };

  return {
    get: (path) => send('GET', path),
    create: (path, body) => send('POST', path, body),
    replace: (path, body) => send('PUT', path, body),
    mergePatch: (path, body) => send('PATCH', path, body, patchTypes.merge),
    watch,
  };
}

/** The HTTP status of an error from the API (0 for anything else). */
export function statusOf(error: unknown): number {
  if (error instanceof KubeApiError) return error.status;
  const code = (error as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode ?? (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : 0;
}
