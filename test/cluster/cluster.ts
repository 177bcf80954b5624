// The real-cluster tier's view of the cluster scripts/cluster made (ADR 0020): kubectl with
// its kubeconfig, the node containers, a client namespace on the nodes' bridge, a capture of
// that bridge read back with tshark, and the workloads the scenarios put behind VIPs.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { Topology, runHostCommand, waitUntil, type Host, type HostProcess } from '../../lab/netns.js';
import { labProgram } from '../../lab/paths.js';

const exec = promisify(execFile);

/** The cluster's name (scripts/cluster --name): its nodes are NAME-control-plane, NAME-worker… */
export const clusterName = process.env['VIPCAST_CLUSTER'] ?? 'vctest';
/** The Docker bridge the nodes are on (scripts/cluster: vc-NAME). */
export const bridge = `vc-${clusterName.slice(0, 12)}`;
export const kubeconfig = join(process.cwd(), '.cache', 'cluster', clusterName, 'kubeconfig');
/** Where the client namespace sits on the nodes' network. */
export const clientAddress = { v4: '172.30.0.100', v6: 'fd42:ca57::100' } as const;

function kubectlPath(): string {
  const script = readFileSync(join(process.cwd(), 'scripts', 'build-kube'), 'utf8');
  const version = /^KUBE_VERSION=(\S+)/m.exec(script)?.[1] ?? 'v0';
  const cache = process.env['VIPCAST_CACHE'] ?? join(process.env['HOME'] ?? '/root', '.cache', 'vipcast');
  return join(cache, 'kube', version, 'kubectl');
}

/** Runs kubectl against the cluster; throws with its stderr on a non-zero exit. */
export async function kubectl(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath(), ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`kubectl ${args.join(' ')}: exit ${code}: ${stderr.trim()}`));
    });
    child.stdin.end(input ?? '');
  });
}

/** `kubectl get -o json`, parsed. */
export async function getJson<T = Record<string, unknown>>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl(['get', ...args, '-o', 'json'])) as T;
}

/** Applies YAML documents given as text. */
export async function apply(yaml: string): Promise<void> {
  await kubectl(['apply', '-f', '-'], yaml);
}

export async function docker(args: readonly string[]): Promise<string> {
  const { stdout } = await exec('docker', [...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** The node containers' names, oldest first. */
export async function nodeNames(): Promise<string[]> {
  const out = await docker(['ps', '-a', '--filter', `label=io.vipcast.cluster=${clusterName}`, '--format', '{{.Names}}']);
  return out.split('\n').filter((line) => line !== '').sort();
}

/** Each node container's MAC on the bridge, lower-case, mapped to the node's name. */
export async function nodeByMac(): Promise<Map<string, string>> {
  const byMac = new Map<string, string>();
  for (const name of await nodeNames()) {
    const mac = (await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}', name])).trim().toLowerCase();
    byMac.set(mac, name);
  }
  return byMac;
}

interface ServiceJson {
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly { readonly ip?: string }[] } };
}

/** Waits until the Service has one address per family and returns them. */
export async function serviceAddresses(namespace: string, name: string, timeoutMs = 60_000): Promise<{ v4: string; v6?: string }> {
  const ips = await waitUntil(
    async () => {
      const svc = await getJson<ServiceJson>(['-n', namespace, 'service', name]);
      return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== '');
    },
    (found) => found.some((ip) => !ip.includes(':')),
    timeoutMs,
    200,
  );
  const v4 = ips.find((ip) => !ip.includes(':')) ?? '';
  const v6 = ips.find((ip) => ip.includes(':'));
  return v6 === undefined ? { v4 } : { v4, v6 };
}

/** The client: a network namespace with a veth on the nodes' bridge, and its probes. */
export class Client {
  private constructor(
    readonly topo: Topology,
    readonly host: Host,
  ) {}

  static async create(): Promise<Client> {
    const topo = await Topology.create();
    const host = await topo.addHost('client');
    // The bridge end lives in the root namespace; deleting the namespace removes both ends.
    const outside = `${host.ns.slice(0, 9)}br`;
    await runHostCommand(['ip', 'link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
    await runHostCommand(['ip', 'link', 'set', outside, 'master', bridge, 'up']);
    await topo.run(host, ['ip', 'addr', 'add', `${clientAddress.v4}/24`, 'dev', 'eth0']);
    await topo.run(host, ['ip', 'addr', 'add', `${clientAddress.v6}/64`, 'dev', 'eth0', 'nodad']);
    await topo.run(host, ['ip', 'link', 'set', 'eth0', 'up']);
    await topo.run(host, ['ip', 'link', 'set', 'lo', 'up']);
    return new Client(topo, host);
  }

  /**
   * A client on a link of its own to a router container (the router's end is moved into the
   * container's namespace as edge0), with its default route through the router.
   */
  static async behind(container: string, addresses: { readonly router: string; readonly client: string; readonly subnet: string }): Promise<Client> {
    const topo = await Topology.create();
    const host = await topo.addHost('client');
    const prefix = addresses.subnet.split('/')[1] ?? '24';
    const pid = (await docker(['inspect', '-f', '{{.State.Pid}}', container])).trim();
    const outside = `${host.ns.slice(0, 9)}rt`;
    await runHostCommand(['ip', 'link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns]);
    await runHostCommand(['ip', 'link', 'set', outside, 'netns', pid]);
    await docker(['exec', container, 'ip', 'link', 'set', outside, 'name', 'edge0']);
    await docker(['exec', container, 'ip', 'addr', 'add', `${addresses.router}/${prefix}`, 'dev', 'edge0']);
    await docker(['exec', container, 'ip', 'link', 'set', 'edge0', 'up']);
    await topo.run(host, ['ip', 'addr', 'add', `${addresses.client}/${prefix}`, 'dev', 'eth0']);
    await topo.run(host, ['ip', 'link', 'set', 'eth0', 'up']);
    await topo.run(host, ['ip', 'link', 'set', 'lo', 'up']);
    await topo.run(host, ['ip', 'route', 'add', 'default', 'via', addresses.router]);
    return new Client(topo, host);
  }

  /** One TCP connection to ADDRESS:PORT: what the server said, or why it failed. */
  async connect(address: string, port: number): Promise<string> {
    const result = await this.topo.run(this.host, [process.execPath, '-e', oneConnection, address, String(port)], true);
    return result.stdout.trim();
  }

  /** The MAC the client's neighbour table holds for ADDRESS (lower-case), if any. */
  async neighbour(address: string): Promise<string | undefined> {
    const out = await this.topo.run(this.host, ['ip', 'neigh', 'show', address], true);
    return /lladdr ([0-9a-f:]{17})/.exec(out.stdout)?.[1];
  }

  /** Forgets ADDRESS's neighbour entry, so the next connection asks again (ARP or NS). */
  async forget(address: string): Promise<void> {
    await this.topo.run(this.host, ['ip', 'neigh', 'flush', 'to', address], true);
  }

  /**
   * Captures everything on the client's link. Not on the bridge's own interface: that sees
   * only frames the bridge floods or delivers to the host, so a unicast ARP reply to a client
   * whose MAC the bridge has learned never shows there. `filter` is a capture filter's words
   * (tcpdump's syntax), for a long capture of some frames only.
   */
  async capture(filter: readonly string[] = []): Promise<ClientCapture> {
    return this.topo.capture(this.host, 'eth0', undefined, filter);
  }

  /** The lab's probe (lab/programs/tcp-probe.ts) of ADDRESS:PORT every 50 ms. */
  probe(address: string, port: number): HostProcess {
    return this.topo.start(this.host, [process.execPath, labProgram('tcp-probe'), address, String(port), '50', '300']);
  }

  async destroy(): Promise<void> {
    await this.topo.destroy();
  }
}

// What `node -e` runs in the client for one connection: prints the server's words or "fail <why>".
const oneConnection = `
const [host, port] = process.argv.slice(1);
const s = require('net').connect({ host, port: Number(port) });
let data = '';
s.setTimeout(2000, () => { console.log('fail timeout'); process.exit(0); });
s.on('data', (d) => (data += d));
s.on('end', () => { console.log(data.trim() === '' ? 'fail empty' : data.trim()); process.exit(0); });
s.on('error', (e) => { console.log('fail ' + (e.code || e.message)); process.exit(0); });
`;

/** A capture of the client's link; stop() ends it and returns the pcap's path. */
export interface ClientCapture {
  readonly file: string;
  stop(): Promise<string>;
}

/** One frame that answered for an address: when, and from which MAC. */
export interface Answer {
  readonly at: number;
  readonly mac: string;
}

/** ARP replies and gratuitous ARPs for ADDRESS (IPv4), or Neighbor Advertisements for it (IPv6). */
export async function answersFor(file: string, address: string): Promise<Answer[]> {
  const v6 = address.includes(':');
  const filter = v6
    ? `icmpv6.type == 136 && icmpv6.nd.na.target_address == ${address}`
    : `arp.src.proto_ipv4 == ${address} && (arp.opcode == 2 || arp.isgratuitous == 1)`;
  const macField = v6 ? 'eth.src' : 'arp.src.hw_mac';
  const out = await runHostCommand(['tshark', '-n', '-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.time_epoch', '-e', macField]);
  return out.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [at = '0', mac = ''] = line.split('\t');
      return { at: Math.round(Number(at) * 1000), mac: mac.toLowerCase() };
    });
}

/**
 * Moments where two MACs answered for one address at once: MAC M answered, then another MAC
 * N, then M again, all within `windowMs`. A handover (M stops, N starts) is not one.
 */
export function overlappingAnswerers(answers: readonly Answer[], windowMs = 2000): string[] {
  const problems: string[] = [];
  const lastBy = new Map<string, number>();
  for (const a of [...answers].sort((x, y) => x.at - y.at)) {
    const previous = lastBy.get(a.mac);
    for (const [other, at] of lastBy) {
      if (other !== a.mac && previous !== undefined && previous < at && a.at - previous < windowMs) {
        problems.push(`${a.mac} at ${previous} and ${a.at}, ${other} at ${at} between`);
      }
    }
    lastBy.set(a.mac, a.at);
  }
  return problems;
}

/**
 * The echo workload: answers each TCP connection on 8080 with its node's name. On SIGTERM it
 * keeps serving for 2 s, as a well-behaved application does while its endpoint is withdrawn,
 * so that a client's failures during a drain or a rollout are vipcast's, not the backend's.
 */
export function echoWorkload(kind: 'DaemonSet' | 'Deployment', name: string, extra: { nodeName?: string; replicas?: number } = {}): string {
  const spec = {
    selector: { matchLabels: { app: name } },
    ...(kind === 'Deployment' ? { replicas: extra.replicas ?? 1 } : {}),
    template: {
      metadata: { labels: { app: name } },
      spec: {
        ...(extra.nodeName === undefined ? {} : { nodeSelector: { 'kubernetes.io/hostname': extra.nodeName } }),
        tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
        terminationGracePeriodSeconds: 10,
        containers: [
          {
            name: 'echo',
            image: manifestImage(),
            // A reset from a probe or a client is the client's business, not a crash.
            command: ['node', '-e', echoServer],
            env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          },
        ],
      },
    },
  };
  return JSON.stringify({ apiVersion: 'apps/v1', kind, metadata: { namespace: 'default', name }, spec });
}

// On SIGTERM the server keeps answering for 5 s, as a well-behaved workload does (a preStop
// sleep), so that kube-proxy on every node has dropped the terminating endpoint before it
// goes. With 2 s, one CI run saw three refused connections during a drain in which the VIP
// never moved: the likeliest cause is kube-proxy, slowed on a loaded 2-core machine, still
// sending to an endpoint that had exited.
const echoServer = `
const server = require('net').createServer((s) => { s.on('error', () => {}); s.end(process.env.NODE_NAME + '\\n'); });
server.listen(8080, '::');
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 5000));
`;

/** A LoadBalancer Service in front of app NAME on port 8080, dual-stack unless ipv4Only. */
export function loadBalancer(name: string, app: string, options: { local?: boolean; pool?: string; ipv4Only?: boolean } = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'default', name, ...(options.pool === undefined ? {} : { annotations: { 'vipcast.io/address-pool': options.pool } }) },
    spec: {
      type: 'LoadBalancer',
      ...(options.ipv4Only === true ? { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] } : { ipFamilyPolicy: 'RequireDualStack' }),
      ...(options.local === true ? { externalTrafficPolicy: 'Local' } : {}),
      selector: { app },
      ports: [{ port: 8080, targetPort: 8080 }],
    },
  });
}

/**
 * Asks ADDRESS afresh (its neighbour entry flushed, so ARP or NS goes out): what the server on
 * 8080 said, and the node whose MAC the client learned for it.
 */
export async function askAfresh(client: Client, address: string, macs: ReadonlyMap<string, string>): Promise<{ answer: string; owner: string | undefined }> {
  await client.forget(address);
  const answer = await client.connect(address, 8080);
  const mac = await client.neighbour(address);
  return { answer, owner: mac === undefined ? undefined : (macs.get(mac) ?? `unknown MAC ${mac}`) };
}

/** The node whose MAC the client learned for ADDRESS after asking afresh. */
export async function ownerSeenBy(client: Client, address: string, macs: ReadonlyMap<string, string>): Promise<string | undefined> {
  return (await askAfresh(client, address, macs)).owner;
}

/** A node container's IPv4 address on the bridge. */
export async function nodeAddress(node: string): Promise<string> {
  return (await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', node])).trim();
}

/**
 * Pods still terminating in any namespace (namespace/name). The echo workload serves for 5 s
 * after SIGTERM and the tests delete theirs without waiting, so an earlier file's Pods may
 * linger; `kubectl drain` refuses a node with a Pod whose DaemonSet is already gone.
 */
export async function terminatingPods(): Promise<string[]> {
  const pods = await getJson<{ items: { metadata: { namespace: string; name: string; deletionTimestamp?: string } }[] }>(['pods', '--all-namespaces']);
  return pods.items.filter((p) => p.metadata.deletionTimestamp !== undefined).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
}

/** Runs a repository script (bash scripts/NAME ARGS) to completion; rejects on a non-zero exit. */
export function script(name: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [`scripts/${name}`, ...args, '--name', clusterName], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/${name} ${args.join(' ')}: exit ${code}`))));
  });
}

/** The image manifests/vipcast.yaml runs (scripts/cluster loads our build under that name). */
export function manifestImage(): string {
  const docs = readFileSync(join(process.cwd(), 'manifests', 'vipcast.yaml'), 'utf8');
  const match = /^\s*image:\s*(\S+)/m.exec(docs);
  if (match?.[1] === undefined) throw new Error('manifests/vipcast.yaml names no image');
  return match[1];
}

/** Waits until a workload's Pods are all ready. */
export async function rolledOut(kind: 'daemonset' | 'deployment', name: string, namespace = 'default'): Promise<void> {
  await kubectl(['-n', namespace, 'rollout', 'status', `${kind}/${name}`, '--timeout=120s']);
}

/** The vipcast config the cluster was installed with, parsed (for tests that add pools). */
export async function vipcastConfig(): Promise<unknown> {
  const cm = await getJson<{ data?: { config?: string } }>(['-n', 'vipcast-system', 'configmap', 'vipcast-config']);
  return parse(cm.data?.config ?? '');
}

/** Starts a stopped or killed node container again, rewires its Pods, and waits until its speaker runs again. */
export async function restartNode(name: string): Promise<void> {
  const startedAt = Date.now();
  await docker(['start', name]);
  await waitUntil(() => docker(['exec', name, 'ctr', 'version']).then(() => true, () => false), (ok) => ok, 60_000, 500);
  await script('cluster', ['routes']);
  // The Node object stays Ready through a short loss, so wait for the speaker itself: a
  // container started after the restart, and ready.
  interface PodList {
    items: { spec: { nodeName?: string }; status: { containerStatuses?: { ready: boolean; state: { running?: { startedAt: string } } }[] } }[];
  }
  await waitUntil(
    async () => {
      const pods = await getJson<PodList>(['-n', 'vipcast-system', 'pods', '-l', 'app.kubernetes.io/component=speaker']);
      const status = pods.items.find((p) => p.spec.nodeName === name)?.status.containerStatuses?.[0];
      return status?.ready === true && Date.parse(status.state.running?.startedAt ?? '') >= Math.floor(startedAt / 1000) * 1000;
    },
    (ok) => ok,
    180_000,
    1000,
  );
}
