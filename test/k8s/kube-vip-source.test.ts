// `--config-source kube-vip` against a real kube-apiserver: the controller, running as its own
// ServiceAccount with exactly the rights manifests/vipcast.yaml and manifests/
// kube-vip-source.yaml grant, reads kube-vip-cloud-provider's ConfigMap kube-system/kubevip;
// Services get addresses from the key kube-vip-cloud-provider would have used, a Service it
// already served keeps its address, and a bad key is reported as our own format's errors are.
// The speaker's runtime, as its own ServiceAccount, reads the same ConfigMap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigMapFlags } from '../../src/cli/config-map-flags.js';
import { EventRecorder } from '../../src/k8s/events.js';
import { staticAccess } from '../../src/k8s/kubeconfig.js';
import { createKubeRest } from '../../src/k8s/rest.js';
import { createLogger } from '../../src/log.js';
import { SpeakerRuntime } from '../../src/speaker/runtime.js';
import { SpeakerLease, defaultSpeakerLeaseTiming } from '../../src/speaker/speaker-lease.js';
import { kubeExpectOk, kubeRequest, type KubeCredentials } from '../../lab/kube-client.js';
import { installManifests, stopController, waitFor, type ApplyOutcome, type ControllerProcess } from '../../lab/cluster-helpers.js';
import { createService, ensureNamespace, eventsAbout, getService, ingressIps, waitForEvent, waitForIngress } from './services.js';
import { fastLease, startVipcastCluster, waitLeading, type VipcastCluster } from '../../lab/vipcast-cluster.js';

const POOL_ANNOTATION = 'vipcast.io/ip-allocated-from-pool';
const KUBE_VIP_IPS = 'kube-vip.io/loadbalancerIPs';
const KUBEVIP = '/api/v1/namespaces/kube-system/configmaps/kubevip';
/** vipcast's own ConfigMap also exists, with other addresses: an address from it means the wrong source was read. */
const DECOY = `
address-pools:
- name: decoy
  protocol: layer2
  addresses: [10.99.0.0/28]
`;
const KUBE_VIP_DATA = { 'cidr-global': '192.0.2.0/28', 'cidr-team-a': '198.51.100.0/29' };
/** The address kube-vip-cloud-provider gave apps/legacy (not the lowest free one). */
const LEGACY_IP = '192.0.2.9';

let cluster: VipcastCluster | undefined;
let startError: unknown;
let controller: ControllerProcess | undefined;
let sourceDryRuns: ApplyOutcome[] = [];

function vipcast(): VipcastCluster {
  if (cluster === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return cluster;
}
const admin = (): KubeCredentials => vipcast().admin;
function ctl(): ControllerProcess {
  if (controller === undefined) throw new Error('the controller did not start');
  return controller;
}

beforeAll(async () => {
  try {
    cluster = await startVipcastCluster(DECOY);
    sourceDryRuns = await installManifests(cluster.admin, ['manifests/kube-vip-source.yaml']);
    await kubeExpectOk(cluster.admin, '/api/v1/namespaces/kube-system/configmaps', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubevip' }, data: KUBE_VIP_DATA },
    });
    for (const ns of ['apps', 'team-a', 'other']) await ensureNamespace(cluster.admin, ns);
    // What kube-vip-cloud-provider leaves behind: the annotation and the status address.
    await createService(cluster.admin, 'apps', 'legacy', { annotations: { [KUBE_VIP_IPS]: LEGACY_IP } });
    await kubeExpectOk(cluster.admin, '/api/v1/namespaces/apps/services/legacy/status', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { status: { loadBalancer: { ingress: [{ ip: LEGACY_IP }] } } },
    });
    controller = cluster.startController([...fastLease, '--identity=solo', '--config-source=kube-vip']);
    await waitLeading(controller);
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  if (controller) await stopController(controller);
  await cluster?.server.stop();
}, 60_000);

const statusFor = async (credentials: KubeCredentials, path: string): Promise<number> => (await kubeRequest(credentials, path)).status;

describe("vipcast with kube-vip-cloud-provider's ConfigMap as its config source", () => {
  it('grants the controller and the speakers ConfigMap kube-system/kubevip, read by name, and nothing else in kube-system', async () => {
    const { server, controllerCredentials } = vipcast();
    expect(sourceDryRuns.map((o) => `${o.object.kind} ${o.object.metadata.namespace ?? ''}/${o.object.metadata.name}`)).toEqual(['Role kube-system/vipcast-kube-vip-source', 'RoleBinding kube-system/vipcast-kube-vip-source']);
    expect(sourceDryRuns.filter((o) => o.status !== 200 && o.status !== 201)).toEqual([]);
    await kubeExpectOk(admin(), '/api/v1/namespaces/kube-system/configmaps', { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated' }, data: { secret: 'x' } } });
    const speakerCredentials = await server.serviceAccountToken('vipcast-system', 'vipcast-speaker');
    for (const [who, credentials] of [['controller', controllerCredentials], ['speaker', speakerCredentials]] as const) {
      // What the informers send works...
      expect(await statusFor(credentials, KUBEVIP), `${who} GET kubevip`).toBe(200);
      expect(await statusFor(credentials, '/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dkubevip'), `${who} LIST kubevip by name`).toBe(200);
      expect(await statusFor(credentials, '/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dkubevip&watch=true&timeoutSeconds=1'), `${who} WATCH kubevip by name`).toBe(200);
      // ...and nothing else in kube-system does.
      expect(await statusFor(credentials, '/api/v1/namespaces/kube-system/configmaps'), `${who} LIST all ConfigMaps`).toBe(403);
      expect(await statusFor(credentials, '/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dunrelated'), `${who} LIST another by name`).toBe(403);
      expect(await statusFor(credentials, '/api/v1/namespaces/kube-system/configmaps/unrelated'), `${who} GET another`).toBe(403);
      expect(await statusFor(credentials, '/api/v1/namespaces/kube-system/secrets'), `${who} LIST Secrets`).toBe(403);
    }
  });

  it('says in its start line which source and ConfigMap it reads, and loads one pool per key', async () => {
    await ctl().metricsPort();
    expect(ctl().logs.find((l) => l['msg'] === 'controller started')).toMatchObject({ configSource: 'kube-vip', configMap: 'kube-system/kubevip', namespace: 'vipcast-system' });
    const loaded = await waitFor(() => ctl().logs.find((l) => l['msg'] === 'config loaded'), 10_000, 'the config to load');
    expect(loaded['pools']).toEqual(['cidr-team-a', 'cidr-global']);
    expect(await ctl().metric('vipcast_config_valid')).toBe(1);
  });

  it('keeps the address kube-vip-cloud-provider gave a Service: nothing moves', async () => {
    const annotated = await waitFor(async () => (await getService(admin(), 'apps', 'legacy')).metadata.annotations?.[POOL_ANNOTATION], 10_000, 'the pool annotation on apps/legacy');
    expect(annotated).toBe('cidr-global');
    const legacy = await getService(admin(), 'apps', 'legacy');
    expect(legacy.status?.loadBalancer?.ingress).toEqual([{ ip: LEGACY_IP, ipMode: 'VIP' }]);
    expect((await eventsAbout(admin(), 'apps', 'legacy')).map((e) => e.reason)).not.toContain('IPChanged');
    expect(ctl().logs.find((l) => l['msg'] === 'allocations restored from Service status')).toMatchObject({ restored: 1, refused: 0 });
  });

  it("gives a Service of a namespace with its own key an address from that key, and others one from cidr-global", async () => {
    await createService(admin(), 'team-a', 'api');
    await createService(admin(), 'apps', 'web');
    await createService(admin(), 'other', 'web');
    // Like kube-vip-cloud-provider, no address ending in .0 is handed out.
    expect(ingressIps(await waitForIngress(admin(), 'team-a', 'api'))).toEqual(['198.51.100.1']);
    const apps = ingressIps(await waitForIngress(admin(), 'apps', 'web'));
    const other = ingressIps(await waitForIngress(admin(), 'other', 'web'));
    for (const ips of [apps, other]) {
      expect(ips).toHaveLength(1);
      expect(ips[0]).toMatch(/^192\.0\.2\.([1-9]|1[0-5])$/);
      expect(ips[0]).not.toBe(LEGACY_IP);
    }
    expect(apps).not.toEqual(other);
    expect((await getService(admin(), 'team-a', 'api')).metadata.annotations?.[POOL_ANNOTATION]).toBe('cidr-team-a');
  });

  it("the speaker's runtime, as the speaker's ServiceAccount, reads the same ConfigMap and finds each address's pool", async () => {
    const { server } = vipcast();
    const credentials = await server.serviceAccountToken('vipcast-system', 'vipcast-speaker');
    const flags = readConfigMapFlags({ 'config-source': 'kube-vip' }, 'vipcast-system');
    if (!flags.ok) throw new Error(flags.message);
    const config = flags.location;
    const access = staticAccess({ server: credentials.server, ca: credentials.ca, token: credentials.token ?? '' }, 'vipcast-speaker');
    const rest = createKubeRest(access, { fieldManager: 'vipcast-speaker' });
    const clock = (): number => performance.now();
    const logs: string[] = [];
    // The admission policy refuses this token's Lease writes (it is bound to no Pod on a node);
    // that does not stop the runtime from deciding which VIPs exist and where they come from.
    const runtime = new SpeakerRuntime({
      rest,
      node: 'node-a',
      namespace: 'vipcast-system',
      config,
      loadBalancerClass: undefined,
      lease: new SpeakerLease(rest, 'vipcast-system', 'node-a', defaultSpeakerLeaseTiming, clock),
      clock,
      log: createLogger('info', {}, (line) => void logs.push(line)),
      events: new EventRecorder(rest, { controller: 'vipcast.io/speaker', instance: 'node-a' }),
      interfacesFor: () => [],
      openLink: () => {
        throw new Error('no interface in this test');
      },
      bgp: undefined,
    });
    try {
      await runtime.start();
      const expected = new Map([[LEGACY_IP, 'cidr-global'], ['198.51.100.1', 'cidr-team-a']]);
      const pools = await waitFor(() => {
        const found = new Map(runtime.describe().map((v) => [v.vip, v.pool]));
        return [...expected].every(([ip, pool]) => found.get(ip) === pool) ? found : undefined;
      }, 10_000, "the speaker to see the Services' addresses in the kube-vip pools");
      expect(new Set(pools.values())).toEqual(new Set(['cidr-global', 'cidr-team-a']));
      expect(logs.some((line) => line.includes('"msg":"config loaded"'))).toBe(true);
    } finally {
      await runtime.stop();
    }
  });

  it('reports a bad key as a rejected config naming the key (log, Event, metric), and the last valid config stays', async () => {
    const before = ingressIps(await getService(admin(), 'apps', 'web'));
    const patch = (data: Record<string, string | null>): Promise<unknown> => kubeExpectOk(admin(), KUBEVIP, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { data } });
    await patch({ cidr_global: '10.0.0.0/30' });
    const event = await waitForEvent(admin(), 'kube-system', 'kubevip', 'ConfigRejected');
    expect(event).toMatchObject({ type: 'Warning', regarding: { kind: 'ConfigMap', namespace: 'kube-system', name: 'kubevip' } });
    expect(event.note).toContain('data.cidr_global: unknown key "cidr_global"; did you mean "cidr-global"?');
    await waitFor(async () => (await ctl().metric('vipcast_config_valid')) === 0, 10_000, 'vipcast_config_valid 0');
    expect(await ctl().metric('vipcast_config_errors')).toBe(1);
    const logged = ctl().logs.find((l) => l['msg'] === 'config rejected; the last valid config stays in force');
    expect(logged).toMatchObject({ level: 'warn', configMap: 'kube-system/kubevip', configSource: 'kube-vip', inForce: true });
    expect(JSON.stringify(logged?.['errors'])).toContain('data.cidr_global');
    // The last valid config still allocates, and nothing moved.
    await createService(admin(), 'apps', 'during-bad-config');
    expect(ingressIps(await waitForIngress(admin(), 'apps', 'during-bad-config'))[0]).toMatch(/^192\.0\.2\.\d+$/);
    expect(ingressIps(await getService(admin(), 'apps', 'web'))).toEqual(before);
    expect(ingressIps(await getService(admin(), 'apps', 'legacy'))).toEqual([LEGACY_IP]);

    await patch({ cidr_global: null });
    await waitFor(async () => (await ctl().metric('vipcast_config_valid')) === 1, 10_000, 'vipcast_config_valid 1');
  });
});
