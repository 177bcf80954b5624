// The lab's Kubernetes API: etcd and kube-apiserver started detached on the host's loopback
// (they outlive `lab up`), with a PKI, an admin kubeconfig and ServiceAccount tokens.
// The flags are the test harness's (src/lab/apiserver.ts), which instead ties both processes
// to the process that started them.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { apiserverArgs, etcdArgs, freePort } from './apiserver.js';
import { createTestPki } from './certs.js';
import type { KubeBinaries } from './kube-binaries.js';
import { kubeExpectOk, kubeRequest, type KubeCredentials } from './kube-client.js';
import { tail, type LabLauncher } from './lab-launcher.js';
import { processStartTicks, type LabProcessRecord } from './lab-state.js';

/** A running lab API server. */
export interface LabApiServer {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** Its port on the host's loopback. */
  readonly port: number;
  /** Admin (system:masters) credentials. */
  readonly admin: KubeCredentials;
}

/** Starts etcd and kube-apiserver with their data in `dir`; resolves once `/readyz` is 200. */
export async function startLabApiServer(launcher: LabLauncher, binaries: KubeBinaries, dir: string): Promise<LabApiServer> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pki = await createTestPki(join(dir, 'pki'));
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [etcdPort, peerPort, port] = [...ports] as [number, number, number];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  await launcher.start({ role: 'etcd', marker: binaries.etcd, argv: [binaries.etcd, ...etcdArgs('vipcast-lab', dir, etcdUrl, peerUrl)] });
  const apiserver = await launcher.start({
    role: 'kube-apiserver',
    marker: binaries.apiserver,
    argv: [binaries.apiserver, ...apiserverArgs(pki, dir, etcdUrl, port, { serviceClusterIpRange: '10.0.0.0/20,fd00:10::/112' })],
  });
  const url = `https://127.0.0.1:${port}`;
  const admin: KubeCredentials = { server: url, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };
  await waitReady(admin, apiserver, 90_000);
  return { url, port, admin };
}

async function waitReady(admin: KubeCredentials, apiserver: LabProcessRecord, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer yet';
  while (performance.now() < deadline) {
    if (processStartTicks(apiserver.pid) !== apiserver.startTicks) throw new Error(`kube-apiserver exited before it was ready; its log ends:\n${tail(apiserver.log)}`);
    try {
      const response = await kubeRequest(admin, '/readyz', { timeoutMs: 2000 });
      if (response.status === 200) return;
      last = `/readyz answered ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`kube-apiserver not ready within ${timeoutMs / 1000} s (${last}); its log ends:\n${tail(apiserver.log)}`);
}

/** Writes a kubeconfig (JSON, which is YAML) for some credentials; resolves with its path. */
export async function writeLabKubeconfig(credentials: KubeCredentials, path: string): Promise<string> {
  const b64 = (pem: string | undefined): string => Buffer.from(pem ?? '').toString('base64');
  const user: Record<string, string> =
    credentials.token !== undefined ? { token: credentials.token } : { 'client-certificate-data': b64(credentials.cert), 'client-key-data': b64(credentials.key) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'vipcast-lab', cluster: { server: credentials.server, 'certificate-authority-data': b64(credentials.ca) } }],
    users: [{ name: 'vipcast-lab', user }],
    contexts: [{ name: 'vipcast-lab', context: { cluster: 'vipcast-lab', user: 'vipcast-lab' } }],
    'current-context': 'vipcast-lab',
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** A TokenRequest token for a ServiceAccount (which must exist), valid for `seconds`. */
export async function serviceAccountToken(admin: KubeCredentials, namespace: string, name: string, seconds = 365 * 24 * 3600): Promise<string> {
  const answer = await kubeExpectOk(admin, `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    method: 'POST',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: seconds } },
  });
  const token = (answer as { status?: { token?: unknown } } | undefined)?.status?.token;
  if (typeof token !== 'string' || token === '') throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}
