// The speaker reads the same config source as the controller: with `--config-source
// kube-vip` its runtime watches kube-vip-cloud-provider's ConfigMap in kube-system (by name,
// as RBAC's resourceNames requires), reads it key by key, and keeps its Leases in the vipcast
// namespace. The runtime's caches are filled by a fake API's lists; their watches never open.
import { afterEach, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../src/k8s/events.js';
import { KubeApiError, type KubeRest, type KubeWatcher } from '../../../src/k8s/rest.js';
import { createLogger } from '../../../src/log.js';
import { SpeakerRuntime, type SpeakerRuntimeOptions } from '../../../src/speaker/runtime.js';
import { SpeakerLease, defaultSpeakerLeaseTiming } from '../../../src/speaker/speaker-lease.js';

const leaseNamespace = 'vipcast-system';

function service(namespace: string, name: string, ip: string): object {
  return { metadata: { namespace, name, uid: `uid-${name}`, resourceVersion: '1' }, spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip }] } } };
}

/** Both ConfigMaps exist: which one the speaker reads shows in the pools its VIPs come from. */
const collections: Record<string, object[]> = {
  '/api/v1/services': [service('shop', 'web', '198.51.100.1'), service('apps', 'api', '192.0.2.3')],
  '/apis/discovery.k8s.io/v1/endpointslices': [],
  '/api/v1/nodes': [{ metadata: { name: 'node-1', resourceVersion: '1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }],
  '/api/v1/namespaces/kube-system/configmaps': [{ metadata: { namespace: 'kube-system', name: 'kubevip', resourceVersion: '1' }, data: { 'cidr-global': '192.0.2.0/28', 'cidr-shop': '198.51.100.0/29' } }],
  [`/api/v1/namespaces/${leaseNamespace}/configmaps`]: [
    { metadata: { namespace: leaseNamespace, name: 'vipcast-config', resourceVersion: '1' }, data: { config: 'address-pools:\n- name: office\n  protocol: layer2\n  addresses: [192.0.2.0/24, 198.51.100.0/24]\n' } },
  ],
  [`/apis/coordination.k8s.io/v1/namespaces/${leaseNamespace}/leases`]: [],
  // MetalLB's objects, as the API lists them: items carry no kind or apiVersion.
  '/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools': [
    { metadata: { namespace: 'metallb-system', name: 'shop-pool', resourceVersion: '3' }, spec: { addresses: ['198.51.100.0/29'] } },
    { metadata: { namespace: 'metallb-system', name: 'general', resourceVersion: '4' }, spec: { addresses: ['192.0.2.0/28'] } },
  ],
  '/apis/metallb.io/v1beta1/namespaces/metallb-system/l2advertisements': [{ metadata: { namespace: 'metallb-system', name: 'shop-only', resourceVersion: '5' }, spec: { ipAddressPools: ['shop-pool'] } }],
  '/apis/metallb.io/v1beta1/namespaces/metallb-system/bgpadvertisements': [],
  '/apis/metallb.io/v1beta2/namespaces/metallb-system/bgppeers': [],
  '/apis/metallb.io/v1beta1/namespaces/metallb-system/bfdprofiles': [],
  '/apis/metallb.io/v1beta1/namespaces/metallb-system/communities': [],
  '/api/v1/namespaces/metallb-system/secrets': [],
};

/** A KubeRest serving `collections` and recording every GET path. */
function fakeApi(): { rest: KubeRest & KubeWatcher; gets: string[] } {
  const gets: string[] = [];
  const saved = <T>(body: unknown): Promise<T> => Promise.resolve({ ...(body as object), metadata: { ...(body as { metadata?: object }).metadata, resourceVersion: '2' } } as T);
  const rest: KubeRest & KubeWatcher = {
    watch: () => ({ done: new Promise<never>(() => undefined), abort: () => undefined }),
    get: <T>(path: string) => {
      gets.push(path);
      const items = collections[path.split('?')[0] ?? ''];
      return items === undefined ? Promise.reject(new KubeApiError('GET', path, 404, { reason: 'NotFound' })) : Promise.resolve({ metadata: { resourceVersion: '1' }, items } as T);
    },
    create: <T>(_path: string, body: unknown) => saved<T>(body),
    replace: <T>(_path: string, body: unknown) => saved<T>(body),
    mergePatch: <T>() => Promise.resolve({} as T),
  };
  return { rest, gets };
}

const running: SpeakerRuntime[] = [];

afterEach(async () => {
  for (const runtime of running.splice(0)) await runtime.stop();
});

type ConfigOptions = SpeakerRuntimeOptions['config'];

async function startRuntime(config: ConfigOptions): Promise<{ runtime: SpeakerRuntime; gets: string[]; logs: string[] }> {
  const { rest, gets } = fakeApi();
  const logs: string[] = [];
  const runtime = new SpeakerRuntime({
    rest,
    node: 'node-1',
    namespace: leaseNamespace,
    config,
    loadBalancerClass: undefined,
    lease: new SpeakerLease(rest, leaseNamespace, 'node-1', defaultSpeakerLeaseTiming, () => performance.now()),
    clock: () => performance.now(),
    log: createLogger('error', {}, (line) => void logs.push(line)),
    events: new EventRecorder(rest, { controller: 'vipcast.io/speaker', instance: 'node-1' }),
    interfacesFor: () => ['eth0'],
    openLink: () => ({ announce: () => undefined, release: () => true, answered: () => 0, close: () => undefined }),
    bgp: undefined,
  });
  running.push(runtime);
  await runtime.start();
  return { runtime, gets, logs };
}

const pools = (runtime: SpeakerRuntime): Record<string, string> => Object.fromEntries(runtime.describe().map((v) => [v.vip, v.pool]));

describe("the speaker with kube-vip-cloud-provider's ConfigMap as its config source", () => {
  it('watches kube-system/kubevip by name, reads its keys as pools, and keeps its Leases in the vipcast namespace', async () => {
    const { runtime, gets } = await startRuntime({ source: 'kube-vip', namespace: 'kube-system', name: 'kubevip' });
    expect(pools(runtime)).toEqual({ '198.51.100.1': 'cidr-shop', '192.0.2.3': 'cidr-global' });
    expect(gets).toContain('/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dkubevip');
    expect(gets).toContain(`/apis/coordination.k8s.io/v1/namespaces/${leaseNamespace}/leases`);
    expect(gets.some((path) => path.startsWith(`/api/v1/namespaces/${leaseNamespace}/configmaps`))).toBe(false);
  });

  it("reads vipcast's own ConfigMap beside its Leases with the vipcast source", async () => {
    const { runtime, gets } = await startRuntime({ source: 'vipcast', namespace: leaseNamespace, name: 'vipcast-config' });
    expect(pools(runtime)).toEqual({ '198.51.100.1': 'office', '192.0.2.3': 'office' });
    expect(gets.some((path) => path.startsWith('/api/v1/namespaces/kube-system/'))).toBe(false);
  });

  it("announces nothing when told the kube-vip format but given vipcast's ConfigMap: one format at a time", async () => {
    const { runtime, logs } = await startRuntime({ source: 'kube-vip', namespace: leaseNamespace, name: 'vipcast-config' });
    expect(runtime.describe()).toEqual([]);
    const rejected = logs.map((line) => JSON.parse(line) as { msg: string; errors?: string[] }).filter((entry) => entry.msg === 'config rejected; keeping the last valid one');
    expect(rejected.flatMap((entry) => entry.errors ?? []).some((error) => error.startsWith('data.config: unknown key "config"'))).toBe(true);
  });
});

describe("the speaker with MetalLB's objects as its config source", () => {
  it('lists the six kinds in metallb-system (BGPPeer as v1beta2), basic-auth Secrets only, and no ConfigMap', async () => {
    const { runtime, gets } = await startRuntime({ source: 'metallb', namespace: 'metallb-system' });
    expect(pools(runtime)).toEqual({ '198.51.100.1': 'shop-pool', '192.0.2.3': 'general' });
    // general is selected by no advertisement: its address is known and announced by no node.
    const modes = Object.fromEntries(runtime.describe().map((v) => [v.vip, `${v.mode} ${v.announcing ? 'announcing' : v.reason}`]));
    expect(modes['192.0.2.3']).toBe('none not-advertised');
    expect(modes['198.51.100.1']?.startsWith('layer2 ')).toBe(true);
    for (const plural of ['ipaddresspools', 'l2advertisements', 'bgpadvertisements', 'bfdprofiles', 'communities']) {
      expect(gets).toContain(`/apis/metallb.io/v1beta1/namespaces/metallb-system/${plural}`);
    }
    expect(gets).toContain('/apis/metallb.io/v1beta2/namespaces/metallb-system/bgppeers');
    expect(gets).toContain('/api/v1/namespaces/metallb-system/secrets?fieldSelector=type%3Dkubernetes.io%2Fbasic-auth');
    expect(gets.some((path) => path.includes('/configmaps'))).toBe(false);
  });

  it('says which CRD is missing when a kind is not served, and announces nothing', async () => {
    const saved = collections['/apis/metallb.io/v1beta1/namespaces/metallb-system/communities'];
    delete collections['/apis/metallb.io/v1beta1/namespaces/metallb-system/communities'];
    try {
      const { rest } = fakeApi();
      const logs: string[] = [];
      const runtime = new SpeakerRuntime({
        rest,
        node: 'node-1',
        namespace: leaseNamespace,
        config: { source: 'metallb', namespace: 'metallb-system' },
        loadBalancerClass: undefined,
        lease: new SpeakerLease(rest, leaseNamespace, 'node-1', defaultSpeakerLeaseTiming, () => performance.now()),
        clock: () => performance.now(),
        log: createLogger('warn', {}, (line) => void logs.push(line)),
        events: new EventRecorder(rest, { controller: 'vipcast.io/speaker', instance: 'node-1' }),
        interfacesFor: () => ['eth0'],
        openLink: () => ({ announce: () => undefined, release: () => true, answered: () => 0, close: () => undefined }),
        bgp: undefined,
      });
      running.push(runtime);
      void runtime.start();
      const started = Date.now();
      while (!logs.some((l) => l.includes('communities.metallb.io is not served')) && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 20));
      expect(logs.find((l) => l.includes('communities.metallb.io is not served'))).toContain("install MetalLB's CRDs or vipcast's (manifests/metallb-crds.yaml)");
      expect(runtime.synced).toBe(false);
      expect(runtime.describe()).toEqual([]);
    } finally {
      if (saved) collections['/apis/metallb.io/v1beta1/namespaces/metallb-system/communities'] = saved;
    }
  });
});
