// A real kube-apiserver backed by a real etcd, both started as child processes on
// loopback ports the OS hands out, in a temporary directory that stop() removes. This is
// the same arrangement as controller-runtime's envtest, written for vipcast's tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestPki, issueClientCert, type TestPki } from './certs.js';
import { findKubeBinaries, type KubeBinaries } from './kube-binaries.js';
import { tail } from './lab-launcher.js';
import { kubeRequest, serviceAccountToken, writeKubeconfig, type KubeCredentials } from './kube-client.js';

/** Options for {@link startApiServer}; every field has a default suited to tests. */
export interface ApiServerOptions {
  /** Executables to run; found with {@link findKubeBinaries} when omitted. */
  readonly binaries?: KubeBinaries;
  /** Milliseconds to wait for `/readyz` before giving up; 60 000 when omitted. */
  readonly readyTimeoutMs?: number;
  /** Milliseconds between SIGTERM and SIGKILL in stop(); 10 000 when omitted. */
  readonly stopTimeoutMs?: number;
  /** CIDR the apiserver allocates Service cluster IPs from; `10.0.0.0/24` when omitted. */
  readonly serviceClusterIpRange?: string;
  /** Extra kube-apiserver flags, appended after the harness's own. */
  readonly extraApiServerArgs?: readonly string[];
}

/** One of the two processes {@link TestApiServer.kill} and {@link TestApiServer.restart} act on. */
export type ApiServerProcess = 'apiserver' | 'etcd';

/** A running apiserver and etcd, with what a test needs to talk to them. */
export interface TestApiServer {
  /** Base URL of the apiserver, `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** PEM of the CA that signed the serving and client certificates. */
  readonly caPem: string;
  /** PEM admin client certificate (group `system:masters`). */
  readonly adminCertPem: string;
  /** PEM private key of the admin client certificate. */
  readonly adminKeyPem: string;
  /** Admin credentials ready for {@link kubeRequest}. */
  readonly admin: KubeCredentials;
  /** Temporary directory holding certificates, etcd data and the two log files. */
  readonly dir: string;
  /** PIDs of the two processes this harness started (after a restart, of the new ones). */
  readonly pids: { readonly etcd: number; readonly apiserver: number };
  /** Milliseconds from the first spawn until `/readyz` answered 200. */
  readonly readyAfterMs: number;
  /** Writes a kubeconfig for the admin (to `path`, or into `dir`) and resolves with its path. */
  writeKubeconfig(path?: string): Promise<string>;
  /** Creates the namespace and ServiceAccount if needed and returns credentials holding a TokenRequest token for it. */
  serviceAccountToken(namespace: string, name: string): Promise<KubeCredentials>;
  /** Returns credentials with a client certificate whose subject is the ServiceAccount's user and groups. */
  serviceAccountCert(namespace: string, name: string): Promise<KubeCredentials>;
  /** Kills one process with SIGKILL, as a crash would, and resolves once it has exited; restart() brings it back. */
  kill(which: ApiServerProcess): Promise<void>;
  /**
   * Starts one process again with the arguments, ports and data it was first started with
   * (SIGKILLing it first if it still runs) and resolves once `/readyz` answers 200; rejects
   * with the tail of its log when it dies or the API server is not ready in time.
   */
  restart(which: ApiServerProcess): Promise<void>;
  /** Stops both processes (SIGTERM, then SIGKILL after the deadline) and removes `dir`. */
  stop(): Promise<void>;
}

interface Managed {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  readonly exited: Promise<void>;
}

const LOG_TAIL_LINES = 30;
const PORT_ATTEMPTS = 3;

/** Asks the OS for a free TCP port on 127.0.0.1 by binding port 0 and releasing it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the OS'))));
    });
  });
}

/**
 * Starts etcd and kube-apiserver on loopback and resolves once `/readyz` answers 200.
 * A port taken between choosing and binding it makes the harness retry with new ports;
 * any other failure rejects with the tail of both processes' logs.
 */
export async function startApiServer(options: ApiServerOptions = {}): Promise<TestApiServer> {
  const binaries = options.binaries ?? findKubeBinaries();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binaries, options);
    } catch (error) {
      const portClash = error instanceof Error && /address already in use/i.test(error.message);
      if (!portClash || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

async function startOnce(binaries: KubeBinaries, options: ApiServerOptions): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'vipcast-apiserver-'));
  const processes: Managed[] = [];
  const killAll = (): void => {
    for (const p of processes) if (running(p.child)) p.child.kill('SIGKILL');
  };
  // If the test runner exits without calling stop(), do not leave our processes behind.
  process.once('exit', killAll);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killAll);
    for (const p of [...processes].reverse()) await terminate(p, options.stopTimeoutMs ?? 10_000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pki = await createTestPki(join(dir, 'pki'));
    const [etcdClientPort, etcdPeerPort, securePort] = await distinctPorts(3);
    if (securePort === undefined) throw new Error('could not get three free ports');
    const started = performance.now();
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    // How each process is started, kept so that restart() starts it the same way; its index
    // in `processes` is its place in this list (etcd first, stopped last).
    const launchers: Record<ApiServerProcess, () => Managed> = {
      etcd: () => launch('etcd', binaries.etcd, dir, etcdArgs('vipcast-test', dir, etcdUrl, peerUrl)),
      apiserver: () => launch('kube-apiserver', binaries.apiserver, dir, apiserverArgs(pki, dir, etcdUrl, securePort, options)),
    };
    const slot: Record<ApiServerProcess, number> = { etcd: 0, apiserver: 1 };
    processes.push(launchers.etcd());
    processes.push(launchers.apiserver());
    const url = `https://127.0.0.1:${securePort}`;
    const admin: KubeCredentials = { server: url, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };
    const firstDead = (): string | undefined => {
      const dead = processes.find((p) => !running(p.child));
      return dead && `${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode ?? 'failed to spawn'})`;
    };
    await waitApiReady(admin, options.readyTimeoutMs ?? 60_000, firstDead);
    const readyAfterMs = Math.round(performance.now() - started);
    const kill = async (which: ApiServerProcess): Promise<void> => {
      const p = processes[slot[which]];
      if (p === undefined || !running(p.child)) return;
      p.child.kill('SIGKILL');
      await p.exited;
    };
    const restart = async (which: ApiServerProcess): Promise<void> => {
      await kill(which);
      const p = launchers[which]();
      processes[slot[which]] = p;
      try {
        await waitApiReady(admin, options.readyTimeoutMs ?? 60_000, firstDead);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`restarting ${p.name} failed: ${message}\n--- last ${LOG_TAIL_LINES} lines of the ${p.name} log:\n${tail(p.logFile, LOG_TAIL_LINES) || '(no log)'}`, { cause: error });
      }
    };
    return {
      url,
      caPem: pki.ca.cert,
      adminCertPem: pki.admin.cert,
      adminKeyPem: pki.admin.key,
      admin,
      dir,
      pids: {
        get etcd() {
          return processes[slot.etcd]?.child.pid ?? 0;
        },
        get apiserver() {
          return processes[slot.apiserver]?.child.pid ?? 0;
        },
      },
      readyAfterMs,
      writeKubeconfig: (path) => writeKubeconfig(admin, path ?? join(dir, 'admin.kubeconfig'), { cluster: 'vipcast-test', user: 'admin' }),
      serviceAccountToken: (namespace, name) => createServiceAccountToken(admin, namespace, name),
      serviceAccountCert: async (namespace, name) => {
        const pair = await issueClientCert(join(dir, 'pki'), pki.ca, `sa-${namespace}-${name}`, {
          user: `system:serviceaccount:${namespace}:${name}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
        });
        return { server: url, ca: pki.ca.cert, cert: pair.cert, key: pair.key };
      },
      kill,
      restart,
      stop,
    };
  } catch (error) {
    const logs = processes.map((p) => `--- last ${LOG_TAIL_LINES} lines of the ${p.name} log:\n${tail(p.logFile, LOG_TAIL_LINES) || '(no log)'}`);
    await stop();
    const message = error instanceof Error ? error.message : String(error);
    throw new Error([`starting kube-apiserver and etcd failed: ${message}`, ...logs].join('\n'), { cause: error });
  }
}

/** etcd's flags: one member on loopback, its data in `dir`, no fsync (data here is disposable). */
export function etcdArgs(name: string, dir: string, etcdUrl: string, peerUrl: string): string[] {
  return [
    `--name=${name}`,
    `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    '--unsafe-no-fsync',
  ];
}

/** kube-apiserver's flags: on 127.0.0.1, RBAC, this PKI, no controller-manager or kubelets behind it. */
export function apiserverArgs(pki: TestPki, dir: string, etcdUrl: string, port: number, options: ApiServerOptions): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.serving.certFile}`,
    `--tls-private-key-file=${pki.serving.keyFile}`,
    `--client-ca-file=${pki.ca.certFile}`,
    '--authorization-mode=RBAC',
    `--service-cluster-ip-range=${options.serviceClusterIpRange ?? '10.0.0.0/24'}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
    // No controller-manager runs here, so nothing would create the token Secrets this
    // plugin waits for; and with no kubelets there are no endpoints to reconcile.
    '--disable-admission-plugins=ServiceAccount',
    '--endpoint-reconciler-type=none',
    ...(options.extraApiServerArgs ?? []),
  ];
}

function launch(name: string, binary: string, dir: string, args: readonly string[]): Managed {
  const logFile = join(dir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', fd, fd] });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    return { name, child, logFile, exited };
  } finally {
    closeSync(fd);
  }
}

function running(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

async function terminate(p: Managed, graceMs: number): Promise<void> {
  if (!running(p.child)) return;
  p.child.kill('SIGTERM');
  const done = await Promise.race([p.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done && running(p.child)) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** `count` free TCP ports on 127.0.0.1, all different. */
export async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/**
 * Polls `/readyz` until it answers 200. `exited` is asked before each try; when it names a
 * process that has died, the wait ends with that.
 */
export async function waitApiReady(admin: KubeCredentials, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer yet';
  while (performance.now() < deadline) {
    const dead = exited();
    if (dead !== undefined) throw new Error(`${dead} before the API server was ready`);
    try {
      const response = await kubeRequest(admin, '/readyz', { timeoutMs: 2_000 });
      if (response.status === 200) return;
      last = `/readyz answered ${response.status}: ${response.text.slice(-300)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(`/readyz not 200 within ${timeoutMs / 1000} s (${last})`);
}

async function createIfAbsent(admin: KubeCredentials, path: string, body: unknown): Promise<void> {
  const response = await kubeRequest(admin, path, { method: 'POST', body });
  if (response.status !== 201 && response.status !== 409) {
    throw new Error(`POST ${path} → ${response.status}: ${response.text.slice(0, 300)}`);
  }
}

async function createServiceAccountToken(admin: KubeCredentials, namespace: string, name: string): Promise<KubeCredentials> {
  await createIfAbsent(admin, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await createIfAbsent(admin, `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  return { server: admin.server, ca: admin.ca, token: await serviceAccountToken(admin, namespace, name, 3600) };
}
