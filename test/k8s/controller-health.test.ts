// /healthz over HTTP, with a real informer against a real API server behind a proxy the test
// can cut, and a clock the test can move: an unreachable API server keeps /healthz at 200;
// an informer whose restart never comes, or an event loop that stays behind, turns it 503
// with a body naming the check; and it comes back by itself once the wedge is gone.
import type { Server } from 'node:http';
import { Registry } from '../../src/observability/registry.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiAccess } from '../../src/k8s/kubeconfig.js';
import { EventLoopLag, evaluateHealth, informersCheck, type HealthCheck } from '../../src/observability/health.js';
import { startHttpServer } from '../../src/observability/http-server.js';
import { Informer } from '../../src/k8s/informer.js';
import { createKubeRest } from '../../src/k8s/rest.js';
import { startApiServer, type TestApiServer } from '../../lab/apiserver.js';
import { waitFor } from '../../lab/cluster-helpers.js';
import { createService, ensureNamespace } from './services.js';
import { proxiedAccess as accessVia, startTcpProxy, type TcpProxy } from './tcp-proxy.js';

let server: TestApiServer | undefined;
let proxy: TcpProxy | undefined;
let startError: unknown;

/** API access for the admin that reaches the server through the proxy. */
function proxiedAccess(): ApiAccess {
  const { server, proxy } = api();
  return accessVia(server, proxy);
}

function api(): { server: TestApiServer; proxy: TcpProxy } {
  if (server === undefined || proxy === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return { server, proxy };
}

beforeAll(async () => {
  try {
    server = await startApiServer();
    proxy = await startTcpProxy(Number(new URL(server.url).port));
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
}, 60_000);

interface Healthz {
  status: number;
  body: { ok: boolean; checks: Record<string, { ok: boolean; message: string }> };
}

/** Serves /healthz over these checks on a free loopback port, judged at `clock()`. */
async function serveHealth(checks: Record<string, HealthCheck>, clock: () => number): Promise<{ get: () => Promise<Healthz>; close: () => Promise<void> }> {
  const { server: http, port } = await startHttpServer({
    address: '127.0.0.1:0',
    registry: new Registry(),
    health: () => evaluateHealth(checks, clock()),
    ready: () => true,
    state: () => ({}),
  });
  const get = async (): Promise<Healthz> => {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { status: response.status, body: (await response.json()) as Healthz['body'] };
  };
  const close = (s: Server): Promise<void> => new Promise<void>((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
  return { get, close: () => close(http) };
}

describe('/healthz', () => {
  it('stays 200 while the API server is unreachable, turns 503 naming an informer whose restart is long overdue, and recovers when it restarts', async () => {
    const { server: s, proxy: p } = api();
    await ensureNamespace(s.admin, 'health');
    await createService(s.admin, 'health', 'web');
    // The test moves this clock forward to make a pending restart look hours late.
    let skewMs = 0;
    const clock = (): number => performance.now() + skewMs;
    const access = proxiedAccess();
    const informer = new Informer(
      createKubeRest(access, { fieldManager: 'health-test', timeoutMs: 2_000 }),
      { name: 'services', path: '/api/v1/namespaces/health/services', initialBackoffMs: 5_000, maxBackoffMs: 5_000, clock },
      { add: () => undefined, update: () => undefined, delete: () => undefined },
    );
    const checks = { informers: informersCheck(() => [informer.health()], { restartOverdueMs: 60_000, failingMs: 300_000 }, () => false) };
    const healthz = await serveHealth(checks, clock);
    informer.start();
    try {
      await informer.waitSynced();
      const synced = await healthz.get();
      expect(synced.status).toBe(200);
      expect(synced.body.checks['informers']).toMatchObject({ ok: true, message: 'services: synced, 1 list(s), 0 restart(s)' });

      p.cut();
      await waitFor(() => informer.health().restartDueAt !== undefined, 10_000, 'the informer to fail and schedule a restart');
      const unreachable = await healthz.get();
      expect(unreachable.status).toBe(200);
      expect(unreachable.body.checks['informers']?.message).toContain('services: retrying after errors');

      // Ten minutes pass on the health clock without the restart happening: a stuck loop.
      skewMs += 600_000;
      const wedged = await healthz.get();
      expect(wedged.status).toBe(503);
      expect(wedged.body.ok).toBe(false);
      expect(wedged.body.checks['informers']).toMatchObject({ ok: false });
      expect(wedged.body.checks['informers']?.message).toMatch(/^services: its restart after an error is \d+ s overdue$/);

      p.restore();
      const recovered = await waitFor(async () => {
        const answer = await healthz.get();
        return answer.status === 200 ? answer : undefined;
      }, 20_000, '/healthz to answer 200 once the informer restarted');
      expect(recovered.body.checks['informers']?.ok).toBe(true);
      expect(informer.restarts).toBeGreaterThan(0);
    } finally {
      informer.stop();
      await healthz.close();
    }
  });

  it('turns 503 naming the event loop while every tick is far behind, and 200 again once ticks are on time', async () => {
    let now = 0;
    const lag = new EventLoopLag({ thresholdMs: 2_000, sustainedMs: 30_000 });
    const healthz = await serveHealth({ eventLoop: lag.check, informers: informersCheck(() => [], { restartOverdueMs: 60_000 }, () => true) }, () => now);
    try {
      expect((await healthz.get()).status).toBe(200);
      // A loop that stays 5 s behind for 40 s, as a wedged decision loop would cause.
      for (let tick = 0; tick <= 40_000; tick += 5_000) lag.record(5_000, (now = tick));
      const behind = await healthz.get();
      expect(behind.status).toBe(503);
      expect(behind.body.checks['eventLoop']?.ok).toBe(false);
      expect(behind.body.checks['eventLoop']?.message).toContain('the event loop has been over 2000 ms behind for 40 s');
      expect(behind.body.checks['informers']).toEqual({ ok: true, message: 'no informer running' });
      lag.record(4, (now += 1_000));
      expect((await healthz.get()).status).toBe(200);
    } finally {
      await healthz.close();
    }
  });
});
