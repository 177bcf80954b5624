// Two controller replicas against a real API server: exactly one writes. The standby takes
// over when the leader is frozen (as if partitioned), killed, or stopped; a frozen leader
// that wakes up after losing the Lease writes nothing and exits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeExpectOk, writeKubeconfig } from '../../lab/kube-client.js';
import { startController, stopController, waitFor, type ControllerProcess } from '../../lab/cluster-helpers.js';
import { join } from 'node:path';
import { createService, ensureNamespace, getService, ingressIps, waitForIngress, type TestEvent } from './services.js';
import { startTcpProxy } from './tcp-proxy.js';
import { fastLease, startVipcastCluster, waitLeading, waitReady, type VipcastCluster } from '../../lab/vipcast-cluster.js';

const CONFIG = `
address-pools:
- name: main
  protocol: layer2
  addresses: [192.0.2.0/24]
`;
const LEASE = '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/vipcast-controller';

let cluster: VipcastCluster | undefined;
let startError: unknown;
const started: ControllerProcess[] = [];

function vipcast(): VipcastCluster {
  if (cluster === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return cluster;
}

function start(identity: string): ControllerProcess {
  const controller = vipcast().startController([...fastLease, `--identity=${identity}`]);
  started.push(controller);
  return controller;
}

async function holder(): Promise<string | undefined> {
  const lease = (await kubeExpectOk(vipcast().admin, LEASE)) as { spec?: { holderIdentity?: string } };
  return lease.spec?.holderIdentity;
}

async function reporters(): Promise<Map<string, string>> {
  const list = (await kubeExpectOk(vipcast().admin, '/apis/events.k8s.io/v1/namespaces/apps/events')) as { items: (TestEvent & { reportingInstance?: string })[] };
  return new Map(list.items.filter((e) => e.reason === 'IPAllocated').map((e) => [e.regarding.name, e.reportingInstance ?? '']));
}

/** Sum of a controller's Service and Event writes (status, annotation, event). */
async function serviceWrites(controller: ControllerProcess): Promise<number> {
  let sum = 0;
  for (const kind of ['status', 'annotation', 'event']) sum += await controller.metric('vipcast_controller_api_writes_total', { kind });
  return sum;
}

beforeAll(async () => {
  try {
    cluster = await startVipcastCluster(CONFIG);
    await ensureNamespace(cluster.admin, 'apps');
  } catch (error) {
    startError = error;
  }
}, 120_000);

afterAll(async () => {
  for (const controller of started) await stopController(controller, 'SIGKILL');
  await cluster?.server.stop();
}, 60_000);

describe('two controller replicas', () => {
  it('run active/standby: only the Lease holder writes, and the standby takes over from a frozen leader, which then writes nothing', async () => {
    const { admin } = vipcast();
    const a = start('replica-a');
    await waitLeading(a);
    const b = start('replica-b');
    await waitReady(b);
    expect(await b.metric('vipcast_controller_leader')).toBe(0);
    expect(await holder()).toBe('replica-a');

    await createService(admin, 'apps', 'one');
    const one = ingressIps(await waitForIngress(admin, 'apps', 'one'));
    await waitFor(async () => (await reporters()).get('one'), 10_000, 'the IPAllocated Event about one');
    expect((await reporters()).get('one')).toBe('replica-a');
    expect(await serviceWrites(a)).toBeGreaterThanOrEqual(3);
    expect(await serviceWrites(b)).toBe(0);
    expect(await b.metric('vipcast_controller_api_writes_total', { kind: 'lease' })).toBe(0);

    // Freeze the leader, as a partition would: it cannot renew, and after the lease
    // duration (by B's own clock) B takes over.
    process.kill(a.pid, 'SIGSTOP');
    const frozenAt = performance.now();
    await waitLeading(b, 20_000);
    console.log(`standby took over from a frozen leader after ${Math.round(performance.now() - frozenAt)} ms (lease 4 s)`);
    expect(await holder()).toBe('replica-b');
    await createService(admin, 'apps', 'two');
    const two = ingressIps(await waitForIngress(admin, 'apps', 'two'));
    expect(two).not.toEqual(one);

    // The old leader wakes up with a stale cache and a queue of changes it missed.
    const resumedAt = new Date();
    process.kill(a.pid, 'SIGCONT');
    expect(await a.exited).toBe(1);
    expect(a.logs.some((l) => l['msg'] === 'lost leadership; exiting')).toBe(true);
    const wroteAfterResume = a.logs.filter((l) => Date.parse(String(l['time'])) >= resumedAt.getTime() && /^service (allocated|changed|released|failed)$/.test(String(l['msg'])));
    console.log(`the woken leader made ${wroteAfterResume.length} decision(s) after resuming; log: ${a.logs.filter((l) => Date.parse(String(l['time'])) >= resumedAt.getTime()).map((l) => `${String(l['msg'])} ${typeof l['error'] === 'string' ? l['error'] : ''}`).join(' | ')}`);
    // It may decide (in memory), but every write is refused before it reaches the API.
    for (const entry of wroteAfterResume) expect(a.logs.some((l) => l['msg'] === 'reconcile failed, retrying' && l['service'] === entry['service'])).toBe(true);
    expect(ingressIps(await getService(admin, 'apps', 'two'))).toEqual(two);
    expect(ingressIps(await getService(admin, 'apps', 'one'))).toEqual(one);
    expect((await reporters()).get('two')).toBe('replica-b');
    expect(await holder()).toBe('replica-b');
    // Not one Event from the woken leader (it would follow a status write it made).
    const events = (await kubeExpectOk(admin, '/apis/events.k8s.io/v1/namespaces/apps/events')) as { items: { reportingInstance?: string; eventTime?: string }[] };
    expect(events.items.filter((e) => e.reportingInstance === 'replica-a' && Date.parse(e.eventTime ?? '') >= resumedAt.getTime() - 1)).toEqual([]);
  });

  it('hands over at once on SIGTERM, and after a kill once the Lease expires', async () => {
    const { admin } = vipcast();
    const b = started.find((c) => c.logs.some((l) => l['identity'] === 'replica-b'));
    if (b === undefined) throw new Error('replica-b is not running (the previous test failed)');
    const c = start('replica-c');
    await waitReady(c);
    const stoppedAt = performance.now();
    expect(await stopController(b, 'SIGTERM')).toBe(0);
    await waitLeading(c, 10_000);
    const handover = performance.now() - stoppedAt;
    console.log(`planned handover (SIGTERM) took ${Math.round(handover)} ms`);
    // Released, not expired: well under the 4 s lease duration.
    expect(handover).toBeLessThan(3_000);
    await createService(admin, 'apps', 'three');
    await waitForIngress(admin, 'apps', 'three');
    await waitFor(async () => (await reporters()).get('three'), 10_000, 'the IPAllocated Event about three');
    expect((await reporters()).get('three')).toBe('replica-c');

    const d = start('replica-d');
    await waitReady(d);
    process.kill(c.pid, 'SIGKILL');
    const killedAt = performance.now();
    await waitLeading(d, 20_000);
    console.log(`standby took over from a killed leader after ${Math.round(performance.now() - killedAt)} ms (lease 4 s)`);
    await createService(admin, 'apps', 'four');
    const four = ingressIps(await waitForIngress(admin, 'apps', 'four'));
    const all = await Promise.all(['one', 'two', 'three'].map(async (n) => ingressIps(await getService(admin, 'apps', n))));
    expect(all.flat()).not.toContain(four[0]);
    expect(await d.metric('vipcast_controller_api_writes_total', { kind: 'status' })).toBe(1);
  });

  it('replaces a leader cut off from the API server, which gives up at its renew deadline and writes nothing after the network heals', async () => {
    const { admin, controllerCredentials, server } = vipcast();
    const d = started.find((c) => c.logs.some((l) => l['identity'] === 'replica-d'));
    if (d === undefined) throw new Error('replica-d is not running (the previous test failed)');
    // Replica E reaches the API server only through a proxy the test can cut.
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    try {
      const viaProxy = await writeKubeconfig({ ...controllerCredentials, server: `https://127.0.0.1:${proxy.port}` }, join(server.dir, 'proxied.kubeconfig'));
      const e = startController([`--kubeconfig=${viaProxy}`, ...fastLease, '--identity=replica-e']);
      started.push(e);
      await waitReady(e);
      expect(await stopController(d, 'SIGTERM')).toBe(0);
      await waitLeading(e, 10_000);
      const f = start('replica-f');
      await waitReady(f);

      proxy.cut();
      const cutAt = performance.now();
      await waitLeading(f, 20_000);
      console.log(`standby took over from a partitioned leader after ${Math.round(performance.now() - cutAt)} ms (lease 4 s)`);
      await createService(admin, 'apps', 'five');
      const five = ingressIps(await waitForIngress(admin, 'apps', 'five'));
      await waitFor(async () => (await reporters()).get('five'), 10_000, 'the IPAllocated Event about five');

      const healedAt = new Date();
      proxy.restore();
      expect(await e.exited).toBe(1);
      expect(e.logs.some((l) => l['msg'] === 'lost leadership; exiting')).toBe(true);
      const events = (await kubeExpectOk(admin, '/apis/events.k8s.io/v1/namespaces/apps/events')) as { items: { reportingInstance?: string; eventTime?: string }[] };
      expect(events.items.filter((ev) => ev.reportingInstance === 'replica-e' && Date.parse(ev.eventTime ?? '') >= healedAt.getTime() - 1)).toEqual([]);
      expect((await reporters()).get('five')).toBe('replica-f');
      expect(ingressIps(await getService(admin, 'apps', 'five'))).toEqual(five);
      expect(await holder()).toBe('replica-f');
    } finally {
      await proxy.close();
    }
  });
});
