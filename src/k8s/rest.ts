// A small JSON client for the API server on top of a KubeConfig: one keep-alive HTTPS agent
// for all requests (client-node opens a new connection per call), credentials re-read per
// request so rotated ServiceAccount tokens are picked up.
import { Agent, request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

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

/** Options for {@link createKubeRest}. */
export interface KubeRestOptions {
  /** `fieldManager` sent with every write. */
  readonly fieldManager: string;
  /** Milliseconds before a request is abandoned; 30 000 when omitted. */
  readonly timeoutMs?: number;
  /** Concurrent connections kept to the server; 16 when omitted. */
  readonly maxSockets?: number;
}

/** Creates a {@link KubeRest} for the KubeConfig's current cluster and user. */
export function createKubeRest(kc: KubeConfig, options: KubeRestOptions): KubeRest {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig names no current cluster');
  const server = cluster.server.replace(/\/+$/, '');
  let agent: Agent | undefined;
  const timeoutMs = options.timeoutMs ?? 30_000;

  const send = async <T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> => {
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    agent ??= new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? 16,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.cert === undefined ? {} : { cert: opts.cert }),
      ...(opts.key === undefined ? {} : { key: opts.key }),
      ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    });
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    for (const [key, value] of Object.entries(opts.headers ?? {})) if (typeof value === 'string') headers[key] = value;
    if (payload !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const isWrite = method !== 'GET';
    const url = new URL(server + path);
    if (isWrite) url.searchParams.set('fieldManager', options.fieldManager);
    return new Promise<T>((resolve, reject) => {
      const req = request(url, { method, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : (JSON.parse(text) as unknown);
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(json as T);
          else reject(new KubeApiError(method, path, status, json));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  };
  return {
    get: (path) => send('GET', path),
    create: (path, body) => send('POST', path, body),
    replace: (path, body) => send('PUT', path, body),
    mergePatch: (path, body) => send('PATCH', path, body, patchTypes.merge),
  };
}

/** The HTTP status of an error from the API (0 for anything else). */
export function statusOf(error: unknown): number {
  if (error instanceof KubeApiError) return error.status;
  const code = (error as { statusCode?: unknown; code?: unknown } | undefined)?.statusCode ?? (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : 0;
}
