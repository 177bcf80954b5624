// `vipcast controller` against a real kube-apiserver, running as its own ServiceAccount
// with exactly the rights manifests/vipcast.yaml grants: what users see on their Services
// (status, annotation, Events) for each allocation rule, and what a bad config does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeExpectOk, kubeRequest, type KubeCredentials } from '../../lab/kube-client.js';
import { applyObject, readManifest, stopController, waitFor, type ControllerProcess } from '../../lab/cluster-helpers.js';
import { createService, deleteService, ensureNamespace, eventsAbout, getService, ingressIps, waitForEvent, waitForIngress } from './services.js';
import { fastLease, startVipcastCluster, waitLeading, type VipcastCluster, leasePolicyMessage } from '../../lab/vipcast-cluster.js';

const POOL_ANNOTATION = 'vipcast.io/ip-allocated-from-pool';
const CONFIG = `
address-pools:
- name: main
  protocol: layer2
  addresses: [192.0.2.0/28, 2001:db8::/124]
- name: team-a
  protocol: layer2
  addresses: [198.51.100.0/30]
  namespaces: [team-a]
- name: tiny
  protocol: layer2
  addresses: [203.0.113.1-203.0.113.2]
  auto-assign: false
- name: lan
  protocol: layer2
  addresses: [192.168.1.240-192.168.1.250, fd00:1::/120]
  auto-assign: false
`;
const BROKEN = `
address-pools:
- name: main
  protocol: layer-2
  addresses: [192.0.2.0/28, 10.9.9.9-10.9.9.1]
`;

let cluster: VipcastCluster | undefined;
let startError: unknown;
let controller: ControllerProcess | undefined;

// A start-up failure fails every test with its message instead of skipping them.
function vipcast(): VipcastCluster {
  if (cluster === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return cluster;
}
const admin = (): KubeCredentials => vipcast().admin;
const putConfig = (text: string): Promise<void> => vipcast().putConfig(text);
function ctl(): ControllerProcess {
  if (controller === undefined) throw new Error('the controller did not start');
  return controller;
}

beforeAll(async () => {
  try {
    cluster = await startVipcastCluster(CONFIG);
    for (const ns of ['apps', 'team-a', 'other']) await ensureNamespace(cluster.admin, ns);
    controller = cluster.startController([...fastLease, '--identity=solo']);
    await waitLeading(controller);
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  if (controller) await stopController(controller);
  await cluster?.server.stop();
}, 60_000);

/** Every Service's status addresses, by namespace/name. */
async function allIngress(): Promise<Map<string, string[]>> {
  const list = (await kubeExpectOk(admin(), '/api/v1/services')) as { items: Parameters<typeof ingressIps>[0][] };
  return new Map(list.items.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, ingressIps(s)]));
}

describe('vipcast controller on a real API server, as its own ServiceAccount', () => {
  it('installs from manifests/: every object passes a server-side dry run, and the workloads are shaped as documented', async () => {
    const { dryRuns } = vipcast();
    expect(dryRuns.map((o) => o.status).filter((status) => status !== 200 && status !== 201)).toEqual([]);
    expect(new Set(dryRuns.map((o) => o.object.kind))).toEqual(
      new Set(['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'DaemonSet', 'ConfigMap', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']),
    );
    type Probe = { httpGet?: { path?: string; port?: number | string }; periodSeconds?: number; timeoutSeconds?: number; failureThreshold?: number };
    type Container = { livenessProbe?: Probe; readinessProbe?: Probe; securityContext?: { privileged?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { add?: string[]; drop?: string[] } } };
    type Workload = { spec: { replicas?: number; template: { spec: { hostNetwork?: boolean; serviceAccountName?: string; containers: Container[] } } } };
    const deployment = (await kubeExpectOk(admin(), '/apis/apps/v1/namespaces/vipcast-system/deployments/vipcast-controller')) as Workload;
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.serviceAccountName).toBe('vipcast-controller');
    expect(deployment.spec.template.spec.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    const daemonSet = (await kubeExpectOk(admin(), '/apis/apps/v1/namespaces/vipcast-system/daemonsets/vipcast-speaker')) as Workload;
    const pod = daemonSet.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.serviceAccountName).toBe('vipcast-speaker');
    const security = pod.containers[0]?.securityContext;
    expect(security?.privileged).toBe(false);
    expect(security?.readOnlyRootFilesystem).toBe(true);
    expect(security?.allowPrivilegeEscalation).toBe(false);
    expect(security?.capabilities?.drop).toEqual(['ALL']);
    expect([...(security?.capabilities?.add ?? [])].sort()).toEqual(['NET_ADMIN', 'NET_RAW']);
    // Both restart on a failing /healthz after three probes, and report readiness on /readyz.
    const probes = [deployment.spec.template.spec.containers[0], pod.containers[0]];
    for (const container of probes) {
      expect(container?.livenessProbe).toMatchObject({ httpGet: { path: '/healthz' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
      expect(container?.readinessProbe?.httpGet?.path).toBe('/readyz');
    }
    expect(pod.containers[0]?.livenessProbe?.httpGet?.port).toBe(7473);
  });

  it('runs with exactly the rights of its ServiceAccount: anything outside them is denied', async () => {
    const { controllerCredentials: asController, server } = vipcast();
    await createService(admin(), 'apps', 'rbac-probe');
    const statusFor = async (credentials: KubeCredentials, method: string, path: string, body?: unknown): Promise<number> =>
      (await kubeRequest(credentials, path, { method, body, contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' })).status;
    // What the controller needs works...
    expect(await statusFor(asController, 'GET', '/api/v1/services'), 'asController GET /api/v1/services').toBe(200);
    expect(await statusFor(asController, 'GET', '/api/v1/namespaces/vipcast-system/configmaps/vipcast-config'), 'asController GET /api/v1/namespaces/vipcast-system/configmaps/vipcast-config').toBe(200);
    // ...and nothing else does.
    expect(await statusFor(asController, 'DELETE', '/api/v1/namespaces/apps/services/rbac-probe'), 'asController DELETE /api/v1/namespaces/apps/services/rbac-probe').toBe(403);
    expect(await statusFor(asController, 'PUT', '/api/v1/namespaces/apps/services/rbac-probe', await getService(admin(), 'apps', 'rbac-probe')), 'asController PUT /api/v1/namespaces/apps/services/rbac-probe').toBe(403);
    expect(await statusFor(asController, 'POST', '/api/v1/namespaces/apps/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 1 }] } }), 'asController POST /api/v1/namespaces/apps/services').toBe(403);
    expect(await statusFor(asController, 'GET', '/api/v1/namespaces/vipcast-system/secrets'), 'asController GET /api/v1/namespaces/vipcast-system/secrets').toBe(403);
    expect(await statusFor(asController, 'PATCH', '/api/v1/namespaces/vipcast-system/configmaps/vipcast-config', { data: { config: '' } }), 'asController PATCH /api/v1/namespaces/vipcast-system/configmaps/vipcast-config').toBe(403);
    expect(await statusFor(asController, 'GET', '/api/v1/namespaces/kube-system/configmaps'), 'asController GET /api/v1/namespaces/kube-system/configmaps').toBe(403);
    expect(await statusFor(asController, 'GET', '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/someone-else'), 'asController GET /apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/someone-else').toBe(403);
    expect(await statusFor(asController, 'GET', '/api/v1/nodes'), 'asController GET /api/v1/nodes').toBe(403);
    expect(await statusFor(asController, 'GET', '/apis/discovery.k8s.io/v1/endpointslices'), 'asController GET /apis/discovery.k8s.io/v1/endpointslices').toBe(403);

    const asSpeaker = await server.serviceAccountToken('vipcast-system', 'vipcast-speaker');
    for (const path of ['/api/v1/services', '/api/v1/nodes', '/apis/discovery.k8s.io/v1/endpointslices', '/api/v1/namespaces/vipcast-system/configmaps/vipcast-config']) {
      expect(await statusFor(asSpeaker, 'GET', path), path).toBe(200);
    }
    const lease = (namespace: string): unknown => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'vipcast-speaker-node-a', namespace }, spec: { holderIdentity: 'node-a' } });
    // RBAC lets speakers write Leases here, but the admission policy wants a token bound to a
    // Pod on node-a for this one; the positive case is in test/e2e/speaker-layer2.test.ts.
    // Refused by the policy itself, not by RBAC (which would refuse with another message).
    const ownNamespace = await kubeRequest(asSpeaker, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases', { method: 'POST', body: lease('vipcast-system') });
    expect(ownNamespace.status, 'asSpeaker POST /apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases').toBe(403);
    expect(ownNamespace.text).toContain(leasePolicyMessage);
    expect(await statusFor(asSpeaker, 'POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', lease('default')), 'asSpeaker POST /apis/coordination.k8s.io/v1/namespaces/default/leases').toBe(403);
    expect(await statusFor(asSpeaker, 'PATCH', '/api/v1/namespaces/apps/services/rbac-probe/status', { status: {} }), 'asSpeaker PATCH /api/v1/namespaces/apps/services/rbac-probe/status').toBe(403);
    expect(await statusFor(asSpeaker, 'GET', '/api/v1/namespaces/vipcast-system/secrets'), 'asSpeaker GET /api/v1/namespaces/vipcast-system/secrets').toBe(403);
    expect(await statusFor(asSpeaker, 'GET', '/api/v1/namespaces'), 'asSpeaker GET /api/v1/namespaces').toBe(403);
  });

  it('serves Prometheus metrics, /healthz and /readyz, and logs one JSON object per line', async () => {
    const port = await ctl().metricsPort();
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    // The body names each liveness check with its verdict.
    const report = (await health.json()) as { ok: boolean; checks: Record<string, { ok: boolean; message: string }> };
    expect(report.ok).toBe(true);
    expect(Object.keys(report.checks).sort()).toEqual(['eventLoop', 'informers', 'reconciler']);
    expect(report.checks['informers']?.message).toMatch(/configmap: synced.*namespaces: synced.*services: synced/);
    expect(Object.values(report.checks).every((check) => check.ok)).toBe(true);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ok: true, leader: true, synced: true });
    expect(await ctl().metric('vipcast_controller_leader')).toBe(1);
    expect(await ctl().metric('vipcast_config_valid')).toBe(1);
    expect(await ctl().metric('vipcast_controller_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(ctl().logs.filter((l) => l['level'] === 'unparsed' || l['level'] === 'stderr')).toEqual([]);
    expect(ctl().logs.find((l) => l['msg'] === 'config loaded')).toMatchObject({ level: 'info', pools: ['main', 'team-a', 'tiny', 'lan'] });
    for (const entry of ctl().logs) expect(typeof entry['time']).toBe('string');
  });

  it('gives an IPv4 Service an address from the pool, with ipMode VIP, the pool annotation and an IPAllocated Event', async () => {
    await createService(admin(), 'apps', 'web4');
    const service = await waitForIngress(admin(), 'apps', 'web4');
    expect(service.status?.loadBalancer?.ingress).toEqual([{ ip: expect.stringMatching(/^192\.0\.2\.\d+$/) as unknown, ipMode: 'VIP' }]);
    const annotated = await waitFor(async () => (await getService(admin(), 'apps', 'web4')).metadata.annotations?.[POOL_ANNOTATION], 10_000, 'the pool annotation');
    expect(annotated).toBe('main');
    const event = await waitForEvent(admin(), 'apps', 'web4', 'IPAllocated');
    expect(event).toMatchObject({ type: 'Normal', reportingController: 'vipcast.io/controller' });
    expect(event.note).toContain(ingressIps(service)[0]);
    const managers = (await getService(admin(), 'apps', 'web4')).metadata.managedFields?.filter((m) => m.manager === 'vipcast-controller') ?? [];
    expect(managers.map((m) => m.subresource ?? '').sort()).toEqual(['', 'status']);
  });

  it('gives an IPv6-only Service an IPv6 address and a dual-stack Service one of each family', async () => {
    await createService(admin(), 'apps', 'web6', { spec: { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' } });
    await createService(admin(), 'apps', 'dual', { spec: { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' } });
    const v6 = await waitForIngress(admin(), 'apps', 'web6');
    expect(ingressIps(v6)[0]).toMatch(/^2001:db8::[0-9a-f]*$/);
    const dual = await waitForIngress(admin(), 'apps', 'dual', 2);
    const [first, second] = ingressIps(dual);
    expect(first).toMatch(/^192\.0\.2\.\d+$/);
    expect(second).toMatch(/^2001:db8::[0-9a-f]*$/);
    expect(dual.status?.loadBalancer?.ingress?.every((i) => i.ipMode === 'VIP')).toBe(true);
  });

  it('gives a Service the address it requests, and two Services with the same sharing key one address', async () => {
    await createService(admin(), 'apps', 'pinned', { annotations: { 'vipcast.io/loadBalancerIPs': '192.0.2.9' } });
    expect(ingressIps(await waitForIngress(admin(), 'apps', 'pinned'))).toEqual(['192.0.2.9']);
    await createService(admin(), 'apps', 'dns-tcp', { port: 53, annotations: { 'vipcast.io/allow-shared-ip': 'apps-dns' } });
    await createService(admin(), 'apps', 'dns-udp', { port: 5353, annotations: { 'vipcast.io/allow-shared-ip': 'apps-dns' } });
    const tcp = ingressIps(await waitForIngress(admin(), 'apps', 'dns-tcp'));
    const udp = ingressIps(await waitForIngress(admin(), 'apps', 'dns-udp'));
    expect(tcp).toHaveLength(1);
    expect(udp).toEqual(tcp);
  });

  it('serves a namespace from its reserved pool and keeps that pool from others', async () => {
    await createService(admin(), 'team-a', 'api');
    expect(ingressIps(await waitForIngress(admin(), 'team-a', 'api'))[0]).toMatch(/^198\.51\.100\.\d$/);
    await createService(admin(), 'apps', 'sneaky', { annotations: { 'vipcast.io/address-pool': 'team-a' } });
    const event = await waitForEvent(admin(), 'apps', 'sneaky', 'AllocationFailed');
    expect(event.type).toBe('Warning');
    expect(event.note).toContain('team-a');
    expect(ingressIps(await getService(admin(), 'apps', 'sneaky'))).toEqual([]);
  });

  it('never touches a Service of another loadBalancerClass', async () => {
    await createService(admin(), 'other', 'foreign', { spec: { loadBalancerClass: 'example.com/other-lb' } });
    // A Service created afterwards is served, so the controller has seen the foreign one by then.
    await createService(admin(), 'other', 'after');
    await waitForIngress(admin(), 'other', 'after');
    await waitForEvent(admin(), 'other', 'after', 'IPAllocated');
    const foreign = await getService(admin(), 'other', 'foreign');
    expect(foreign.status?.loadBalancer?.ingress).toBeUndefined();
    expect(foreign.metadata.annotations?.[POOL_ANNOTATION]).toBeUndefined();
    expect(foreign.metadata.managedFields?.some((m) => m.manager === 'vipcast-controller')).toBe(false);
    expect(await eventsAbout(admin(), 'other', 'foreign')).toEqual([]);
  });

  it('reports an exhausted pool with AllocationFailed and serves the waiting Service once an address is freed', async () => {
    const tiny = { annotations: { 'vipcast.io/address-pool': 'tiny' } };
    await createService(admin(), 'apps', 'tiny-1', tiny);
    await createService(admin(), 'apps', 'tiny-2', tiny);
    const held1 = ingressIps(await waitForIngress(admin(), 'apps', 'tiny-1'));
    await waitForIngress(admin(), 'apps', 'tiny-2');
    await createService(admin(), 'apps', 'tiny-3', tiny);
    const failed = await waitForEvent(admin(), 'apps', 'tiny-3', 'AllocationFailed');
    expect(failed.note).toContain('no IPv4 address left in pool "tiny"');
    expect(ingressIps(await getService(admin(), 'apps', 'tiny-3'))).toEqual([]);

    await deleteService(admin(), 'apps', 'tiny-1');
    expect(ingressIps(await waitForIngress(admin(), 'apps', 'tiny-3'))).toEqual(held1);
    expect((await waitForEvent(admin(), 'apps', 'tiny-1', 'IPReleased')).note).toContain(held1[0]);
  });

  it('releases the address and clears what it wrote when a Service stops being a LoadBalancer', async () => {
    await createService(admin(), 'apps', 'switch');
    const [ip] = ingressIps(await waitForIngress(admin(), 'apps', 'switch'));
    await kubeExpectOk(admin(), '/api/v1/namespaces/apps/services/switch', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { spec: { type: 'ClusterIP', allocateLoadBalancerNodePorts: null, ports: [{ name: 'p', port: 80, protocol: 'TCP', nodePort: null }] } },
    });
    await waitForEvent(admin(), 'apps', 'switch', 'IPReleased');
    const cleared = await waitFor(async () => {
      const s = await getService(admin(), 'apps', 'switch');
      return ingressIps(s).length === 0 && s.metadata.annotations?.[POOL_ANNOTATION] === undefined ? s : undefined;
    }, 10_000, 'the status and annotation to be cleared');
    expect(cleared.spec.type).toBe('ClusterIP');
    // The freed address goes to the next Service that needs one.
    await createService(admin(), 'apps', 'next', { annotations: { 'vipcast.io/loadBalancerIPs': ip ?? '' } });
    expect(ingressIps(await waitForIngress(admin(), 'apps', 'next'))).toEqual([ip]);
  });

  it('keeps the last valid config when the ConfigMap turns invalid, and says why with YAML paths', async () => {
    const before = ingressIps(await getService(admin(), 'apps', 'web4'));
    await putConfig(BROKEN);
    const event = await waitForEvent(admin(), 'vipcast-system', 'vipcast-config', 'ConfigRejected');
    expect(event.type).toBe('Warning');
    expect(event.note).toContain('address-pools[0].protocol');
    expect(event.note).toContain('address-pools[0].addresses[1]');
    await waitFor(async () => (await ctl().metric('vipcast_config_valid')) === 0, 10_000, 'vipcast_config_valid 0');
    expect(await ctl().metric('vipcast_config_errors')).toBe(2);
    const logged = ctl().logs.find((l) => l['msg'] === 'config rejected; the last valid config stays in force');
    expect(logged?.['level']).toBe('warn');
    expect(JSON.stringify(logged?.['errors'])).toContain('address-pools[0].protocol');
    // The old config still allocates, and nothing moved.
    await createService(admin(), 'apps', 'during-bad-config');
    expect(ingressIps(await waitForIngress(admin(), 'apps', 'during-bad-config'))[0]).toMatch(/^192\.0\.2\.\d+$/);
    expect(ingressIps(await getService(admin(), 'apps', 'web4'))).toEqual(before);

    await putConfig(CONFIG);
    await waitFor(async () => (await ctl().metric('vipcast_config_valid')) === 1, 10_000, 'vipcast_config_valid 1');
  });

  it('serves the Services of examples/ as their comments say', async () => {
    const files = ['examples/dual-stack-service.yaml', 'examples/requested-ip.yaml', 'examples/shared-ip.yaml'];
    const objects = (await Promise.all(files.map(readManifest))).flat();
    expect(objects.map((o) => o.metadata.name).sort()).toEqual(['dns-tcp', 'dns-udp', 'ingress', 'web-dual']);
    for (const object of objects) expect((await applyObject(admin(), object, true)).status, object.metadata.name).toBe(201);
    for (const object of objects) expect((await applyObject(admin(), object, false)).status, object.metadata.name).toBe(201);
    expect(ingressIps(await waitForIngress(admin(), 'default', 'web-dual', 2))).toHaveLength(2);
    expect(ingressIps(await waitForIngress(admin(), 'default', 'ingress', 2))).toEqual(['192.168.1.245', 'fd00:1::45']);
    const tcp = ingressIps(await waitForIngress(admin(), 'default', 'dns-tcp'));
    expect(ingressIps(await waitForIngress(admin(), 'default', 'dns-udp'))).toEqual(tcp);
  });

  it('moves a Service whose pool a new config shrinks, saying why in an IPChanged Event', async () => {
    await createService(admin(), 'apps', 'moved', { annotations: { 'vipcast.io/loadBalancerIPs': '192.0.2.14' } });
    await waitForIngress(admin(), 'apps', 'moved');
    await kubeExpectOk(admin(), '/api/v1/namespaces/apps/services/moved', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'vipcast.io/loadBalancerIPs': null } } },
    });
    const before = await allIngress();
    await putConfig(CONFIG.replace('192.0.2.0/28', '192.0.2.0/29, 192.0.2.128/28'));
    const event = await waitForEvent(admin(), 'apps', 'moved', 'IPChanged');
    expect(event.note).toContain('192.0.2.14 is no longer in pool "main"');
    const [ip] = ingressIps(await getService(admin(), 'apps', 'moved'));
    expect(ip).not.toBe('192.0.2.14');
    // Only Services holding an address the new config dropped were touched.
    const stillValid = (ips: readonly string[]): boolean => ips.every((a) => !/^192\.0\.2\.(8|9|1[0-5])$/.test(a));
    const untouched = [...before].filter(([, ips]) => stillValid(ips));
    expect(untouched.length).toBeGreaterThan(5);
    const after = await allIngress();
    for (const [key, ips] of untouched) expect(after.get(key), key).toEqual(ips);
    await putConfig(CONFIG);
  });
});
