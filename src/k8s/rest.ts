// A small JSON client for the API server: one keep-alive HTTPS agent for all requests,
// credentials asked for per request so rotated ServiceAccount tokens are picked up, and
// watches read as a stream of JSON lines.
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
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
  const server = access.server;
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 16, ...access.tls });
  const timeoutMs = options.timeoutMs ?? 30_000;

  /** Starts a request; `onResponse` gets the answer's stream. */
  const start = async (method: string, path: string, body: unknown, contentType: string | undefined, timeout: number, onResponse: (res: IncomingMessage) => void, onError: (error: Error) => void): Promise<() => void> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json', ...(await access.headers()) };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const url = new URL(server + path);
    if (method !== 'GET') url.searchParams.set('fieldManager', options.fieldManager);
    const req = request(url, { method, headers, agent, timeout }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeout} ms`)));
    req.on('error', onError);
    req.end(payload);
    return () => req.destroy();
  };

  const send = <T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      start(method, path, body, contentType, timeoutMs, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const json = parseJson(Buffer.concat(chunks).toString('utf8'));
          if (status >= 200 && status < 300) resolve(json as T);
          else reject(new KubeApiError(method, path, status, json));
        });
      }, reject).catch(reject);
    });

  const watch = (path: string, onEvent: (event: WatchEvent) => void): { done: Promise<void>; abort(): void } => {
    let aborted = false;
    let cancel: (() => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const fail = (error: Error): void => (aborted ? resolve() : reject(error));
      // No request timeout: the server ends each watch (timeoutSeconds); a dead connection
      // is found by the caller's own progress check.
      start('GET', path, undefined, undefined, 0, (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => reject(new KubeApiError('GET', path, status, parseJson(Buffer.concat(chunks).toString('utf8')))));
          res.on('error', fail);
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line.trim() === '') continue;
            const event = parseJson(line) as WatchEvent | undefined;
            if (event === undefined || typeof event.type !== 'string') {
              res.destroy(new Error(`GET ${path}: the watch sent a line that is not an event: ${line.slice(0, 200)}`));
              return;
            }
            onEvent(event);
          }
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new Error(`GET ${path}: the watch connection was cut`)));
        res.on('end', () => resolve());
      }, fail).then((c) => {
        cancel = c;
        if (aborted) c();
      }, reject);
    });
    return {
      done,
      abort: () => {
        aborted = true;
        cancel?.();
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

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The HTTP status of an error from the API (0 for anything else). */
export function statusOf(error: unknown): number {
  if (error instanceof KubeApiError) return error.status;
  const code = (error as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode ?? (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : 0;
}
