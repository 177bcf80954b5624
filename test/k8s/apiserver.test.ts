// The k8s tier's ground truth: a real kube-apiserver and etcd (scripts/build-kube) accept
// the API vipcast relies on, and enforce RBAC for vipcast's ServiceAccounts. Missing
// binaries fail this file with a message naming scripts/build-kube; nothing is skipped.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type TestApiServer } from '../../lab/apiserver.js';
import { pinnedVersions } from '../../lab/kube-binaries.js';
import { kubeExpectOk, kubeRequest, type KubeCredentials } from '../../lab/kube-client.js';

const NAMESPACE = 'vipcast-k8s-test';
// The class this test claims Services for; any domain-prefixed name is valid to the API.
const LB_CLASS = 'vipcast.io/vipcast';
const RBAC_DEADLINE_MS = 15_000;

let server: TestApiServer | undefined;
let startError: unknown;

// A start-up failure (e.g. binaries not built yet) fails every test with its message,
// rather than leaving them reported as skipped.
function api(): TestApiServer {
  if (server === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return server;
}

// RBAC changes reach the authorizer through an informer, so a grant takes effect a moment
// after the RoleBinding is created; poll until the expected status or the deadline.
async function statusWithin(credentials: KubeCredentials, path: string, expected: number): Promise<number> {
  const deadline = performance.now() + RBAC_DEADLINE_MS;
  let status = 0;
  while (performance.now() < deadline) {
    status = (await kubeRequest(credentials, path)).status;
    if (status === expected) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return status;
}

beforeAll(async () => {
  try {
    const started = await startApiServer();
    server = started;
    await kubeExpectOk(started.admin, '/api/v1/namespaces', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    });
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

describe('a real kube-apiserver on loopback', () => {
  it('reports the Kubernetes version pinned in scripts/build-kube', async () => {
    const version = (await kubeExpectOk(api().admin, '/version')) as { gitVersion?: string };
    expect(version.gitVersion).toBe(pinnedVersions().kube);
  });

  it('keeps a LoadBalancer Service with its loadBalancerClass and accepts ipMode VIP on the status subresource', async () => {
    const { admin } = api();
    const services = `/api/v1/namespaces/${NAMESPACE}/services`;
    await kubeExpectOk(admin, services, {
      method: 'POST',
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: {
          type: 'LoadBalancer',
          loadBalancerClass: LB_CLASS,
          selector: { app: 'web' },
          ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        },
      },
    });

    const patched = (await kubeExpectOk(admin, `${services}/web/status`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }] } } },
    })) as { status?: { loadBalancer?: { ingress?: { ip?: string; ipMode?: string }[] } } };
    expect(patched.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.10', ipMode: 'VIP' }]);

    const stored = (await kubeExpectOk(admin, `${services}/web`)) as {
      spec?: { loadBalancerClass?: string; type?: string };
      status?: { loadBalancer?: { ingress?: { ip?: string; ipMode?: string }[] } };
    };
    expect(stored.spec?.type).toBe('LoadBalancer');
    expect(stored.spec?.loadBalancerClass).toBe(LB_CLASS);
    expect(stored.status?.loadBalancer?.ingress?.[0]?.ipMode).toBe('VIP');

    // The server validates the field rather than storing anything: an unknown mode is refused.
    const invalid = await kubeRequest(admin, `${services}/web/status`, {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'Teleport' }] } } },
    });
    expect(invalid.status).toBe(422);
  });

  it('serves EndpointSlices through discovery.k8s.io/v1, found by the service-name label', async () => {
    const { admin } = api();
    const slices = `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`;
    await kubeExpectOk(admin, slices, {
      method: 'POST',
      body: {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-abc12', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.1.7'], conditions: { ready: true }, nodeName: 'node-a' }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    });

    const selector = encodeURIComponent('kubernetes.io/service-name=web');
    const list = (await kubeExpectOk(admin, `${slices}?labelSelector=${selector}`)) as {
      kind?: string;
      items?: { endpoints?: { addresses?: string[]; nodeName?: string }[]; ports?: { port?: number }[] }[];
    };
    expect(list.kind).toBe('EndpointSliceList');
    expect(list.items).toHaveLength(1);
    expect(list.items?.[0]?.endpoints?.[0]).toMatchObject({ addresses: ['10.244.1.7'], nodeName: 'node-a' });
    expect(list.items?.[0]?.ports?.[0]?.port).toBe(8080);
  });

  it('denies a ServiceAccount (token or certificate) until a Role and RoleBinding grant it', async () => {
    const harness = api();
    const listServices = `/api/v1/namespaces/${NAMESPACE}/services`;
    const byToken = await harness.serviceAccountToken(NAMESPACE, 'vipcast-controller');
    const byCert = await harness.serviceAccountCert(NAMESPACE, 'vipcast-speaker');

    const deniedToken = await kubeRequest(byToken, listServices);
    expect(deniedToken.status).toBe(403);
    expect(deniedToken.text).toContain('system:serviceaccount:vipcast-k8s-test:vipcast-controller');
    expect((await kubeRequest(byCert, listServices)).status).toBe(403);

    const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${NAMESPACE}`;
    await kubeExpectOk(harness.admin, `${rbac}/roles`, {
      method: 'POST',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'service-reader' },
        rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await kubeExpectOk(harness.admin, `${rbac}/rolebindings`, {
      method: 'POST',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'service-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'service-reader' },
        subjects: [
          { kind: 'ServiceAccount', name: 'vipcast-controller', namespace: NAMESPACE },
          { kind: 'ServiceAccount', name: 'vipcast-speaker', namespace: NAMESPACE },
        ],
      },
    });

    expect(await statusWithin(byToken, listServices, 200)).toBe(200);
    expect(await statusWithin(byCert, listServices, 200)).toBe(200);
    const list = (await kubeExpectOk(byToken, listServices)) as { items?: { metadata?: { name?: string } }[] };
    expect(list.items?.map((s) => s.metadata?.name)).toContain('web');
    // The grant is exactly what the Role says: no writes, and nothing outside the namespace.
    expect((await kubeRequest(byToken, `${listServices}/web`, { method: 'DELETE' })).status).toBe(403);
    expect((await kubeRequest(byToken, '/api/v1/namespaces/default/services')).status).toBe(403);
  });

  it('writes an admin kubeconfig whose embedded credentials work against the server', async () => {
    const path = await api().writeKubeconfig();
    const config = JSON.parse(await readFile(path, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const cluster = config.clusters[0]?.cluster;
    const user = config.users[0]?.user;
    const decode = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('utf8');
    expect(cluster?.server).toBe(api().url);
    const fromFile: KubeCredentials = {
      server: cluster?.server ?? '',
      ca: decode(cluster?.['certificate-authority-data']),
      cert: decode(user?.['client-certificate-data']),
      key: decode(user?.['client-key-data']),
    };
    // Only the admin may read cluster-wide RBAC objects.
    const roles = await kubeRequest(fromFile, '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin');
    expect(roles.status).toBe(200);
  });
});
