// The Helm chart (charts/vipcast) against helm itself and a real kube-apiserver: `helm lint`
// with the defaults and each example's values; every object `helm template` renders passes a
// server-side dry run with strict field validation; the config rendered from values is one
// vipcast reads as written; values the programs would refuse fail the render, naming the
// value; `helm install`, `upgrade` and `uninstall` create, change and remove the release's
// objects; and manifests/ are the chart rendered (scripts/render-manifests --check).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { configFromConfigMap } from '../../src/config/config-map.js';
import { startApiServer, type TestApiServer } from '../../lab/apiserver.js';
import { join } from 'node:path';
import { kubeExpectOk, kubeRequest, writeKubeconfig } from '../../lab/kube-client.js';
import { applyObject, startController, stopController, waitFor, type ManifestObject } from '../../lab/cluster-helpers.js';
import { createService, ensureNamespace, ingressIps, waitForIngress } from './services.js';

const run = promisify(execFile);
const chart = 'charts/vipcast';
const namespace = 'vipcast-chart';
const examples = readdirSync(`${chart}/examples`).filter((f) => f.endsWith('.yaml')).sort();
/** Kinds whose CRDs (the Prometheus Operator's) this API server does not have. */
const operatorKinds = new Set(['ServiceMonitor', 'PrometheusRule']);

let helm = '';
let server: TestApiServer | undefined;
let startError: unknown;

beforeAll(async () => {
  try {
    helm = (await run('bash', ['scripts/build-helm'], { maxBuffer: 1 << 24 })).stdout.trim();
    server = await startApiServer();
    await ensureNamespace(server.admin, namespace);
    // The metallb example's Role lives where MetalLB's objects do.
    await ensureNamespace(server.admin, 'metallb-system');
  } catch (error) {
    startError = error;
  }
}, 900_000);

afterAll(async () => {
  await server?.stop();
}, 60_000);

function api(): TestApiServer {
  if (server === undefined) throw startError instanceof Error ? startError : new Error('the apiserver did not start');
  return server;
}

async function template(args: readonly string[]): Promise<ManifestObject[]> {
  api();
  const { stdout } = await run(helm, ['template', 'vipcast', chart, '--namespace', namespace, ...args], { maxBuffer: 1 << 24 });
  return parseAllDocuments(stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`helm template printed bad YAML: ${doc.errors[0]?.message ?? ''}`);
    return doc.toJS() as ManifestObject;
  }).filter((o) => o !== null);
}

/** The message helm fails with for these arguments ('' when it renders). */
async function renderError(args: readonly string[]): Promise<string> {
  try {
    await template(args);
    return '';
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

describe('the Helm chart', () => {
  it('passes helm lint --strict with the defaults and with each example', async () => {
    api();
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const values of [[], ...examples.map((f) => ['-f', `${chart}/examples/${f}`])]) {
      const { stdout } = await run(helm, ['lint', '--strict', chart, '--namespace', namespace, ...values]);
      expect(stdout, values.join(' ')).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  }, 120_000);

  it.each(['(defaults)', ...examples])('renders with %s into objects the API server accepts under strict field validation', async (example) => {
    const objects = await template(example === '(defaults)' ? [] : ['-f', `${chart}/examples/${example}`]);
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'ClusterRole', 'Role', 'ValidatingAdmissionPolicy', 'Deployment', 'DaemonSet']));
    const checked = objects.filter((o) => !operatorKinds.has(o.kind));
    const refused = [];
    for (const object of checked) {
      const outcome = await applyObject(api().admin, object, true);
      if (outcome.status !== 200 && outcome.status !== 201) refused.push(`${object.kind} ${object.metadata.name}: ${outcome.status} ${outcome.text.slice(0, 300)}`);
    }
    expect(refused).toEqual([]);
    // What this server cannot check is only the operator's kinds, and only when asked for.
    const unchecked = objects.filter((o) => operatorKinds.has(o.kind)).map((o) => o.kind).sort();
    expect(unchecked).toEqual(example === 'monitoring.yaml' ? ['PrometheusRule', 'ServiceMonitor'] : []);
  }, 120_000);

  it('renders the config value into a ConfigMap that vipcast reads as written, and none when it is empty', async () => {
    for (const [example, pools] of [['layer2.yaml', ['lan']], ['bgp.yaml', ['routed']]] as const) {
      const config = (await template(['-f', `${chart}/examples/${example}`])).filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'vipcast-config');
      expect(config.length, example).toBe(1);
      const verdict = configFromConfigMap(config[0]);
      if (!verdict.ok) throw new Error(`${example}: ${JSON.stringify(verdict.errors)}`);
      expect(verdict.config.pools.map((p) => p.name)).toEqual(pools);
    }
    expect((await template([])).filter((o) => o.kind === 'ConfigMap')).toEqual([]);
  });

  it('installs the alerts and the dashboard of charts/vipcast/files when asked, and nothing of the Prometheus Operator otherwise', async () => {
    const objects = await template(['-f', `${chart}/examples/monitoring.yaml`]);
    const rule = objects.find((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: { rules: { alert: string }[] }[] } };
    const file = parseAllDocuments(readFileSync(`${chart}/files/alerts.yaml`, 'utf8'))[0]?.toJS() as { spec: unknown };
    expect(rule.spec).toEqual(file.spec);
    expect(rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert))).toContain('VipcastNoControllerLeader');
    const dashboard = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'vipcast-grafana-dashboard') as unknown as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
    expect(JSON.parse(dashboard.data['vipcast.json'] ?? '')).toEqual(JSON.parse(readFileSync(`${chart}/files/grafana-dashboard.json`, 'utf8')));
    expect(dashboard.metadata.labels['grafana_dashboard']).toBe('1');
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as unknown as { metadata: { labels: Record<string, string> }; spec: { endpoints: { port: string }[] } };
    expect(monitor.metadata.labels['release']).toBe('prometheus');
    expect(monitor.spec.endpoints.map((e) => e.port)).toEqual(['monitoring']);
    expect(objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name).sort()).toEqual(['vipcast-controller-metrics', 'vipcast-speaker-metrics']);
  });

  it('passes settings to the programs: class, config source, ports, placement, heap, extra arguments', async () => {
    const objects = await template(['-f', `${chart}/examples/placement.yaml`]);
    type Pod = { spec: { template: { spec: { nodeSelector?: Record<string, string>; priorityClassName?: string; containers: { args: string[]; env: { name: string; value?: string }[]; resources: unknown }[] } } } };
    const speaker = objects.find((o) => o.kind === 'DaemonSet') as unknown as Pod;
    const controller = objects.find((o) => o.kind === 'Deployment') as unknown as Pod & { spec: { replicas: number } };
    expect(speaker.spec.template.spec.containers[0]?.args).toEqual(['speaker', `--namespace=${namespace}`, '--load-balancer-class=vipcast.io/lb', '--log-level=debug']);
    expect(controller.spec.template.spec.containers[0]?.args).toEqual(['controller', '--metrics-address=0.0.0.0:7472', `--namespace=${namespace}`, '--load-balancer-class=vipcast.io/lb', '--log-level=debug', '--lease-duration=20s']);
    expect(controller.spec.replicas).toBe(3);
    expect(speaker.spec.template.spec.nodeSelector).toEqual({ 'node-role.example.com/edge': 'true' });
    expect(speaker.spec.template.spec.priorityClassName).toBe('system-node-critical');
    expect(speaker.spec.template.spec.containers[0]?.resources).toEqual({ requests: { cpu: '100m', memory: '160Mi' }, limits: { memory: '320Mi' } });
    expect(speaker.spec.template.spec.containers[0]?.env.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=160');
    const kubeVip = await template(['-f', `${chart}/examples/kube-vip.yaml`]);
    const ds = kubeVip.find((o) => o.kind === 'DaemonSet') as unknown as Pod;
    expect(ds.spec.template.spec.containers[0]?.args).toEqual(['speaker', `--namespace=${namespace}`, '--config-source=kube-vip']);
    expect(kubeVip.filter((o) => o.metadata.namespace === 'kube-system').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Role/vipcast-kube-vip-source', 'RoleBinding/vipcast-kube-vip-source']);
    const metallb = await template(['-f', `${chart}/examples/metallb.yaml`]);
    const metallbDs = metallb.find((o) => o.kind === 'DaemonSet') as unknown as Pod;
    expect(metallbDs.spec.template.spec.containers[0]?.args).toEqual(['speaker', `--namespace=${namespace}`, '--config-source=metallb']);
    expect(metallb.filter((o) => o.metadata.namespace === 'metallb-system').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Role/vipcast-metallb-source', 'RoleBinding/vipcast-metallb-source']);
    expect(metallb.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name).sort()).toEqual(
      ['bfdprofiles', 'bgpadvertisements', 'bgppeers', 'communities', 'ipaddresspools', 'l2advertisements'].map((p) => `${p}.metallb.io`),
    );
    const elsewhere = await template(['--set', 'configSource=metallb', '--set', 'metallb.namespace=lb']);
    const elsewhereDs = elsewhere.find((o) => o.kind === 'DaemonSet') as unknown as Pod;
    expect(elsewhereDs.spec.template.spec.containers[0]?.args).toEqual(['speaker', `--namespace=${namespace}`, '--config-source=metallb', '--metallb-namespace=lb']);
    expect((await template(['--set', 'configSource=metallb'])).filter((o) => o.kind === 'CustomResourceDefinition')).toEqual([]);
    const ports = await template(['--set', 'speaker.peerPort=8947', '--set', 'speaker.metricsPort=8473']);
    const moved = ports.find((o) => o.kind === 'DaemonSet') as unknown as Pod;
    expect(moved.spec.template.spec.containers[0]?.args).toEqual(['speaker', '--metrics-address=0.0.0.0:8473', '--peer-port=8947', `--namespace=${namespace}`]);
  });

  it('helm install, upgrade and uninstall against the API server: the release creates, changes and removes its objects', async () => {
    const release = 'vipcast-helm';
    await ensureNamespace(api().admin, release);
    const kubeconfig = await writeKubeconfig(api().admin, join(api().dir, 'helm-admin.kubeconfig'));
    const helmRun = (args: readonly string[]): Promise<{ stdout: string }> => run(helm, [...args, '--kubeconfig', kubeconfig, '--namespace', release], { maxBuffer: 1 << 24 });
    const status = async (path: string): Promise<number> => (await kubeRequest(api().admin, path)).status;
    type Pod = { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const speakerArgs = async (): Promise<string[]> => ((await kubeExpectOk(api().admin, `/apis/apps/v1/namespaces/${release}/daemonsets/vipcast-speaker`)) as Pod).spec.template.spec.containers[0]?.args ?? [];
    try {
      await helmRun(['install', 'vipcast', chart, '-f', `${chart}/examples/layer2.yaml`]);
      const config = (await kubeExpectOk(api().admin, `/api/v1/namespaces/${release}/configmaps/vipcast-config`)) as { data?: Record<string, string> };
      const verdict = configFromConfigMap(config);
      expect(verdict.ok && verdict.config.pools.map((p) => p.name)).toEqual(['lan']);
      expect(await status(`/apis/apps/v1/namespaces/${release}/deployments/vipcast-controller`)).toBe(200);
      expect(await speakerArgs()).toEqual(['speaker', `--namespace=${release}`]);

      await helmRun(['upgrade', 'vipcast', chart, '-f', `${chart}/examples/metallb.yaml`]);
      expect(await speakerArgs()).toEqual(['speaker', `--namespace=${release}`, '--config-source=metallb']);
      expect(await status('/apis/rbac.authorization.k8s.io/v1/namespaces/metallb-system/roles/vipcast-metallb-source')).toBe(200);
      expect(await status('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/ipaddresspools.metallb.io')).toBe(200);
      // The pools ConfigMap was the release's (config: set in layer2.yaml); without it, it goes.
      expect(await status(`/api/v1/namespaces/${release}/configmaps/vipcast-config`)).toBe(404);
      const listed = JSON.parse((await helmRun(['list', '-o', 'json'])).stdout) as { name: string; revision: string; status: string }[];
      expect(listed.map((r) => [r.name, r.revision, r.status])).toEqual([['vipcast', '2', 'deployed']]);
    } finally {
      await helmRun(['uninstall', 'vipcast']).catch(() => undefined);
    }
    expect(await status(`/apis/apps/v1/namespaces/${release}/daemonsets/vipcast-speaker`)).toBe(404);
    expect(await status('/apis/rbac.authorization.k8s.io/v1/clusterroles/vipcast-controller')).toBe(404);
    expect(await status('/apis/rbac.authorization.k8s.io/v1/namespaces/metallb-system/roles/vipcast-metallb-source')).toBe(404);
  }, 180_000);

  it('installed in a namespace of its own, runs: the controller with the rendered arguments and rights allocates from the rendered config', async () => {
    const objects = await template(['-f', `${chart}/examples/layer2.yaml`]);
    for (const object of objects) {
      const outcome = await applyObject(api().admin, object, false);
      expect(outcome.status, `${object.kind} ${object.metadata.name}: ${outcome.text.slice(0, 300)}`).toBeLessThan(300);
    }
    type Pod = { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const rendered = (objects.find((o) => o.kind === 'Deployment') as unknown as Pod).spec.template.spec.containers[0]?.args ?? [];
    // The image runs `vipcast ARGS`; the agent is `vipcast controller`, with a free metrics port.
    const args = rendered.filter((a) => a !== 'controller' && !a.startsWith('--metrics-address='));
    const credentials = await api().serviceAccountToken(namespace, 'vipcast-controller');
    const kubeconfig = await writeKubeconfig(credentials, join(api().dir, 'chart-controller.kubeconfig'));
    const controller = startController([`--kubeconfig=${kubeconfig}`, '--identity=chart', ...args]);
    try {
      await waitFor(async () => (await controller.metric('vipcast_controller_leader')) === 1, 30_000, 'the controller to lead');
      await ensureNamespace(api().admin, 'chart-apps');
      await createService(api().admin, 'chart-apps', 'web');
      const service = await waitForIngress(api().admin, 'chart-apps', 'web');
      expect(ingressIps(service)[0]).toMatch(/^192\.168\.1\.2(4\d|50)$/);
      // Its Lease is in the release namespace, where the chart gave it the right to hold one.
      await kubeExpectOk(api().admin, `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/vipcast-controller`);
    } finally {
      await stopController(controller);
    }
  }, 120_000);

  it('refuses values the programs would refuse, naming the value', async () => {
    expect(await renderError(['--set', 'configSource=cilium'])).toMatch(/configSource: "cilium" is not vipcast, kube-vip or metallb/);
    expect(await renderError(['--set', 'metallb.namespace=lb'])).toMatch(/metallb.namespace: is read only with configSource metallb/);
    expect(await renderError(['--set', 'logLevel=loud'])).toMatch(/logLevel: "loud"/);
    expect(await renderError(['-f', `${chart}/examples/layer2.yaml`, '--set', 'configSource=kube-vip'])).toMatch(/config: is read only with configSource vipcast/);
  });

  it('is where manifests/ come from: vipcast.yaml, kube-vip-source.yaml, metallb-source.yaml, metallb-crds.yaml, the alerts and the dashboard (scripts/render-manifests --check)', async () => {
    api();
    // A difference (or a failed render) exits non-zero, and the diff is in the error.
    await run('bash', ['scripts/render-manifests', '--check'], { maxBuffer: 1 << 24 });
  });
});
