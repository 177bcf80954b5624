// The `vipcast.io/AddressAssigned` condition on a real API server, written by the controller
// running as its own ServiceAccount: what it says while there is no valid config, once a
// Service is served, when a pool is exhausted or unknown, and that a condition another
// controller keeps on the same Service is never changed or taken over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeExpectOk, type KubeCredentials } from '../../lab/kube-client.js';
import { stopController, waitFor, type ControllerProcess } from '../../lab/cluster-helpers.js';
import { createService, deleteService, ensureNamespace, getService, ingressIps, waitForIngress } from './services.js';
import { fastLease, startVipcastCluster, waitLeading, type VipcastCluster } from '../../lab/vipcast-cluster.js';

const TYPE = 'vipcast.io/AddressAssigned';
const CONFIG = `
address-pools:
- name: main
  protocol: layer2
  addresses: [192.0.2.0/29]
- name: single
  protocol: layer2
  addresses: [203.0.113.7/32]
  auto-assign: false
`;
const BROKEN = `
address-pools:
- name: main
  protocol: layer-2
  addresses: [192.0.2.0/29]
`;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}
interface ServiceWithConditions {
  metadata: { generation?: number; resourceVersion: string; managedFields?: { manager?: string; subresource?: string; fieldsV1?: { 'f:status'?: { 'f:conditions'?: Record<string, unknown> } } }[] };
  status?: { conditions?: Condition[] };
}

let cluster: VipcastCluster | undefined;
let startError: unknown;
let controller: ControllerProcess | undefined;

function vipcast(): VipcastCluster {
  if (cluster === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return cluster;
}
const admin = (): KubeCredentials => vipcast().admin;

beforeAll(async () => {
  try {
    cluster = await startVipcastCluster(BROKEN);
    await ensureNamespace(cluster.admin, 'apps');
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

async function read(name: string): Promise<ServiceWithConditions> {
  return (await kubeExpectOk(admin(), `/api/v1/namespaces/apps/services/${name}`)) as ServiceWithConditions;
}

/** Waits until the Service's vipcast condition has this reason, and returns it with the Service. */
async function waitForReason(name: string, reason: string): Promise<{ condition: Condition; service: ServiceWithConditions }> {
  return waitFor(
    async () => {
      const service = await read(name);
      const condition = service.status?.conditions?.find((c) => c.type === TYPE);
      return condition?.reason === reason ? { condition, service } : undefined;
    },
    20_000,
    `apps/${name} to show ${TYPE} with reason ${reason}`,
  );
}

/** Adds a condition as another controller would: a merge patch of the status over the resourceVersion read. */
async function addForeignCondition(name: string, condition: Condition): Promise<void> {
  const service = await read(name);
  await kubeExpectOk(admin(), `/api/v1/namespaces/apps/services/${name}/status?fieldManager=firewall-controller`, {
    method: 'PATCH',
    contentType: 'application/merge-patch+json',
    body: { metadata: { resourceVersion: service.metadata.resourceVersion }, status: { conditions: [...(service.status?.conditions ?? []), condition] } },
  });
}

/** The condition keys (`k:{"type":...}`) a field manager owns in status.conditions. */
function ownedConditionKeys(service: ServiceWithConditions, manager: string): string[] {
  const entries = service.metadata.managedFields?.filter((m) => m.manager === manager && m.subresource === 'status') ?? [];
  return entries.flatMap((m) => Object.keys(m.fieldsV1?.['f:status']?.['f:conditions'] ?? {}).filter((k) => k.startsWith('k:')));
}

describe('the AddressAssigned condition on Services', () => {
  it('says ConfigInvalid while no valid config exists, then Assigned once one does, for the current generation', async () => {
    await createService(admin(), 'apps', 'early');
    const waiting = await waitForReason('early', 'ConfigInvalid');
    expect(waiting.condition.status).toBe('False');
    // Services carry no metadata.generation today; the condition mirrors it when they do.
    expect(waiting.condition.observedGeneration).toBe(waiting.service.metadata.generation);
    expect(waiting.condition.message).toContain('no valid address-pool config');

    await vipcast().putConfig(CONFIG);
    const served = await waitForReason('early', 'Assigned');
    const [ip] = ingressIps(await getService(admin(), 'apps', 'early'));
    expect(served.condition).toMatchObject({ status: 'True', message: `${ip} from pool "main"` });
    expect(served.condition.observedGeneration).toBe(served.service.metadata.generation);
    expect(served.condition.lastTransitionTime >= waiting.condition.lastTransitionTime).toBe(true);
    expect(ownedConditionKeys(served.service, 'vipcast-controller')).toEqual([`k:{"type":"${TYPE}"}`]);
  });

  it('says PoolExhausted while the pool has no address left, and Assigned once one is freed', async () => {
    const single = { annotations: { 'vipcast.io/address-pool': 'single' } };
    await createService(admin(), 'apps', 'first', single);
    await waitForIngress(admin(), 'apps', 'first');
    await createService(admin(), 'apps', 'second', single);
    const exhausted = await waitForReason('second', 'PoolExhausted');
    expect(exhausted.condition).toMatchObject({ status: 'False', message: 'no IPv4 address left in pool "single"' });
    await deleteService(admin(), 'apps', 'first');
    expect((await waitForReason('second', 'Assigned')).condition.message).toBe('203.0.113.7 from pool "single"');
  });

  it('says UnknownPool for a pool that does not exist', async () => {
    await createService(admin(), 'apps', 'typo', { annotations: { 'vipcast.io/address-pool': 'mian' } });
    expect((await waitForReason('typo', 'UnknownPool')).condition).toMatchObject({ status: 'False', message: 'pool "mian" does not exist' });
  });

  it('never changes or takes over a condition another controller keeps on the Service', async () => {
    const firewall: Condition = { type: 'example.com/FirewallOpen', status: 'True', reason: 'Opened', message: 'port 80 is open', lastTransitionTime: '2026-01-01T00:00:00Z' };
    await createService(admin(), 'apps', 'shared-status');
    const before = (await waitForReason('shared-status', 'Assigned')).condition;
    await addForeignCondition('shared-status', firewall);
    // A new requested address makes vipcast rewrite its condition; the status stays True.
    await kubeExpectOk(admin(), '/api/v1/namespaces/apps/services/shared-status', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'vipcast.io/loadBalancerIPs': '192.0.2.6' } } },
    });
    const after = await waitFor(
      async () => {
        const service = await read('shared-status');
        const ours = service.status?.conditions?.find((c) => c.type === TYPE);
        return ours?.message === '192.0.2.6 from pool "main"' ? service : undefined;
      },
      20_000,
      'the condition to name the requested address',
    );
    expect(after.status?.conditions?.find((c) => c.type === firewall.type)).toEqual(firewall);
    expect(after.status?.conditions?.find((c) => c.type === TYPE)?.lastTransitionTime).toBe(before.lastTransitionTime);
    expect(ownedConditionKeys(after, 'vipcast-controller')).toEqual([`k:{"type":"${TYPE}"}`]);
    expect(ownedConditionKeys(after, 'firewall-controller')).toEqual([`k:{"type":"${firewall.type}"}`]);

    // Once the Service stops being a LoadBalancer, vipcast removes its condition, and only its own.
    await kubeExpectOk(admin(), '/api/v1/namespaces/apps/services/shared-status', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { spec: { type: 'ClusterIP', allocateLoadBalancerNodePorts: null, ports: [{ name: 'p', port: 80, protocol: 'TCP', nodePort: null }] } },
    });
    const cleared = await waitFor(
      async () => {
        const service = await read('shared-status');
        return service.status?.conditions?.some((c) => c.type === TYPE) === false ? service : undefined;
      },
      20_000,
      'the vipcast condition to be removed',
    );
    expect(cleared.status?.conditions).toEqual([firewall]);
  });

  it('never writes a condition on a Service of another loadBalancerClass', async () => {
    await createService(admin(), 'apps', 'foreign', { spec: { loadBalancerClass: 'example.com/other-lb' } });
    await createService(admin(), 'apps', 'after-foreign');
    await waitForReason('after-foreign', 'Assigned');
    expect((await read('foreign')).status?.conditions ?? []).toEqual([]);
  });
});
