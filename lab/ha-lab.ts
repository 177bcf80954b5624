// The HA control-plane lab: a switch, an etcd host, three control-plane hosts each running a
// real kube-apiserver (all sharing the one etcd) and, on request, `vipcast control-plane`,
// and a client host. Everything listens on addresses inside namespaces this lab creates
// (10.70.0.0/24 on its own bridge); the test process reaches the API servers through Unix
// sockets served by a small proxy inside the client namespace. Used by
// test/e2e/control-plane.test.ts and bench/control-plane.ts.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createCa, issueClientCert, type CertPair } from './certs.js';
import { cacheRoot, findKubeBinaries, pinnedVersions, type KubeBinaries } from './kube-binaries.js';
import { writeKubeconfig } from './kube-client.js';
import { sendJson } from '../src/k8s/https-json.js';
import { Topology, pollValue, type Host, type HostProcess } from './netns.js';
import { labProgram } from './paths.js';

const run = promisify(execFile);

/** The VIP every test of the lab uses. */
export const HA_VIP = '10.70.0.100';
const ETCD_IP = '10.70.0.5';
const CLIENT_IP = '10.70.0.9';
const API_PORT = 6443;

/** One control-plane host. */
export interface ControlPlaneNode {
  readonly name: string;
  readonly host: Host;
  readonly ip: string;
  readonly mac: string;
  /** Unix socket reaching this node's API server. */
  readonly socket: string;
  /** kubeconfig like kubeadm's admin.conf: group kubeadm:cluster-admins, which RBAC must grant. */
  readonly adminKubeconfig: string;
  /** kubeconfig like kubeadm's super-admin.conf: group system:masters. */
  readonly superAdminKubeconfig: string;
  apiserver: HostProcess | undefined;
  agent: HostProcess | undefined;
}

/** A client identity for the test's own requests. */
export interface LabCredentials {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** The running lab. */
export interface HaLab {
  readonly topo: Topology;
  readonly sw: Host;
  readonly db: Host;
  readonly client: Host;
  readonly nodes: readonly ControlPlaneNode[];
  readonly caFile: string;
  /** system:masters credentials for the test. */
  readonly master: LabCredentials;
  /** Milliseconds from spawning the three API servers until all answered /readyz. */
  readonly apiserversReadyMs: number;
}

/** The answer to one request. */
export interface LabResponse {
  readonly status: number;
  readonly json: unknown;
}

/** Sends one request to a node's API server through its Unix socket. */
export async function labRequest(node: ControlPlaneNode, creds: LabCredentials, method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<LabResponse> {
  const url = new URL(`https://kubernetes${path}`);
  const { status, json } = await sendJson({ method, url, body, tls: { socketPath: node.socket, servername: 'kubernetes', ca: creds.ca, cert: creds.cert, key: creds.key, agent: false }, timeoutMs }).catch((error: unknown) => {
    throw new Error(`${method} ${path} via ${node.name}: ${(error as Error).message}`);
  });
  return { status, json };
}

async function openssl(args: readonly string[]): Promise<void> {
  await run('openssl', args);
}

/** A serving certificate for one API server: CN = node name, SANs kubernetes, the node IP, the VIP and loopback. */
async function servingCert(dir: string, ca: CertPair, name: string, ip: string): Promise<CertPair> {
  const config = join(dir, `${name}-serving.cnf`);
  await writeFile(config, '[req]\ndistinguished_name = dn\n[dn]\n');
  const certFile = join(dir, `${name}-serving.crt`);
  const keyFile = join(dir, `${name}-serving.key`);
  await openssl([
    'req', '-config', config, '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-CA', ca.certFile, '-CAkey', ca.keyFile, '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature',
    '-addext', 'extendedKeyUsage=serverAuth',
    '-addext', `subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:${ip},IP:${HA_VIP},IP:127.0.0.1`,
  ]);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
}

/** A kubeconfig whose server is the VIP, as kubeadm writes them (the agent ignores the server). */
function writeVipKubeconfig(path: string, ca: CertPair, pair: CertPair, user: string): Promise<string> {
  return writeKubeconfig({ server: `https://${HA_VIP}:${API_PORT}`, ca: ca.cert, cert: pair.cert, key: pair.key }, path, { cluster: 'lab', user });
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch"]
  resources: [{ group: "coordination.k8s.io", resources: ["leases"] }]
  namespaces: ["kube-system"]
- level: None
`;

/**
 * The kube-apiserver and etcd to run. From compiled code (the bench runs from dist/), the
 * versions are read from the working directory's scripts/build-kube.
 */
function labBinaries(): KubeBinaries {
  const script = join(process.cwd(), 'scripts', 'build-kube');
  try {
    return findKubeBinaries();
  } catch (error) {
    if (!(error as NodeJS.ErrnoException).code) throw error;
  }
  const versions = pinnedVersions(script);
  const root = cacheRoot();
  return { apiserver: join(root, 'kube', versions.kube, 'kube-apiserver'), etcd: join(root, 'etcd', versions.etcd, 'etcd') };
}

/** Builds the lab and starts etcd and the three API servers (in parallel); agents are started by the test. */
export async function createHaLab(): Promise<HaLab> {
  const binaries = labBinaries();
  const topo = await Topology.create();
  try {
    const pki = join(topo.dir, 'pki');
    await mkdir(pki, { recursive: true });
    const ca = await createCa(pki);
    const saKey = join(pki, 'sa.key');
    const saPub = join(pki, 'sa.pub');
    await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', saKey]);
    await openssl(['pkey', '-in', saKey, '-pubout', '-out', saPub]);
    const masterPair = await issueClientCert(pki, ca, 'master', { user: 'lab-master', groups: ['system:masters'] });
    const adminPair = await issueClientCert(pki, ca, 'admin', { user: 'kubernetes-admin', groups: ['kubeadm:cluster-admins'] });
    const superPair = await issueClientCert(pki, ca, 'super-admin', { user: 'kubernetes-super-admin', groups: ['system:masters'] });
    const auditPolicy = join(topo.dir, 'audit-policy.yaml');
    await writeFile(auditPolicy, AUDIT_POLICY);

    const sw = await topo.addSwitch('sw');
    await topo.run(sw, ['ip', 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    const db = await topo.addHost('db');
    const client = await topo.addHost('client');
    await topo.link(db, 'eth0', sw, 'p-db', sw);
    await topo.link(client, 'eth0', sw, 'p-client', sw);
    await topo.run(db, ['ip', 'addr', 'add', `${ETCD_IP}/24`, 'dev', 'eth0']);
    await topo.run(client, ['ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'eth0']);
    const nodes: ControlPlaneNode[] = [];
    for (let i = 1; i <= 3; i++) {
      const name = `cp${i}`;
      const host = await topo.addHost(name);
      const mac = (await topo.link(host, 'eth0', sw, `p-${name}`, sw)).a;
      const ip = `10.70.0.${10 + i}`;
      await topo.run(host, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      const nodeDir = join(topo.dir, name);
      await mkdir(nodeDir, { recursive: true });
      nodes.push({
        name,
        host,
        ip,
        mac,
        socket: join(topo.dir, `${name}.sock`),
        adminKubeconfig: await writeVipKubeconfig(join(nodeDir, 'admin.conf'), ca, adminPair, 'kubernetes-admin'),
        superAdminKubeconfig: await writeVipKubeconfig(join(nodeDir, 'super-admin.conf'), ca, superPair, 'kubernetes-super-admin'),
        apiserver: undefined,
        agent: undefined,
      });
    }
    const serving = await Promise.all(nodes.map((n) => servingCert(pki, ca, n.name, n.ip)));

    const etcdUrl = `http://${ETCD_IP}:2379`;
    const etcd = topo.start(db, [
      'sh', '-c', `exec "$0" "$@" >>${join(topo.dir, 'etcd.log')} 2>&1`, binaries.etcd,
      '--name=ha', `--data-dir=${join(topo.dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://${ETCD_IP}:2380`, `--initial-advertise-peer-urls=http://${ETCD_IP}:2380`,
      `--initial-cluster=ha=http://${ETCD_IP}:2380`, '--unsafe-no-fsync',
    ]);
    void etcd;
    const proxy = topo.start(client, ['node', labProgram('unix-proxy'), ...nodes.map((n) => `${n.socket}=${n.ip}:${API_PORT}`)]);
    await proxy.waitForLine(/^ready$/, 10_000);

    const master: LabCredentials = { ca: ca.cert, cert: masterPair.cert, key: masterPair.key };
    const lab: HaLab = { topo, sw, db, client, nodes, caFile: ca.certFile, master, apiserversReadyMs: 0 };
    const started = performance.now();
    nodes.forEach((node, i) => {
      const cert = serving[i];
      if (cert === undefined) throw new Error('missing serving certificate');
      apiserverArgs.set(node, [
        binaries.apiserver,
        `--etcd-servers=${etcdUrl}`, '--bind-address=0.0.0.0', `--advertise-address=${node.ip}`, `--secure-port=${API_PORT}`,
        `--cert-dir=${join(topo.dir, node.name, 'certs')}`, `--tls-cert-file=${cert.certFile}`, `--tls-private-key-file=${cert.keyFile}`,
        `--client-ca-file=${ca.certFile}`, '--authorization-mode=RBAC', '--service-cluster-ip-range=10.96.0.0/24',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`,
        '--disable-admission-plugins=ServiceAccount',
        `--audit-policy-file=${auditPolicy}`, `--audit-log-path=${auditLog(lab, node)}`,
      ]);
      startApiServer(lab, node);
    });
    await Promise.all(nodes.map((node) => waitApiReady(lab, node, 90_000)));
    return { ...lab, apiserversReadyMs: Math.round(performance.now() - started) };
  } catch (error) {
    await topo.destroy();
    throw error;
  }
}

const apiserverArgs = new WeakMap<ControlPlaneNode, string[]>();

/** Where a node's API server writes its audit log (Lease writes in kube-system, by user). */
export function auditLog(lab: Pick<HaLab, 'topo'>, node: ControlPlaneNode): string {
  return join(lab.topo.dir, node.name, 'audit.log');
}

/** Starts (or restarts) a node's API server; its output goes to <dir>/<node>/apiserver.log. */
export function startApiServer(lab: Pick<HaLab, 'topo'>, node: ControlPlaneNode): HostProcess {
  const args = apiserverArgs.get(node);
  if (args === undefined) throw new Error(`no API server arguments for ${node.name}`);
  const [binary = '', ...rest] = args;
  const log = join(lab.topo.dir, node.name, 'apiserver.log');
  node.apiserver = lab.topo.start(node.host, ['sh', '-c', `exec "$0" "$@" >>${log} 2>&1`, binary, ...rest]);
  return node.apiserver;
}

/** Waits until a node's API server answers /readyz with 200. */
export async function waitApiReady(lab: HaLab, node: ControlPlaneNode, timeoutMs: number): Promise<void> {
  const status = await pollValue(
    async () => (await labRequest(node, lab.master, 'GET', '/readyz', undefined, 2000).catch(() => ({ status: 0, json: undefined }))).status,
    (s) => s === 200 || node.apiserver?.child.exitCode !== null,
    timeoutMs,
    100,
  );
  if (status !== 200) {
    const log = join(lab.topo.dir, node.name, 'apiserver.log');
    let tail: string;
    try {
      tail = readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      tail = '(no log)';
    }
    throw new Error(`the API server of ${node.name} did not become ready (last status ${status}); log tail:\n${tail}`);
  }
}

/** Resident memory (MB) of a process, from /proc. */
export function residentMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Math.round(Number(kb) / 1024);
  } catch {
    return 0;
  }
}

/** Options of one agent. */
export interface AgentOptions {
  /** Use super-admin.conf as the bootstrap kubeconfig (default: none). */
  readonly bootstrap?: boolean;
  /** Extra command-line flags. */
  readonly extra?: readonly string[];
  /** The program and its leading arguments; the test agent (lab/programs/control-plane.ts) by default. */
  readonly command?: readonly string[];
}

/** Starts `vipcast control-plane` on a node (interface found from the route to the VIP). */
export function startAgent(lab: HaLab, node: ControlPlaneNode, options: AgentOptions = {}): HostProcess {
  node.agent = lab.topo.start(node.host, [
    ...(options.command ?? ['node', labProgram('control-plane')]),
    '--vip', HA_VIP, '--identity', node.name,
    '--kubeconfig', node.adminKubeconfig,
    '--bootstrap-kubeconfig', options.bootstrap ? node.superAdminKubeconfig : '',
    ...(options.extra ?? []),
  ]);
  return node.agent;
}

/** Grants kubeadm's admin group cluster-admin, as `kubeadm init` does near its end. */
export async function grantAdmins(lab: HaLab): Promise<void> {
  const node = lab.nodes[0];
  if (node === undefined) throw new Error('no nodes');
  const response = await labRequest(node, lab.master, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kubeadm:cluster-admins' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'kubeadm:cluster-admins' }],
  });
  if (response.status !== 201 && response.status !== 409) throw new Error(`creating the ClusterRoleBinding → ${response.status}`);
}

/** Removes that grant again (to replay a kubeadm init). */
export async function revokeAdmins(lab: HaLab): Promise<void> {
  const node = lab.nodes[0];
  if (node === undefined) throw new Error('no nodes');
  const response = await labRequest(node, lab.master, 'DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins');
  if (response.status !== 200 && response.status !== 404) throw new Error(`deleting the ClusterRoleBinding → ${response.status}`);
}

/** The single node holding the VIP (by ip addr), optionally other than `not`, once exactly one does; throws after the timeout. */
export async function waitSoleHolder(lab: HaLab, timeoutMs: number, not?: string): Promise<ControlPlaneNode> {
  const holders = await pollValue(() => holdersByIpAddr(lab), (h) => h.length === 1 && h[0] !== not, timeoutMs, 50);
  const node = lab.nodes.find((n) => n.name === holders[0]);
  if (holders.length !== 1 || node === undefined || node.name === not) throw new Error(`expected one holder${not ? ` other than ${not}` : ''}, found [${holders.join(', ')}]`);
  return node;
}

/** Which nodes have the VIP on eth0 now, by `ip addr` in each namespace. */
export async function holdersByIpAddr(lab: HaLab): Promise<string[]> {
  const held = await Promise.all(
    lab.nodes.map(async (n) => {
      const { stdout } = await lab.topo.run(n.host, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
      return stdout.includes(` ${HA_VIP}/32 `) ? n.name : undefined;
    }),
  );
  return held.filter((name): name is string => name !== undefined);
}
