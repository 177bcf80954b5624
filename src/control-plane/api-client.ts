// The control-plane agent's HTTPS client. It never goes through the VIP: every request names
// its target (the local API server, or a peer found in the `kubernetes` Endpoints), and the
// server certificate is checked against one name (`kubernetes` by default, which kubeadm
// puts in every API server certificate) whatever address is dialled.
import { Agent, request } from 'node:https';
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
  send(target: ApiTarget, method: string, path: string, timeoutMs: number, body?: unknown): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json', ...this.credentials.headers };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const withManager = method === 'GET' ? path : `${path}${path.includes('?') ? '&' : '?'}fieldManager=${encodeURIComponent(this.fieldManager)}`;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.host,
          port: target.port,
          path: withManager,
          method,
          headers,
          agent: this.agent,
          servername: this.serverName,
          timeout: timeoutMs,
        },
        (res) => {
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
            resolve({ status: res.statusCode ?? 0, json });
          });
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`${method} ${formatTarget(target)}${path} took longer than ${timeoutMs} ms`)), timeoutMs);
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Opens a streaming request (a watch) and passes each JSON line to onLine; resolves when the
   * stream ends. The returned abort function ends it early.
   */
  stream(target: ApiTarget, path: string, onLine: (value: unknown) => void): { done: Promise<void>; abort: () => void } {
    let abort: () => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      const req = request(
        { host: target.host, port: target.port, path, method: 'GET', headers: { Accept: 'application/json', ...this.credentials.headers }, agent: this.agent, servername: this.serverName },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`watch ${path} → ${res.statusCode ?? 0}`));
            return;
          }
          let partial = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const lines = (partial + chunk).split('\n');
            partial = lines.pop() ?? '';
            for (const line of lines) {
              if (line.trim() === '') continue;
              try {
                onLine(JSON.parse(line) as unknown);
              } catch {
                // a line that is not JSON carries nothing we act on
              }
            }
          });
          res.on('end', () => resolve());
          res.on('error', reject);
          res.on('close', () => resolve());
        },
      );
      abort = () => req.destroy();
      req.on('error', reject);
      req.end();
    });
    return { done, abort };
  }

  /** Ends the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
