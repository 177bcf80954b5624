// The speaker's /healthz over HTTP: its runtime's informers, its Lease renewals and its
// event loop, judged by the speaker's own checks, against a real API server as a
// ServiceAccount under RBAC. While one cache cannot list (the account may not read
// EndpointSlices) and the API server answers the others, /healthz is 503 naming that
// informer; once the permission is granted the cache syncs, the Lease renews and /healthz
// is 200. The failing limit is 2 s here instead of the speaker's 5 minutes.
import { staticAccess, type ApiAccess } from '../../src/k8s/kubeconfig.js';
import { Registry } from '../../src/observability/registry.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLoopLag, RenewalWrites, defaultHealthLimits as limits, evaluateHealth, trackRequests } from '../../src/observability/health.js';
import { startHttpServer } from '../../src/observability/http-server.js';
import { EventRecorder } from '../../src/k8s/events.js';
import { createKubeRest } from '../../src/k8s/rest.js';
import { createLogger } from '../../src/log.js';
import { speakerHealthChecks } from '../../src/speaker/health-checks.js';
import { SpeakerRuntime } from '../../src/speaker/runtime.js';
import { SpeakerLease, defaultSpeakerLeaseTiming } from '../../src/speaker/speaker-lease.js';
import { startApiServer, type TestApiServer } from '../../lab/apiserver.js';
import { kubeExpectOk, type KubeCredentials } from '../../lab/kube-client.js';
import { waitFor } from '../../lab/cluster-helpers.js';

const namespace = 'speaker-health';
const account = 'speaker';

let server: TestApiServer | undefined;
let startError: unknown;

beforeAll(async () => {
  try {
    server = await startApiServer();
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

function api(): TestApiServer {
  if (server === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return server;
}

/** API access with the ServiceAccount's token. */
function accessFor(credentials: KubeCredentials): ApiAccess {
  return staticAccess({ server: credentials.server, ca: credentials.ca, token: credentials.token ?? '' }, account);
}

/** Binds a ClusterRole with these rules to the ServiceAccount. */
async function grantClusterWide(admin: KubeCredentials, name: string, rules: object[]): Promise<void> {
  await kubeExpectOk(admin, '/apis/rbac.authorization.k8s.io/v1/clusterroles', { method: 'POST', body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules } });
  await kubeExpectOk(admin, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    method: 'POST',
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'ServiceAccount', namespace, name: account }] },
  });
}

interface Healthz {
  status: number;
  body: { ok: boolean; checks: Record<string, { ok: boolean; message: string }> };
}

describe("the speaker's /healthz", () => {
  it('is 503 naming the informer that cannot list while the API server answers, and 200 once it syncs and the Lease renews', async () => {
    const s = api();
    const credentials = await s.serviceAccountToken(namespace, account);
    // What manifests/vipcast.yaml grants the speaker, but EndpointSlices.
    await grantClusterWide(s.admin, 'speaker-health', [
      { apiGroups: [''], resources: ['services', 'nodes', 'configmaps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    await kubeExpectOk(s.admin, `/api/v1/namespaces/${namespace}/configmaps`, {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vipcast-config' }, data: { config: 'address-pools:\n- name: office\n  protocol: layer2\n  addresses: [192.0.2.0/28]\n' } },
    });

    // The speaker's clients, Lease and checks, as `vipcast speaker` builds them.
    const access = accessFor(credentials);
    const clock = (): number => performance.now();
    const rest = createKubeRest(access, { fieldManager: 'speaker-health-test' });
    const leaseWrites = new RenewalWrites('Lease renewal', { stalledMs: limits.leaseStalledMs, refusedMs: limits.leaseRefusedMs });
    const lease = new SpeakerLease(trackRequests(createKubeRest(access, { fieldManager: 'speaker-health-test', timeoutMs: 1_000 }), leaseWrites, clock), namespace, 'node-1', defaultSpeakerLeaseTiming, clock);
    const runtime = new SpeakerRuntime({
      rest,
      node: 'node-1',
      namespace,
      config: { source: 'vipcast', namespace, name: 'vipcast-config' },
      loadBalancerClass: undefined,
      lease,
      clock,
      log: createLogger('error'),
      events: new EventRecorder(rest, { controller: 'vipcast.io/speaker', instance: 'node-1' }),
      interfacesFor: () => [],
      openLink: () => {
        throw new Error('no layer-2 VIP in this test');
      },
      bgp: undefined,
    });
    const lag = new EventLoopLag({ thresholdMs: limits.lagThresholdMs, sustainedMs: limits.lagSustainedMs });
    lag.start(clock, limits.lagIntervalMs);
    const checks = speakerHealthChecks({ informers: () => runtime.informersHealth(), lease: leaseWrites.check, eventLoop: lag.check }, { restartOverdueMs: limits.restartOverdueMs, informerFailingMs: 2_000 });
    const { server: http, port } = await startHttpServer({ address: '127.0.0.1:0', registry: new Registry(), health: () => evaluateHealth(checks, clock()), ready: () => runtime.synced, state: () => ({}) });
    const healthz = async (): Promise<Healthz> => {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      return { status: response.status, body: (await response.json()) as Healthz['body'] };
    };
    const started = runtime.start();
    try {
      const wedged = await waitFor(async () => {
        const answer = await healthz();
        return answer.status === 503 ? answer : undefined;
      }, 20_000, '/healthz to answer 503 while EndpointSlices cannot be listed');
      expect(wedged.body.ok).toBe(false);
      expect(wedged.body.checks['informers']?.ok).toBe(false);
      expect(wedged.body.checks['informers']?.message).toMatch(/^endpointslices: failing for \d+ s while the API server answers \(.*forbidden/);
      // Nothing else is wrong: the Lease is not written before the caches sync.
      expect(wedged.body.checks['lease']).toEqual({ ok: true, message: 'no Lease renewal yet (they start once the caches are synced)' });
      expect(wedged.body.checks['eventLoop']?.ok).toBe(true);

      await grantClusterWide(s.admin, 'speaker-health-endpointslices', [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] }]);
      await started;
      const healthy = await waitFor(async () => {
        const answer = await healthz();
        return answer.status === 200 && /^\d+ Lease renewal\(s\), last succeeded \d+ s ago$/.test(answer.body.checks['lease']?.message ?? '') ? answer : undefined;
      }, 20_000, '/healthz to answer 200 with the Lease renewing');
      expect(healthy.body.ok).toBe(true);
      expect(healthy.body.checks['informers']).toMatchObject({ ok: true });
      expect(healthy.body.checks['informers']?.message).toContain('endpointslices: synced');
    } finally {
      // start() stays pending when the caches never sync; stop() ends it all the same.
      lag.stop();
      await runtime.stop();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    }
  });
});
