// The control-plane agent's HTTPS client, separate from src/k8s/rest.ts because it must never
// go through the VIP it holds: every request names its target (the local API server, or a
// peer found in the `kubernetes` Endpoints), and the server certificate is checked against one
// name (`kubernetes` by default, which kubeadm puts in every API server certificate) whatever
// address is dialled. The transport is the shared one (src/k8s/https-json.ts).
import { Agent } from 'node:https';
import { sendJson, streamJsonLines, userAgent } from '../k8s/https-json.js';
import type { ApiCredentials } from './credentials.js';

/** Where to send a request: host (IPv4, IPv6 or name) and port. */
export interface ApiTarget {
  readonly host: string;
  readonly port: number;
}

/** An answer: HTTP status and the body parsed as JSON (undefined when it is not JSON). */
export interface ApiResponse {
  readonly status: number;
  readonly json: unknown;
}

/** Formats a target as `host:port` (IPv6 in brackets). */
export function formatTarget(target: ApiTarget): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** Parses `https://HOST:PORT` (or `HOST:PORT`) into a target; port 6443 when none is given. */
export function parseTarget(text: string): ApiTarget {
  const url = new URL(text.includes('://') ? text : `https://${text}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error(`no host in ${JSON.stringify(text)}`);
  return { host, port: url.port === '' ? 6443 : Number(url.port) };
}

/** One identity's HTTPS client; close() ends its kept-alive connections. */
export class ApiClient {
  private readonly agent: Agent;
  /** The credential's headers and a User-Agent that names the agent in the API servers' audit logs. */
  private readonly headers: Readonly<Record<string, string>>;

  /**
   * @param credentials the client certificate or token, and the CA to trust
   * @param serverName the name the server certificate must carry
   * @param fieldManager sent with every write
   */
  constructor(
    readonly credentials: ApiCredentials,
    private readonly serverName: string,
    private readonly fieldManager: string,
  ) {
    this.headers = { 'User-Agent': userAgent(fieldManager), ...credentials.headers };
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 4,
      servername: serverName,
      ...(credentials.ca === undefined ? {} : { ca: credentials.ca }),
      ...(credentials.cert === undefined ? {} : { cert: credentials.cert }),
      ...(credentials.key === undefined ? {} : { key: credentials.key }),
    });
  }

  /** Sends one request and resolves with the answer whatever its status; rejects on network errors and after timeoutMs. */
  async send(target: ApiTarget, method: string, path: string, timeoutMs: number, body?: unknown): Promise<ApiResponse> {
    const url = this.#url(target, path);
    if (method !== 'GET') url.searchParams.set('fieldManager', this.fieldManager);
    const { status, json } = await sendJson({ method, url, headers: this.headers, body, tls: this.#tls, timeoutMs: 0, deadlineMs: timeoutMs });
    return { status, json };
  }

  /**
   * Opens a streaming request (a watch) and passes each JSON line to onLine; resolves when the
   * stream ends, and rejects when a line is not JSON, when onLine throws on one (the agent
   * must not die of a strange object: it watches again) or when the answer is not 2xx. The
   * returned abort function ends it early.
   */
  stream(target: ApiTarget, path: string, onLine: (value: unknown) => void): { done: Promise<void>; abort: () => void } {
    return streamJsonLines({ method: 'GET', url: this.#url(target, path), headers: this.headers, tls: this.#tls, timeoutMs: 0 }, (value) => {
      try {
        onLine(value);
        return undefined;
      } catch (error) {
        return `a value it could not use (${String(error)})`;
      }
    });
  }

  #url(target: ApiTarget, path: string): URL {
    return new URL(`https://${formatTarget(target)}${path}`);
  }

  get #tls(): { agent: Agent; servername: string } {
    return { agent: this.agent, servername: this.serverName };
  }

  /** Ends the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
