// The HTTP endpoints on the metrics port of the controller and the speaker: /metrics
// (Prometheus), /healthz (liveness, with a verdict per check) and /readyz.
import type { Server } from 'node:http';
import type { Registry } from './registry.js';
import type { HealthReport } from './health.js';

// node:http is taken as CommonJS exports, not imported as an ES module: an ES import of it
// builds a namespace from every export, and its lazy WebSocket, CloseEvent and MessageEvent
// getters then load undici, 13.5 MiB of RSS on Node 24 that nothing here uses (issue 18).
const { createServer } = process.getBuiltinModule('node:http');

/** What the endpoints report. */
export interface HttpServerOptions {
  /** `host:port` to listen on (`[::]:7472` for IPv6; port 0 picks a free one). */
  readonly address: string;
  /** Registry served on /metrics. */
  readonly registry: Registry;
  /** /healthz answers 200 while the report is ok, 503 otherwise; its body is the report. */
  readonly health: () => HealthReport;
  /** /readyz answers 200 while this holds. */
  readonly ready: () => boolean;
  /** Extra state shown in the /readyz body. */
  readonly state: () => Record<string, unknown>;
}

/** Splits `host:port` (IPv6 hosts in brackets). */
export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`"${address}" is not host:port`);
  return { host: match[1] ?? (match[2] === '' ? '0.0.0.0' : (match[2] ?? '0.0.0.0')), port };
}

/** Starts the server; resolves with it and the port it listens on. */
export async function startHttpServer(options: HttpServerOptions): Promise<{ server: Server; port: number }> {
  const { host, port } = splitHostPort(options.address);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (ok: boolean, body: Record<string, unknown>): void => {
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ ok, ...body })}\n`);
    };
    if (path === '/healthz') {
      let report: HealthReport;
      try {
        report = options.health();
      } catch (error) {
        report = { ok: false, checks: { health: { ok: false, message: String(error) } } };
      }
      return answer(report.ok, { checks: report.checks });
    }
    if (path === '/readyz') {
      const ok = options.ready();
      return answer(ok, options.state());
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': options.registry.contentType });
          res.end(text);
        },
        (error: unknown) => {
          res.writeHead(500);
          res.end(String(error));
        },
      );
      return;
    }
    res.writeHead(404);
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return { server, port: typeof bound === 'object' && bound !== null ? bound.port : port };
}

/** Stops the server: no new connections, the open ones cut; resolves once it has closed. */
export function closeHttpServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
