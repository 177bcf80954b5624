// One real API server per test file with vipcast installed from manifests/ (dry run
// first), the address-pool ConfigMap set, and controller processes run as the controller's
// own ServiceAccount, so every test exercises exactly the rights the manifests grant.
import { join } from 'node:path';
import { startApiServer, type TestApiServer } from './apiserver.js';
import { kubeExpectOk, kubeRequest, writeKubeconfig, type KubeCredentials } from './kube-client.js';
import { installManifests, startController, waitFor, type ApplyOutcome, type ControllerProcess } from './cluster-helpers.js';

/** The manifest files an operator applies, in order. */
export const manifestFiles = ['manifests/vipcast.yaml', 'manifests/config-example.yaml'] as const;

/** What the Lease admission policy of manifests/vipcast.yaml says when it refuses a write. */
export const leasePolicyMessage = 'a vipcast speaker may write only the Lease of its own node';

/** Short leader-election timings so tests of failover stay quick. */
export const fastLease = ['--lease-duration=4s', '--renew-deadline=3s', '--retry-period=500ms'] as const;

/** A running API server with vipcast installed. */
export interface VipcastCluster {
  readonly server: TestApiServer;
  readonly admin: KubeCredentials;
  /** What the server answered to the dry run of each manifest object. */
  readonly dryRuns: readonly ApplyOutcome[];
  /** Credentials of the controller's ServiceAccount (a TokenRequest token). */
  readonly controllerCredentials: KubeCredentials;
  /** A kubeconfig file holding those credentials. */
  readonly controllerKubeconfig: string;
  /** Replaces the `config` key of ConfigMap vipcast-system/vipcast-config. */
  putConfig(text: string): Promise<void>;
  /** Starts a controller process with the controller's kubeconfig and these extra arguments (see cluster-helpers' startController for `entry`). */
  startController(args?: readonly string[], entry?: readonly string[]): ControllerProcess;
}

/** Starts an API server (dual-stack Service CIDRs), installs vipcast and sets `config`. */
export async function startVipcastCluster(config: string): Promise<VipcastCluster> {
  const server = await startApiServer({ serviceClusterIpRange: '10.0.0.0/16,fd00:10::/108' });
  try {
    return await startVipcastClusterOn(server, config);
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Installs vipcast on a running API server and sets `config`; the caller stops the server. */
export async function startVipcastClusterOn(server: TestApiServer, config: string): Promise<VipcastCluster> {
  const dryRuns = await installManifests(server.admin, manifestFiles);
  await waitForLeasePolicy(server);
  const putConfig = async (text: string): Promise<void> => {
    await kubeExpectOk(server.admin, '/api/v1/namespaces/vipcast-system/configmaps/vipcast-config', {
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: { data: { config: text } },
    });
  };
  await putConfig(config);
  const controllerCredentials = await server.serviceAccountToken('vipcast-system', 'vipcast-controller');
  const controllerKubeconfig = await writeKubeconfig(controllerCredentials, join(server.dir, 'controller.kubeconfig'));
  return {
    server,
    admin: server.admin,
    dryRuns,
    controllerCredentials,
    controllerKubeconfig,
    putConfig,
    startController: (args = [], entry) => startController([`--kubeconfig=${controllerKubeconfig}`, ...args], entry),
  };
}

/**
 * Waits until the API server enforces the manifests' Lease admission policy: it loads a new
 * ValidatingAdmissionPolicy asynchronously, so for a moment after the install a speaker's
 * Lease for another node is still admitted (a test saw 201 for an expected 403). Probes with
 * dry-run creates, which pass admission and store nothing.
 */
async function waitForLeasePolicy(server: TestApiServer): Promise<void> {
  // RBAC's 403 would end the wait too early: only the policy's own refusal counts.
  const asSpeaker = await server.serviceAccountToken('vipcast-system', 'vipcast-speaker');
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'vipcast-speaker-node-a', namespace: 'vipcast-system' }, spec: { holderIdentity: 'node-a' } };
  await waitFor(
    async () => {
      const answer = await kubeRequest(asSpeaker, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases?dryRun=All', { method: 'POST', body: lease });
      return answer.status === 403 && answer.text.includes(leasePolicyMessage);
    },
    30_000,
    'the Lease admission policy to be enforced',
  );
}

/** Waits until a controller process reports that it leads (metric vipcast_controller_leader 1). */
export async function waitLeading(controller: ControllerProcess, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await controller.metric('vipcast_controller_leader')) === 1, timeoutMs, 'the controller to lead');
}

/** Waits until /readyz of a controller answers 200. */
export async function waitReady(controller: ControllerProcess, timeoutMs = 30_000): Promise<void> {
  const port = await controller.metricsPort();
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, timeoutMs, 'the controller to be ready');
}
