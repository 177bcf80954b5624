// The Kubernetes layer's informer (src/k8s/informer.ts) against a real API server, through
// a proxy the test can cut: it restarts after connection errors and catches up on what it
// missed, and when the server has compacted the history it missed (410 Gone) it relists
// and reports the objects deleted meanwhile.
import type { ApiAccess } from '../../src/k8s/kubeconfig.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Informer } from '../../src/k8s/informer.js';
import { createKubeRest } from '../../src/k8s/rest.js';
import { startApiServer, type TestApiServer } from '../../lab/apiserver.js';
import { kubeExpectOk, kubeRequest } from '../../lab/kube-client.js';
import { waitFor } from '../../lab/cluster-helpers.js';
import { createService, deleteService, ensureNamespace } from './services.js';
import { proxiedAccess as accessVia, startTcpProxy, type TcpProxy } from './tcp-proxy.js';

interface Named {
  metadata?: { name?: string; namespace?: string };
}

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
    // Without the watch cache, watches are served from etcd, whose history the apiserver
    // compacts every second here: a watch resumed from an old resourceVersion gets 410 Gone.
    server = await startApiServer({ extraApiServerArgs: ['--watch-cache=false', '--etcd-compaction-interval=1s'] });
    proxy = await startTcpProxy(Number(new URL(server.url).port));
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
}, 60_000);

function serviceInformer(namespace: string, seen: { added: string[]; deleted: string[]; errors: unknown[] }): Informer<Named> {
  const access = proxiedAccess();
  const rest = createKubeRest(access, { fieldManager: 'informer-test', timeoutMs: 2_000 });
  return new Informer<Named>(
    rest,
    { name: 'services', path: `/api/v1/namespaces/${namespace}/services`, initialBackoffMs: 100, maxBackoffMs: 500, onError: (error) => seen.errors.push(error) },
    {
      add: (o) => seen.added.push(o.metadata?.name ?? ''),
      update: () => undefined,
      delete: (o) => seen.deleted.push(o.metadata?.name ?? ''),
    },
  );
}

describe('informer', () => {
  it('restarts after the connection fails and catches up on what happened meanwhile', async () => {
    const { server: s, proxy: p } = api();
    await ensureNamespace(s.admin, 'cut');
    await createService(s.admin, 'cut', 'before');
    const seen = { added: [] as string[], deleted: [] as string[], errors: [] as unknown[] };
    const informer = serviceInformer('cut', seen);
    informer.start();
    try {
      await informer.waitSynced();
      expect(informer.list().map((o) => o.metadata?.name)).toEqual(['before']);
      p.cut();
      await createService(s.admin, 'cut', 'during');
      await waitFor(() => seen.errors.length > 0, 10_000, 'the informer to see the failure');
      p.restore();
      await waitFor(() => seen.added.includes('during'), 15_000, 'the informer to catch up');
      expect(informer.restarts).toBeGreaterThan(0);
      await createService(s.admin, 'cut', 'after');
      await waitFor(() => seen.added.includes('after'), 10_000, 'a change after the restart');
      expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(['after', 'before', 'during']);
    } finally {
      informer.stop();
    }
  });

  it('relists on 410 Gone and reports objects deleted while it was away', async () => {
    const { server: s, proxy: p } = api();
    await ensureNamespace(s.admin, 'gone');
    await createService(s.admin, 'gone', 'keep');
    await createService(s.admin, 'gone', 'doomed');
    const seen = { added: [] as string[], deleted: [] as string[], errors: [] as unknown[] };
    const informer = serviceInformer('gone', seen);
    informer.start();
    try {
      await informer.waitSynced();
      expect(informer.lists).toBe(1);
      p.cut();
      // The informer has seen nothing newer than this revision: the cut came first.
      const cutAt = ((await kubeExpectOk(s.admin, '/api/v1/namespaces/gone/services')) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
      await deleteService(s.admin, 'gone', 'doomed');
      await createService(s.admin, 'gone', 'newcomer');
      // Let the apiserver compact etcd past the informer's resourceVersion: more writes,
      // then wait until a read at the revision of the cut is refused as compacted (410),
      // however long the compaction takes on this machine.
      for (let i = 0; i < 5; i++) {
        await kubeExpectOk(s.admin, '/api/v1/namespaces/gone/configmaps', { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `churn-${i}` } } });
      }
      await waitFor(async () => (await kubeRequest(s.admin, `/api/v1/namespaces/gone/services?resourceVersion=${cutAt}&resourceVersionMatch=Exact`)).status === 410, 30_000, `etcd to be compacted past revision ${cutAt}`);
      p.restore();
      await waitFor(() => seen.deleted.includes('doomed') && seen.added.includes('newcomer'), 20_000, 'the relist to report the changes');
      expect(informer.lists).toBeGreaterThanOrEqual(2);
      expect(informer.list().map((o) => o.metadata?.name).sort()).toEqual(['keep', 'newcomer']);
    } finally {
      informer.stop();
    }
  });
});
