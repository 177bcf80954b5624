// A controller restart moves no address: a new controller rebuilds its state from the
// status of 1,000 Services (in an order unrelated to their names), writes none of them
// again, and serves Services created while no controller ran without reusing an address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeExpectOk, kubeRequest, type KubeCredentials } from '../../lab/kube-client.js';
import { stopController, waitFor, type ControllerProcess } from '../../lab/cluster-helpers.js';
import { ensureNamespace, ingressIps, type TestService } from './services.js';
import { startVipcastCluster, waitLeading, waitReady, type VipcastCluster } from '../../lab/vipcast-cluster.js';

const COUNT = 1_000;
const NAMESPACE = 'bulk';
const CONFIG = `
address-pools:
- name: bulk
  protocol: layer2
  addresses: [10.100.0.0/20, 'fd00:100::/116']
`;

let cluster: VipcastCluster | undefined;
let startError: unknown;
const started: ControllerProcess[] = [];

function vipcast(): VipcastCluster {
  if (cluster === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return cluster;
}

beforeAll(async () => {
  try {
    cluster = await startVipcastCluster(CONFIG);
    await ensureNamespace(cluster.admin, NAMESPACE);
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  for (const controller of started) await stopController(controller);
  await cluster?.server.stop();
}, 60_000);

/** Runs `task` over `items` with at most `width` running at once. */
async function pool<T>(items: readonly T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** The i-th Service: mostly IPv4, every 10th dual-stack, pairs 0/1, 100/101... share a key. */
function serviceBody(i: number, name: string): unknown {
  const dual = i % 10 === 5;
  const shared = i % 100 < 2;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, annotations: shared ? { 'vipcast.io/allow-shared-ip': `pair-${Math.floor(i / 100)}` } : {} },
    spec: {
      type: 'LoadBalancer',
      selector: { app: name },
      ports: [{ name: 'p', port: shared ? 8000 + (i % 100) : 80, protocol: 'TCP' }],
      ...(dual ? { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' } : {}),
    },
  };
}

async function createAll(admin: KubeCredentials, names: readonly string[], offset = 0): Promise<void> {
  await pool(
    names.map((name, i) => ({ name, i: i + offset })),
    12,
    async ({ name, i }) => {
      await kubeExpectOk(admin, `/api/v1/namespaces/${NAMESPACE}/services`, { method: 'POST', body: serviceBody(i, name) });
    },
  );
}

async function statusByName(admin: KubeCredentials): Promise<Map<string, string[]>> {
  const list = (await kubeExpectOk(admin, `/api/v1/namespaces/${NAMESPACE}/services`)) as { items: TestService[] };
  return new Map(list.items.map((s) => [s.metadata.name, ingressIps(s)]));
}

describe('restarting the controller', () => {
  it(`moves none of ${COUNT} addresses and rewrites no status`, async () => {
    const { admin } = vipcast();
    // Names in an order unrelated to creation order: a controller that re-allocated in list
    // (name) order instead of restoring from status would hand out different addresses.
    const names = Array.from({ length: COUNT }, (_, i) => `svc-${((i * 7919) % COUNT).toString().padStart(4, '0')}-${i % 3}`);
    const first = vipcast().startController(['--identity=first']);
    started.push(first);
    await waitLeading(first);
    await createAll(admin, names);
    const before = await waitFor(
      async () => {
        const map = await statusByName(admin);
        return [...map.values()].every((ips) => ips.length > 0) && map.size === COUNT ? map : undefined;
      },
      90_000,
      `all ${COUNT} Services to get addresses`,
    );
    expect([...before.values()].filter((ips) => ips.length === 2)).toHaveLength(COUNT / 10);
    expect(before.get(names[0] ?? '')).toEqual(before.get(names[1] ?? ''));
    const distinct = new Set([...before.values()].map((ips) => ips.join(',')));
    expect(distinct.size).toBe(COUNT - COUNT / 100);
    expect(await stopController(first)).toBe(0);

    // While no controller runs: three Services go away, two new ones arrive.
    const gone = [names[10], names[20], names[30]].filter((n): n is string => n !== undefined);
    for (const name of gone) expect((await kubeRequest(admin, `/api/v1/namespaces/${NAMESPACE}/services/${name}`, { method: 'DELETE' })).status).toBe(200);
    await createAll(admin, ['late-a', 'late-b'], 3);

    const t0 = performance.now();
    const second = vipcast().startController(['--identity=second']);
    started.push(second);
    await waitLeading(second);
    await waitReady(second);
    const after = await waitFor(
      async () => {
        const map = await statusByName(admin);
        return (map.get('late-a')?.length ?? 0) > 0 && (map.get('late-b')?.length ?? 0) > 0 ? map : undefined;
      },
      30_000,
      'the Services created meanwhile to get addresses',
    );
    console.log(`restart with ${COUNT} Services: leading, synced and serving new Services after ${Math.round(performance.now() - t0)} ms`);
    for (const [name, ips] of before) if (!gone.includes(name)) expect(after.get(name), name).toEqual(ips);
    const restored = second.logs.find((l) => l['msg'] === 'allocations restored from Service status');
    expect(restored).toMatchObject({ restored: COUNT - gone.length, refused: 0 });
    // The newcomers got addresses nobody else holds (a deleted Service's address may be reused).
    const held = new Set([...after].filter(([name]) => !name.startsWith('late-')).flatMap(([, ips]) => ips));
    for (const name of ['late-a', 'late-b']) for (const ip of after.get(name) ?? []) expect(held.has(ip), `${name} ${ip}`).toBe(false);
    // Only the two newcomers' status was written (status + annotation each), nothing else.
    await waitFor(async () => (await second.metric('vipcast_controller_api_writes_total', { kind: 'annotation' })) === 2, 10_000, 'two annotation writes');
    expect(await second.metric('vipcast_controller_api_writes_total', { kind: 'status' })).toBe(2);
  });

  it('starts without a ConfigMap, waits, then restores and serves once one appears', async () => {
    const { admin } = vipcast();
    for (const controller of started) await stopController(controller);
    const before = await statusByName(admin);
    const configMap = '/api/v1/namespaces/vipcast-system/configmaps/vipcast-config';
    expect((await kubeRequest(admin, configMap, { method: 'DELETE' })).status).toBe(200);
    const third = vipcast().startController(['--identity=third']);
    started.push(third);
    await waitLeading(third);
    await waitReady(third);
    await createAll(admin, ['waiting'], 7);
    await waitFor(async () => (await third.metric('vipcast_config_valid')) === 0, 10_000, 'the missing config to be reported');
    expect((await statusByName(admin)).get('waiting')).toEqual([]);

    await kubeExpectOk(admin, '/api/v1/namespaces/vipcast-system/configmaps', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vipcast-config' }, data: { config: CONFIG } },
    });
    const after = await waitFor(
      async () => {
        const map = await statusByName(admin);
        return (map.get('waiting')?.length ?? 0) > 0 ? map : undefined;
      },
      20_000,
      'the waiting Service to be served once the ConfigMap exists',
    );
    for (const [name, ips] of before) expect(after.get(name), name).toEqual(ips);
    const held = new Set([...before.values()].flat());
    expect(held.has(after.get('waiting')?.[0] ?? '')).toBe(false);
  });
});
