// The lab's Kubernetes API: etcd and kube-apiserver started detached on the host's loopback
// (they outlive `lab up`), with their own PKI.
// The flags are the test harness's (lab/apiserver.ts), which instead ties both processes
// to the process that started them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { apiserverArgs, distinctPorts, etcdArgs, waitApiReady } from './apiserver.js';
import { createTestPki } from './certs.js';
import type { KubeBinaries } from './kube-binaries.js';
import type { KubeCredentials } from './kube-client.js';
import { tail, type LabLauncher } from './lab-launcher.js';
import { processStartTicks } from './lab-state.js';

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
  const [etcdPort, peerPort, port] = (await distinctPorts(3)) as [number, number, number];
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
  try {
    await waitApiReady(admin, 90_000, () => (processStartTicks(apiserver.pid) === apiserver.startTicks ? undefined : 'kube-apiserver exited'));
  } catch (error) {
    throw new Error(`${(error as Error).message}; its log (${apiserver.log}) ends:\n${tail(apiserver.log)}`, { cause: error });
  }
  return { url, port, admin };
}
