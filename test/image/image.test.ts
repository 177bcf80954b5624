// vipcast's image, built from the project's Dockerfile (test/image/global-setup.ts), run as
// the manifests run it: the CLI and its help, check-config on the examples, the native addons
// loading on the image's Node, and the controller and the speaker started from the image with
// the manifests' securityContext against a real kube-apiserver on loopback (host network, as
// the speaker's DaemonSet runs; the speaker is given a load-balancer class no Service has, so
// it announces nothing on this machine's links).
import { chmod, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerReadyNode } from '../../lab/lab-manifests.js';
import { kubeExpectOk, kubeRequest, writeKubeconfig } from '../../lab/kube-client.js';
import { podBoundToken } from '../../lab/speaker-lab.js';
import { startLogged, waitFor, type ControllerProcess } from '../../lab/cluster-helpers.js';
import { createService, ensureNamespace, ingressIps, waitForIngress } from '../k8s/services.js';
import { startVipcastCluster, type VipcastCluster } from '../../lab/vipcast-cluster.js';
import { controllerSecurity, docker, imageTag, speakerSecurity } from './image.js';

const examples = join(process.cwd(), 'examples');
const fixtures = join(process.cwd(), 'test', 'fixtures', 'config');
const containers: string[] = [];
const run = `vipcast-image-test-${process.pid}`;

afterAll(async () => {
  // Only the containers this file started, by name.
  for (const name of containers) await docker(['rm', '--force', name]).catch(() => undefined);
}, 60_000);

describe('the image', () => {
  it('runs vipcast --help as the unprivileged user on Node 24', async () => {
    const help = await docker(['run', '--rm', ...controllerSecurity, imageTag, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/controller/);
    expect(help.stdout).toMatch(/speaker/);
    expect(help.stdout).toMatch(/check-config/);
    const who = await docker(['run', '--rm', ...controllerSecurity, '--entrypoint', 'node', imageTag, '-p', 'process.version + " " + process.getuid()']);
    expect(who.stdout.trim()).toMatch(/^v24\.\d+\.\d+ 65532$/);
  });

  it('carries no testbed, bench or tests, and "vipcast lab" says it needs a source checkout', async () => {
    const tree = await docker(['run', '--rm', ...controllerSecurity, '--entrypoint', 'find', imageTag, '/app/dist', '-maxdepth', '1']);
    expect(tree.code).toBe(0);
    expect(tree.stdout.trim().split('\n').sort()).toEqual(['/app/dist', '/app/dist/speakers', '/app/dist/src']);
    const lab = await docker(['run', '--rm', ...controllerSecurity, imageTag, 'lab', 'up']);
    expect(lab.code).toBe(2);
    expect(lab.stderr).toContain('"vipcast lab" runs from a source checkout');
  });

  it('loads every native addon on the image\'s Node', async () => {
    const names = (await readdir('native')).filter((f) => f.endsWith('.cc')).map((f) => f.replace(/\.cc$/, ''));
    expect(names.length).toBeGreaterThanOrEqual(4);
    const script = `for (const n of ${JSON.stringify(names)}) require('/app/native/build/Release/' + n + '.node'); console.log('loaded', ${names.length})`;
    const loaded = await docker(['run', '--rm', ...speakerSecurity, '--entrypoint', 'node', imageTag, '-e', script]);
    expect(loaded.stderr).toBe('');
    expect(loaded.stdout.trim()).toBe(`loaded ${names.length}`);
  });

  it('check-config finds every example ConfigMap valid and reports each mistake of the broken one with its path', async () => {
    const configs: string[] = [];
    for (const file of await readdir(examples)) {
      if ((await readFile(join(examples, file), 'utf8')).includes('name: vipcast-config')) configs.push(file);
    }
    expect(configs.length).toBeGreaterThanOrEqual(3);
    for (const file of configs) {
      const checked = await docker(['run', '--rm', ...controllerSecurity, '-v', `${examples}:/examples:ro`, imageTag, 'check-config', `/examples/${file}`]);
      expect({ file, code: checked.code, out: checked.stdout + checked.stderr }).toMatchObject({ file, code: 0 });
    }
    const broken = await docker(['run', '--rm', ...controllerSecurity, '-v', `${fixtures}:/fixtures:ro`, imageTag, 'check-config', '/fixtures/broken.yaml']);
    expect(broken.code).toBe(1);
    expect(broken.stdout + broken.stderr).toMatch(/address-pools\[0\]\.protocol/);
  });
});

describe('the programs started from the image against a real kube-apiserver', () => {
  let cluster: VipcastCluster | undefined;
  let dir = '';

  beforeAll(async () => {
    cluster = await startVipcastCluster('address-pools:\n- name: image-test\n  protocol: layer2\n  addresses: [198.51.100.0/28]\n');
    // The containers run as other users than this test: a directory and files they can read.
    dir = await mkdtemp(join(tmpdir(), 'vipcast-image-'));
    await chmod(dir, 0o755);
  }, 120_000);

  afterAll(async () => {
    await cluster?.server.stop();
  }, 60_000);

  function up(): VipcastCluster {
    if (cluster === undefined) throw new Error('the API server did not start');
    return cluster;
  }

  /** A kubeconfig the containers can read: the account's token, bound to a speaker Pod on `node` when given (as a kubelet's is). */
  async function kubeconfigFor(account: string, node?: string): Promise<string> {
    const file = join(dir, `${account}.kubeconfig`);
    const { server } = up();
    const credentials = node === undefined ? await server.serviceAccountToken('vipcast-system', account) : { server: server.url, ca: server.caPem, token: await podBoundToken(server.admin, account, node) };
    await writeKubeconfig(credentials, file);
    await chmod(file, 0o644);
    return file;
  }

  function startContainer(name: string, security: readonly string[], kubeconfig: string, args: readonly string[], startedMsg: string): ControllerProcess {
    containers.push(name);
    return startLogged('docker', ['run', '--rm', '--name', name, '--network=host', ...security, '-v', `${kubeconfig}:/kube/config:ro`, imageTag, ...args, '--kubeconfig=/kube/config', '--metrics-address=127.0.0.1:0'], startedMsg);
  }

  it('the controller (non-root, read-only root filesystem, no capabilities) leads and gives a LoadBalancer Service an address', async () => {
    const { admin } = up();
    const controller = startContainer(`${run}-controller`, controllerSecurity, await kubeconfigFor('vipcast-controller'), ['controller'], 'controller started');
    await waitFor(async () => (await controller.metric('vipcast_controller_leader')) === 1, 60_000, 'the controller in the image to lead');
    await ensureNamespace(admin, 'image');
    await createService(admin, 'image', 'web');
    const ips = ingressIps(await waitForIngress(admin, 'image', 'web'));
    expect(ips).toHaveLength(1);
    expect(ips[0]).toMatch(/^198\.51\.100\./);
    expect((await fetch(`http://127.0.0.1:${await controller.metricsPort()}/healthz`)).status).toBe(200);
    await docker(['stop', '--time=10', `${run}-controller`]);
    expect(await controller.exited).toBe(0);
  });

  it('the speaker (UID 0 with only NET_RAW and NET_ADMIN, read-only root filesystem) renews its Lease, is healthy, and releases the Lease on SIGTERM', async () => {
    const { admin } = up();
    const node = 'image-node';
    await registerReadyNode(admin, node, ['127.0.0.1']);
    const lease = `/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/vipcast-speaker-${node}`;
    const speaker = startContainer(`${run}-speaker`, speakerSecurity, await kubeconfigFor('vipcast-speaker', node), ['speaker', '--node', node, '--interface', 'lo', '--load-balancer-class', 'vipcast.io/image-test-none'], 'speaker started');
    const port = await speaker.metricsPort();
    const held = await waitFor(async () => {
      const got = (await kubeRequest(admin, lease)).json as { spec?: { holderIdentity?: string; renewTime?: string } } | undefined;
      return got?.spec?.holderIdentity === node ? got : undefined;
    }, 30_000, 'the speaker in the image to hold its Lease').catch(async (error: unknown) => {
      const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).text();
      throw new Error(`${(error as Error).message}; its /healthz: ${health}; its log: ${JSON.stringify(speaker.logs).slice(0, 3000)}`);
    });
    await waitFor(async () => {
      const again = (await kubeExpectOk(admin, lease)) as { spec?: { renewTime?: string } };
      return again.spec?.renewTime !== held.spec?.renewTime;
    }, 30_000, 'the speaker in the image to renew its Lease');
    const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect({ status: healthz.status, body: await healthz.text() }).toMatchObject({ status: 200 });
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^vipcast_speaker_/m);
    await docker(['stop', '--time=10', `${run}-speaker`]);
    expect(await speaker.exited).toBe(0);
    const released = (await kubeExpectOk(admin, lease)) as { spec?: { holderIdentity?: string } };
    expect(released.spec?.holderIdentity ?? '').toBe('');
    expect(speaker.logs.filter((l) => l['level'] === 'error' || l['level'] === 'stderr')).toEqual([]);
  });

  it('a speaker whose token is not bound to a Pod on its node is refused its Lease by the admission policy, and says so', async () => {
    const { admin } = up();
    const node = 'image-node-2';
    await registerReadyNode(admin, node, ['127.0.0.1']);
    // A plain TokenRequest token: no node in it, so the per-node Lease policy must refuse it.
    const speaker = startContainer(`${run}-unbound`, speakerSecurity, await kubeconfigFor('vipcast-speaker'), ['speaker', '--node', node, '--interface', 'lo', '--load-balancer-class', 'vipcast.io/image-test-none'], 'speaker started');
    const refused = await waitFor(() => speaker.logs.find((l) => l['level'] === 'warn' && String(l['msg']).startsWith('Lease renewal failed: 403')), 30_000, 'a warning that the Lease renewal was refused');
    expect(String(refused['msg'])).toContain('a vipcast speaker may write only the Lease of its own node');
    const failures = speaker.logs.filter((l) => String(l['msg']).startsWith('Lease renewal failed'));
    expect(failures.map((l) => l['msg'])).toEqual([refused['msg']]);
    expect((await kubeRequest(admin, `/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/vipcast-speaker-${node}`)).status).toBe(404);
    await docker(['stop', '--time=10', `${run}-unbound`]);
    expect(await speaker.exited).toBe(0);
  });
});

