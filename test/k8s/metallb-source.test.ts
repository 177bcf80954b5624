// `--config-source metallb` against a real kube-apiserver: MetalLB replaced in place. The
// cluster holds vipcast's MetalLB CRDs (manifests/metallb-crds.yaml), MetalLB's objects in
// metallb-system, and Services MetalLB served (its annotations, its addresses in status).
// The controller, as its own ServiceAccount with exactly the rights manifests/vipcast.yaml
// and manifests/metallb-source.yaml grant, starts on those objects: no Service moves, new
// ones get addresses with MetalLB's pool rules, and a field vipcast cannot serve is
// reported on the object that has it. The speaker's runtime, as the speaker's ServiceAccount,
// reads the same objects and the BGPPeer's password from its Secret.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigMapFlags } from '../../src/cli/config-map-flags.js';
import { EventRecorder } from '../../src/k8s/events.js';
import { staticAccess } from '../../src/k8s/kubeconfig.js';
import { createKubeRest } from '../../src/k8s/rest.js';
import { createLogger } from '../../src/log.js';
import type { Config } from '../../src/config/types.js';
import { SpeakerRuntime } from '../../src/speaker/runtime.js';
import { SpeakerLease, defaultSpeakerLeaseTiming } from '../../src/speaker/speaker-lease.js';
import { kubeExpectOk, kubeRequest, writeKubeconfig, type KubeCredentials } from '../../lab/kube-client.js';
import { builtKubectl } from '../../lab/kube-binaries.js';
import { installManifests, stopController, waitFor, type ApplyOutcome, type ControllerProcess } from '../../lab/cluster-helpers.js';
import { createService, ensureNamespace, eventsAbout, getService, ingressIps, waitForEvent, waitForIngress } from './services.js';
import { fastLease, startVipcastCluster, waitLeading, type VipcastCluster } from '../../lab/vipcast-cluster.js';

const run = promisify(execFile);
const POOL_ANNOTATION = 'vipcast.io/ip-allocated-from-pool';
const MLB = '/apis/metallb.io/v1beta1/namespaces/metallb-system';
const MLB2 = '/apis/metallb.io/v1beta2/namespaces/metallb-system';
/** vipcast's own ConfigMap also exists, with other addresses: an address from it means the wrong source was read. */
const DECOY = `
address-pools:
- name: decoy
  protocol: layer2
  addresses: [10.99.0.0/28]
`;
/** The addresses MetalLB gave (not the lowest free ones, so a re-allocation would show). */
const KEPT_BY_POOL = '192.0.2.9';
const KEPT_BY_ANNOTATION = '192.0.2.12';

let cluster: VipcastCluster | undefined;
let startError: unknown;
let controller: ControllerProcess | undefined;
let sourceDryRuns: ApplyOutcome[] = [];

function vipcast(): VipcastCluster {
  if (startError instanceof Error) throw startError;
  if (startError !== undefined) throw new Error('the set-up failed');
  if (cluster === undefined) throw new Error('the apiserver did not start');
  return cluster;
}
const admin = (): KubeCredentials => vipcast().admin;
function ctl(): ControllerProcess {
  if (controller === undefined) throw new Error('the controller did not start');
  return controller;
}

const meta = (name: string, labels: Record<string, string> = {}): Record<string, unknown> => ({ name, namespace: 'metallb-system', labels });

async function createMetalLbObjects(credentials: KubeCredentials): Promise<void> {
  const post = (path: string, body: unknown): Promise<unknown> => kubeExpectOk(credentials, path, { method: 'POST', body });
  // The CRDs were just created: wait until the API serves their group.
  await waitFor(async () => (await kubeRequest(credentials, `${MLB}/ipaddresspools`)).status === 200 || undefined, 30_000, 'the metallb.io API');
  await post(`${MLB}/ipaddresspools`, { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta('general', { tier: 'lan' }), spec: { addresses: ['192.0.2.0/28'] } });
  await post(`${MLB}/ipaddresspools`, {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: meta('team'),
    spec: { addresses: ['198.51.100.0/29'], avoidBuggyIPs: true, serviceAllocation: { priority: 10, namespaces: ['team-a'] } },
  });
  await post(`${MLB}/ipaddresspools`, { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta('routed'), spec: { addresses: ['203.0.113.0/28'], autoAssign: false } });
  await post(`${MLB}/l2advertisements`, { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: meta('lan'), spec: { ipAddressPoolSelectors: [{ matchLabels: { tier: 'lan' } }], ipAddressPools: ['team'] } });
  await post(`${MLB}/bgpadvertisements`, { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: meta('routes'), spec: { ipAddressPools: ['routed'], peers: ['tor'], communities: ['no-advertise'] } });
  await post(`${MLB}/communities`, { apiVersion: 'metallb.io/v1beta1', kind: 'Community', metadata: meta('aliases'), spec: { communities: [{ name: 'no-advertise', value: '65535:65282' }] } });
  await post(`${MLB}/bfdprofiles`, { apiVersion: 'metallb.io/v1beta1', kind: 'BFDProfile', metadata: meta('fast'), spec: { receiveInterval: 200, transmitInterval: 200 } });
  await post('/api/v1/namespaces/metallb-system/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tor-md5' }, type: 'kubernetes.io/basic-auth', stringData: { password: 'md5-from-secret' } });
  await post(`${MLB2}/bgppeers`, {
    apiVersion: 'metallb.io/v1beta2',
    kind: 'BGPPeer',
    metadata: meta('tor'),
    spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.254', holdTime: '9s', bfdProfile: 'fast', passwordSecret: { name: 'tor-md5', namespace: 'metallb-system' } },
  });
}

beforeAll(async () => {
  try {
    cluster = await startVipcastCluster(DECOY);
    await ensureNamespace(cluster.admin, 'metallb-system');
    await installManifests(cluster.admin, ['manifests/metallb-crds.yaml']);
    sourceDryRuns = await installManifests(cluster.admin, ['manifests/metallb-source.yaml']);
    await createMetalLbObjects(cluster.admin);
    for (const ns of ['apps', 'team-a']) await ensureNamespace(cluster.admin, ns);
    // What MetalLB leaves behind: its annotations and the addresses in status.
    const served = [
      ['by-pool', { 'metallb.io/ip-allocated-from-pool': 'general' }, KEPT_BY_POOL],
      ['by-annotation', { 'metallb.io/loadBalancerIPs': KEPT_BY_ANNOTATION }, KEPT_BY_ANNOTATION],
    ] as const;
    for (const [name, annotations, ip] of served) {
      await createService(cluster.admin, 'apps', name, { annotations });
      await kubeExpectOk(cluster.admin, `/api/v1/namespaces/apps/services/${name}/status`, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { status: { loadBalancer: { ingress: [{ ip }] } } },
      });
    }
    controller = cluster.startController([...fastLease, '--identity=solo', '--config-source=metallb']);
    await waitLeading(controller);
  } catch (error) {
    startError = error;
  }
}, 180_000);

afterAll(async () => {
  if (controller) await stopController(controller);
  await cluster?.server.stop();
}, 60_000);

const statusFor = async (credentials: KubeCredentials, path: string): Promise<number> => (await kubeRequest(credentials, path)).status;

describe("vipcast with MetalLB's objects as its config source", () => {
  it('grants the controller and the speakers MetalLB\'s kinds and Secrets in metallb-system, and not elsewhere', async () => {
    const { server, controllerCredentials } = vipcast();
    expect(sourceDryRuns.map((o) => `${o.object.kind} ${o.object.metadata.namespace ?? ''}/${o.object.metadata.name}`)).toEqual(['Role metallb-system/vipcast-metallb-source', 'RoleBinding metallb-system/vipcast-metallb-source']);
    const speakerCredentials = await server.serviceAccountToken('vipcast-system', 'vipcast-speaker');
    for (const [who, credentials] of [['controller', controllerCredentials], ['speaker', speakerCredentials]] as const) {
      for (const plural of ['ipaddresspools', 'l2advertisements', 'bgpadvertisements', 'bfdprofiles', 'communities']) {
        expect(await statusFor(credentials, `${MLB}/${plural}`), `${who} LIST ${plural}`).toBe(200);
      }
      expect(await statusFor(credentials, `${MLB2}/bgppeers?watch=true&timeoutSeconds=1`), `${who} WATCH bgppeers`).toBe(200);
      expect(await statusFor(credentials, '/api/v1/namespaces/metallb-system/secrets?fieldSelector=type%3Dkubernetes.io%2Fbasic-auth'), `${who} LIST basic-auth Secrets`).toBe(200);
      expect(await statusFor(credentials, '/apis/metallb.io/v1beta1/namespaces/apps/ipaddresspools'), `${who} LIST pools in another namespace`).toBe(403);
      expect(await statusFor(credentials, '/api/v1/namespaces/apps/secrets'), `${who} LIST Secrets elsewhere`).toBe(403);
      expect((await kubeRequest(credentials, `${MLB}/ipaddresspools`, { method: 'POST', body: { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: meta('x'), spec: { addresses: ['10.1.0.0/24'] } } })).status, `${who} CREATE a pool`).toBe(403);
    }
  });

  it('says in its start line which source it reads, and loads the pools in MetalLB\'s order', async () => {
    await ctl().metricsPort();
    expect(ctl().logs.find((l) => l['msg'] === 'controller started')).toMatchObject({ configSource: 'metallb', metallbNamespace: 'metallb-system', namespace: 'vipcast-system' });
    const loaded = await waitFor(() => ctl().logs.find((l) => l['msg'] === 'config loaded'), 10_000, 'the config to load');
    expect(loaded['pools']).toEqual(['team', 'general', 'routed']);
    expect(await ctl().metric('vipcast_config_valid')).toBe(1);
  });

  it('keeps every address MetalLB gave: nothing moves', async () => {
    for (const [name, ip, pool] of [['by-pool', KEPT_BY_POOL, 'general'], ['by-annotation', KEPT_BY_ANNOTATION, 'general']] as const) {
      const annotated = await waitFor(async () => (await getService(admin(), 'apps', name)).metadata.annotations?.[POOL_ANNOTATION], 10_000, `the pool annotation on apps/${name}`);
      expect(annotated, name).toBe(pool);
      expect((await getService(admin(), 'apps', name)).status?.loadBalancer?.ingress, name).toEqual([{ ip, ipMode: 'VIP' }]);
      expect((await eventsAbout(admin(), 'apps', name)).map((e) => e.reason), name).not.toContain('IPChanged');
    }
    expect(ctl().logs.find((l) => l['msg'] === 'allocations restored from Service status')).toMatchObject({ restored: 2, refused: 0 });
  });

  it("allocates as MetalLB would: a namespace's pinned pool first, the general pool for others, never the autoAssign: false pool", async () => {
    await createService(admin(), 'team-a', 'api');
    await createService(admin(), 'apps', 'web');
    // avoidBuggyIPs: the team pool never hands out 198.51.100.0.
    expect(ingressIps(await waitForIngress(admin(), 'team-a', 'api'))).toEqual(['198.51.100.1']);
    expect((await getService(admin(), 'team-a', 'api')).metadata.annotations?.[POOL_ANNOTATION]).toBe('team');
    const web = ingressIps(await waitForIngress(admin(), 'apps', 'web'));
    expect(web[0]).toMatch(/^192\.0\.2\.([0-9]|1[0-5])$/);
    expect(web).not.toContain(KEPT_BY_POOL);
    expect(web).not.toContain(KEPT_BY_ANNOTATION);
    await createService(admin(), 'apps', 'routed', { annotations: { 'metallb.io/address-pool': 'routed' } });
    expect(ingressIps(await waitForIngress(admin(), 'apps', 'routed'))).toEqual(['203.0.113.0']);
  });

  it("the speaker's runtime, as the speaker's ServiceAccount, reads the same objects and the BGPPeer's password from its Secret", async () => {
    const { server } = vipcast();
    const credentials = await server.serviceAccountToken('vipcast-system', 'vipcast-speaker');
    const flags = readConfigMapFlags({ 'config-source': 'metallb' }, 'vipcast-system');
    if (!flags.ok) throw new Error(flags.message);
    const access = staticAccess({ server: credentials.server, ca: credentials.ca, token: credentials.token ?? '' }, 'vipcast-speaker');
    const rest = createKubeRest(access, { fieldManager: 'vipcast-speaker' });
    const clock = (): number => performance.now();
    const logs: string[] = [];
    // What the BGP mode is handed: the config its sessions are built from (node-a is no Node
    // of this cluster, so it is eligible for no VIP and the set handed over stays empty).
    const handed: { vips: string[]; config: Config }[] = [];
    const runtime = new SpeakerRuntime({
      rest,
      node: 'node-a',
      namespace: 'vipcast-system',
      config: flags.location,
      loadBalancerClass: undefined,
      lease: new SpeakerLease(rest, 'vipcast-system', 'node-a', defaultSpeakerLeaseTiming, clock),
      clock,
      log: createLogger('info', {}, (line) => void logs.push(line)),
      events: new EventRecorder(rest, { controller: 'vipcast.io/speaker', instance: 'node-a' }),
      interfacesFor: () => [],
      openLink: () => {
        throw new Error('no interface in this test');
      },
      bgp: { setVips: (vips, config) => void handed.push({ vips: [...vips.keys()], config }), stop: () => Promise.resolve() },
    });
    try {
      await runtime.start();
      const expected = new Map([[KEPT_BY_POOL, 'general'], ['198.51.100.1', 'team'], ['203.0.113.0', 'routed']]);
      const found = await waitFor(() => {
        const vips = new Map(runtime.describe().map((v) => [v.vip, `${v.pool}/${v.mode}`]));
        return [...expected].every(([ip, pool]) => vips.get(ip)?.startsWith(`${pool}/`)) ? vips : undefined;
      }, 10_000, "the speaker to see the Services' addresses in MetalLB's pools");
      expect(found.get('203.0.113.0')).toBe('routed/bgp');
      expect(found.get(KEPT_BY_POOL)).toBe('general/layer2');
      const last = await waitFor(() => handed.findLast((h) => h.config.peers.length > 0), 10_000, 'the BGP mode to be handed a config with the peer');
      expect(last.vips).toEqual([]);
      expect(last.config.peers.map((p) => ({ name: p.name, password: p.password, holdTime: p.holdTime, keepaliveTime: p.keepaliveTime, bfdProfile: p.bfdProfile }))).toEqual([
        { name: 'tor', password: 'md5-from-secret', holdTime: 9, keepaliveTime: 3, bfdProfile: 'fast' },
      ]);
    } finally {
      await runtime.stop();
    }
  });

  it('vipcast status --config-source metallb names each address\'s pool and mode from the same objects', async () => {
    const kubeconfig = await writeKubeconfig(admin(), join(vipcast().server.dir, 'status-admin.kubeconfig'));
    const { stdout } = await run(process.execPath, ['bin/vipcast.js', 'status', '--kubeconfig', kubeconfig, '--config-source', 'metallb', '--json']);
    const rows = JSON.parse(stdout) as { vip: string; pool: string; mode: string }[];
    const byVip = new Map(rows.map((r) => [r.vip, `${r.pool}/${r.mode}`]));
    expect(byVip.get(KEPT_BY_POOL)).toBe('general/layer2');
    expect(byVip.get('198.51.100.1')).toBe('team/layer2');
    expect(byVip.get('203.0.113.0')).toBe('routed/bgp');
  });

  it("the migration guide's check: kubectl get -o yaml of MetalLB's kinds, piped to check-config, gives the programs' pools", async () => {
    const kubectl = builtKubectl();
    if (kubectl === undefined) throw new Error('kubectl is not built (scripts/build-kube)');
    const kubeconfig = await writeKubeconfig(admin(), join(vipcast().server.dir, 'kubectl-admin.kubeconfig'));
    const kinds = 'ipaddresspools,l2advertisements,bgpadvertisements,bgppeers.v1beta2.metallb.io,bfdprofiles,communities';
    const listed = await run(kubectl, ['--kubeconfig', kubeconfig, 'get', kinds, '-n', 'metallb-system', '-o', 'yaml'], { maxBuffer: 1 << 24 });
    const file = join(vipcast().server.dir, 'metallb-objects.yaml');
    await writeFile(file, listed.stdout);
    const checked = await run(process.execPath, ['bin/vipcast.js', 'check-config', file]);
    expect(checked.stdout).toContain('MetalLB config in namespace metallb-system (8 objects) is valid');
    expect(checked.stdout).toMatch(/^ {2}team +layer2 .*\n {2}general +layer2 .*\n {2}routed +bgp /m);
    // The Secret is not in that output: the password is not checked offline, and it says so.
    expect(checked.stdout).toContain('Secret "tor-md5" is not in this file');
  });

  it('reports a field vipcast cannot serve on the object that has it (log, Event, metric), and the last valid config stays', async () => {
    const before = ingressIps(await getService(admin(), 'apps', 'web'));
    await kubeExpectOk(admin(), `${MLB2}/bgppeers`, {
      method: 'POST',
      body: { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: meta('vrf-peer'), spec: { myASN: 64512, peerASN: 64514, peerAddress: '192.0.2.253', vrf: 'red' } },
    });
    const event = await waitForEvent(admin(), 'metallb-system', 'vrf-peer', 'ConfigRejected');
    expect(event).toMatchObject({ type: 'Warning', regarding: { apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', namespace: 'metallb-system', name: 'vrf-peer' } });
    expect(event.note).toContain('BGPPeer/vrf-peer.spec.vrf: vrf is not supported');
    await waitFor(async () => (await ctl().metric('vipcast_config_valid')) === 0, 10_000, 'vipcast_config_valid 0');
    const logged = ctl().logs.find((l) => l['msg'] === 'config rejected; the last valid config stays in force');
    expect(logged).toMatchObject({ level: 'warn', metallbNamespace: 'metallb-system', configSource: 'metallb', inForce: true });
    await createService(admin(), 'apps', 'during-bad-config');
    expect(ingressIps(await waitForIngress(admin(), 'apps', 'during-bad-config'))[0]).toMatch(/^192\.0\.2\.\d+$/);
    expect(ingressIps(await getService(admin(), 'apps', 'web'))).toEqual(before);

    await kubeExpectOk(admin(), `${MLB2}/bgppeers/vrf-peer`, { method: 'DELETE' });
    await waitFor(async () => (await ctl().metric('vipcast_config_valid')) === 1, 10_000, 'vipcast_config_valid 1');
  });
});
