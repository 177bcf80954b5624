// The end-to-end lab for the speaker: a real kube-apiserver and etcd on the host's loopback,
// a switch, three node namespaces each running `vipcast speaker` as that node with the
// speaker ServiceAccount's token, a controller namespace running `vipcast controller` with
// its own, and a client. Namespaces reach the API server through ApiBridge (loopback and a
// Unix socket only). Each node stands in for kube-proxy: the pool's addresses are local on
// its lo, and a TCP responder on port 8080 answers with the node's name.
import { join } from 'node:path';
import { installManifests } from './cluster-helpers.js';
import { ApiBridge, namespaceApiPort } from './api-bridge.js';
import { startApiServer, type TestApiServer } from './apiserver.js';
import { kubeExpectOk, kubeWatch, writeKubeconfig, type KubeCredentials } from './kube-client.js';
import { Topology, pollValue, type Host, type HostProcess } from './netns.js';
import { startRouter, type BgpRouter } from './routers.js';
import { labProgram } from './paths.js';
import { configureLabNode, labPoolConfig } from './lab-topology.js';
import { clientOutage, parseProbeLines, servedSteadily, type ProbeAttempt } from './probe-log.js';
import { type SpeakerLeaseObject } from '../src/speaker/speaker-lease.js';
import { holders, peerQuorumNodes } from './lab-leases.js';

/** The pool the lab's ConfigMap defines by default, `vipcast lab`'s dual-stack layer-2 one: 192.0.2.100-192.0.2.115 and 2001:db8::100-2001:db8::10f. */
const defaultPoolConfig = labPoolConfig('layer2', 'dual');

/** The peer channel's UDP port (ADR 0017); the lab's speakers use the default. */
export const peerPort = 7947;

/** What a node's speaker reports of the peer channel on its metrics endpoint (ADR 0017). */
export interface PeerView {
  /** vipcast_speaker_layer2_holding: the node may answer for its layer-2 VIPs. */
  readonly holding: boolean;
  /** vipcast_speaker_peer_contacts. */
  readonly contacts: number;
  /** vipcast_speaker_peer_configuration_members. */
  readonly members: number;
  /** vipcast_speaker_peer_declarations_total: peers this node declared dead so far. */
  readonly declarations: number;
}

/** Peer-channel packets a node's tc rules drop, until restore(). */
export interface PeerChannelCut {
  /** Packets the rules have dropped so far, sent and received (the tc actions' own counters). */
  dropped(): Promise<{ readonly egress: number; readonly ingress: number }>;
  /** Removes the rules; the node's peer channel works again. */
  restore(): Promise<void>;
}

const metricsScript = `fetch('http://127.0.0.1:7473/metrics', { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e)); process.exit(1); })`;

/** One node of the lab. */
export interface LabNode {
  readonly name: string;
  readonly host: Host;
  readonly mac: string;
  /** The node's IPv4 address on the switch. */
  readonly ipv4: string;
  /** Its peer-channel address: ipv4, or its address on the separate peer network when the lab has one. */
  readonly peerAddress: string;
  forwarder: HostProcess | undefined;
  speaker: HostProcess | undefined;
}

/** Two BGP peers (BIRD at .254/::254, 9 s hold, BFD at 100 ms) and a routed pool, for the BGP labs. */
export const bgpLabConfig = `peers:
- peer-address: 192.0.2.254
  peer-asn: 64512
  my-asn: 64513
  hold-time: 9s
  bfd-profile: fast
- peer-address: 2001:db8::254
  peer-asn: 64512
  my-asn: 64513
  hold-time: 9s
  bfd-profile: fast
bfd-profiles:
- name: fast
  receive-interval: 100
  transmit-interval: 100
  detect-multiplier: 3
address-pools:
- name: routed
  protocol: bgp
  addresses: [198.51.100.0/28, 2001:db8:100::/124]
`;

/** The running lab. */
export class SpeakerLab {
  private constructor(
    readonly api: TestApiServer,
    readonly topo: Topology,
    readonly bridge: ApiBridge,
    readonly sw: Host,
    readonly client: Host,
    readonly controllerHost: Host,
    readonly nodes: LabNode[],
    /** Per node: a kubeconfig with a token of the speaker ServiceAccount bound to a Pod on that node. */
    readonly speakerKubeconfigs: ReadonlyMap<string, string>,
    readonly controllerKubeconfig: string,
  ) {}

  /** Admin credentials for the test's own requests. */
  get admin(): KubeCredentials {
    return this.api.admin;
  }

  /**
   * Builds everything; speakers and the controller are started separately. With
   * `peerNetwork`, each node also has eth1 on a second switch (10.9.0.N/24) and runs the peer
   * channel there, so eth0 carries only the VIPs' traffic, as a dedicated announce link does.
   * `serviceClusterIpRange` widens the ClusterIP range (4,096 IPv4 addresses by default).
   */
  static async create(nodeCount = 3, config = defaultPoolConfig, options: { readonly peerNetwork?: boolean; readonly serviceClusterIpRange?: string } = {}): Promise<SpeakerLab> {
    const api = await startApiServer({ serviceClusterIpRange: options.serviceClusterIpRange ?? '10.0.0.0/20,fd00:10::/112' });
    let topo: Topology | undefined;
    try {
      const created = await Topology.create();
      topo = created;
      const bridge = await ApiBridge.open(topo, new URL(api.url).port === '' ? 443 : Number(new URL(api.url).port));
      const sw = await topo.addSwitch('sw');
      const client = await topo.addHost('client');
      await topo.link(client, 'eth0', sw, 'p-client', sw);
      await topo.run(client, ['ip', 'addr', 'add', '192.0.2.9/24', 'dev', 'eth0']);
      await topo.run(client, ['ip', 'addr', 'add', '2001:db8::9/64', 'dev', 'eth0', 'nodad']);
      const controllerHost = await topo.addHost('ctl');
      const peerSwitch = options.peerNetwork ? await topo.addSwitch('psw') : undefined;
      const nodes: LabNode[] = [];
      for (let i = 1; i <= nodeCount; i++) {
        const name = `node-${i}`;
        const host = await topo.addHost(`n${i}`);
        const { a: mac } = await topo.link(host, 'eth0', sw, `p-n${i}`, sw);
        // The layer-2 pool's addresses only: the BGP tests' pool is not accepted locally here.
        await configureLabNode((argv) => created.run(host, argv), i, { ipv4: ['192.0.2.96/28', '192.0.2.112/28'], ipv6: ['2001:db8::100/120'] });
        const server = topo.start(host, [process.execPath, labProgram('echo-server'), name]);
        await server.waitForLine(/^listening on port 8080 /, 10_000);
        let peerAddress = `192.0.2.${i}`;
        if (peerSwitch) {
          await topo.link(host, 'eth1', peerSwitch, `p-n${i}`, peerSwitch);
          peerAddress = `10.9.0.${i}`;
          await topo.run(host, ['ip', 'addr', 'add', `${peerAddress}/24`, 'dev', 'eth1']);
        }
        nodes.push({ name, host, mac, ipv4: `192.0.2.${i}`, peerAddress, forwarder: await bridge.attach(topo, host), speaker: undefined });
      }
      await bridge.attach(topo, controllerHost);

      await installManifests(api.admin, ['manifests/vipcast.yaml']);
      await kubeExpectOk(api.admin, '/api/v1/namespaces/vipcast-system/configmaps/vipcast-config', {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { data: { config } },
      }).catch(async () =>
        kubeExpectOk(api.admin, '/api/v1/namespaces/vipcast-system/configmaps', {
          method: 'POST',
          body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vipcast-config', namespace: 'vipcast-system' }, data: { config } },
        }),
      );
      for (const node of nodes) await createReadyNode(api.admin, node.name);

      const inNamespace = (c: KubeCredentials): KubeCredentials => ({ ...c, server: `https://127.0.0.1:${namespaceApiPort}` });
      const speakerKubeconfigs = new Map<string, string>();
      for (const node of nodes) {
        const token = await podBoundToken(api.admin, 'vipcast-speaker', node.name);
        speakerKubeconfigs.set(node.name, await writeKubeconfig(inNamespace({ server: api.admin.server, ca: api.admin.ca, token }), join(topo.dir, `speaker-${node.name}.kubeconfig`)));
      }
      const controllerKubeconfig = await writeKubeconfig(inNamespace(await api.serviceAccountToken('vipcast-system', 'vipcast-controller')), join(topo.dir, 'controller.kubeconfig'));
      return new SpeakerLab(api, topo, bridge, sw, client, controllerHost, nodes, speakerKubeconfigs, controllerKubeconfig);
    } catch (error) {
      await topo?.destroy();
      await api.stop();
      throw error;
    }
  }

  /** Starts the controller in its namespace (with `extraArgs`); resolves once it leads. */
  async startController(extraArgs: readonly string[] = []): Promise<HostProcess> {
    const controller = this.topo.start(this.controllerHost, [
      process.execPath, 'bin/vipcast.js', 'controller', '--kubeconfig', this.controllerKubeconfig,
      '--metrics-address', '127.0.0.1:0', '--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '500ms', ...extraArgs,
    ]);
    await controller.waitForLine(/became leader/, 30_000);
    return controller;
  }

  /**
   * Starts a node's speaker, announcing on eth0 unless `interface` is null (then it finds the
   * interface from the kernel's routes, ADR 0022); resolves once it has started.
   */
  async startSpeaker(node: LabNode, extraArgs: readonly string[] = [], options: { readonly interface?: string | null } = {}): Promise<HostProcess> {
    const announceOn = options.interface === undefined ? 'eth0' : options.interface;
    const speaker = this.topo.start(node.host, [
      process.execPath, 'bin/vipcast.js', 'speaker', '--node', node.name, '--kubeconfig', this.speakerKubeconfigs.get(node.name) ?? '',
      ...(announceOn === null ? [] : ['--interface', announceOn]), '--metrics-address', '127.0.0.1:7473', '--peer-address', node.peerAddress, ...extraArgs,
    ]);
    node.speaker = speaker;
    await speaker.waitForLine(/"speaker started"/, 20_000);
    return speaker;
  }

  /** Cuts a node off from the API server: its forwarder dies and every connection through it drops. */
  async partition(node: LabNode): Promise<void> {
    const forwarder = node.forwarder;
    node.forwarder = undefined;
    if (forwarder) {
      forwarder.child.kill('SIGKILL');
      await forwarder.exited;
    }
    this.bridge.cutConnections();
  }

  /** Reconnects a partitioned node. */
  async heal(node: LabNode): Promise<void> {
    node.forwarder ??= await this.bridge.attach(this.topo, node.host);
  }

  /** Creates a single-stack LoadBalancer Service on port 8080 and resolves with its IP. */
  async createService(name: string, family: 'IPv4' | 'IPv6' = 'IPv4', externalTrafficPolicy: 'Cluster' | 'Local' = 'Cluster'): Promise<string> {
    await kubeExpectOk(this.admin, '/api/v1/namespaces/default/services', {
      method: 'POST',
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default' },
        spec: { type: 'LoadBalancer', ipFamilies: [family], ipFamilyPolicy: 'SingleStack', externalTrafficPolicy, ports: [{ port: 8080, protocol: 'TCP' }], selector: { app: name } },
      },
    });
    type WithStatus = { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
    const ip = await pollValue(
      async () => ((await kubeExpectOk(this.admin, `/api/v1/namespaces/default/services/${name}`)) as WithStatus).status?.loadBalancer?.ingress?.[0]?.ip,
      (found) => found !== undefined,
      30_000,
      100,
    );
    if (ip === undefined) throw new Error(`${name} got no IP`);
    return ip;
  }

  /** The nodes whose speaker Lease stands and says they hold the VIP (the lab's reading, lab/lab-leases.ts). */
  async holders(address: string): Promise<string[]> {
    return holders(this.admin, address);
  }

  /**
   * Waits until every running speaker has recorded a configuration of all running speakers in
   * its Lease (ADR 0017): with three or more, the peer quorum then holds their VIPs.
   */
  async waitForPeerQuorum(timeoutMs = 20_000): Promise<void> {
    const running = this.nodes.filter((n) => n.speaker !== undefined && n.speaker.child.exitCode === null && n.speaker.child.signalCode === null).map((n) => n.name);
    const ready = await pollValue(() => peerQuorumNodes(this.admin, running), (nodes) => nodes.length === running.length, timeoutMs, 100);
    if (ready.length !== running.length) throw new Error(`only ${ready.join(', ') || 'none'} of ${running.join(', ')} recorded a configuration of all running speakers within ${timeoutMs} ms`);
  }

  /** What the node's speaker reports of the peer channel now; undefined when its metrics do not answer within 2 s. */
  async peerView(node: LabNode): Promise<PeerView | undefined> {
    const { code, stdout } = await this.topo.run(node.host, [process.execPath, '-e', metricsScript], true);
    if (code !== 0) return undefined;
    const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(stdout)?.[1] ?? Number.NaN);
    return { holding: gauge('vipcast_speaker_layer2_holding') === 1, contacts: gauge('vipcast_speaker_peer_contacts'), members: gauge('vipcast_speaker_peer_configuration_members'), declarations: gauge('vipcast_speaker_peer_declarations_total') };
  }

  /**
   * Waits until every running speaker reports that it holds (ADR 0017 rule 2: it may answer
   * for its VIPs, so any of them could take one over); resolves with the milliseconds waited.
   */
  async waitForHolding(timeoutMs = 20_000): Promise<number> {
    const started = Date.now();
    const running = this.nodes.filter((n) => n.speaker !== undefined && n.speaker.child.exitCode === null && n.speaker.child.signalCode === null);
    const views = await pollValue(() => Promise.all(running.map((n) => this.peerView(n))), (all) => all.every((v) => v?.holding === true), timeoutMs, 100);
    if (!views.every((v) => v?.holding === true)) {
      throw new Error(`not every speaker holds within ${timeoutMs} ms: ${running.map((n, i) => `${n.name} ${JSON.stringify(views[i])}`).join(', ')}`);
    }
    return Date.now() - started;
  }

  /**
   * Drops the node's peer-channel packets on its eth0 with tc: those it sends (to `to` only,
   * when given) and, with `ingress`, those it receives. The API server stays reachable: the
   * node reaches it over lo. The kernel here has neither gact (tc's drop) nor prio, and there
   * are no netfilter tools, so each rule is a u32 match on a clsact qdisc whose action is a
   * mirred redirect to a veth left down, which the kernel discards; the actions' packet
   * counters say whether the rules matched.
   */
  async cutPeerChannel(node: LabNode, options: { readonly to?: string; readonly ingress?: boolean } = {}): Promise<PeerChannelCut> {
    const host = node.host;
    const match = ['u32', 'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'dport', String(peerPort), '0xffff'];
    const drop = (index: number): string[] => ['action', 'mirred', 'egress', 'redirect', 'dev', 'peerdrop', 'index', String(index)];
    await this.topo.run(host, ['ip', 'link', 'add', 'peerdrop', 'type', 'veth', 'peer', 'name', 'peerdrop-b']);
    await this.topo.run(host, ['tc', 'qdisc', 'add', 'dev', 'eth0', 'clsact']);
    await this.topo.run(host, ['tc', 'filter', 'add', 'dev', 'eth0', 'egress', 'protocol', 'ip', 'prio', '1', ...match, ...(options.to ? ['match', 'ip', 'dst', `${options.to}/32`] : []), ...drop(1)]);
    if (options.ingress) await this.topo.run(host, ['tc', 'filter', 'add', 'dev', 'eth0', 'ingress', 'protocol', 'ip', 'prio', '1', ...match, ...drop(2)]);
    const packets = async (index: number): Promise<number> => {
      const { stdout } = await this.topo.run(host, ['tc', '-s', 'actions', 'get', 'action', 'mirred', 'index', String(index)], true);
      return Number(/Sent \d+ bytes (\d+) pkt/.exec(stdout)?.[1] ?? 0);
    };
    return {
      dropped: async () => ({ egress: await packets(1), ingress: options.ingress ? await packets(2) : 0 }),
      restore: async () => {
        await this.topo.run(host, ['tc', 'qdisc', 'del', 'dev', 'eth0', 'clsact']);
        await this.topo.run(host, ['ip', 'link', 'del', 'peerdrop']);
      },
    };
  }

  /** Waits until exactly one node (other than `not`) holds the VIP; explains in detail when none does. */
  async waitForOwner(address: string, not?: string, timeoutMs = 20_000): Promise<LabNode> {
    const owners = await pollValue(() => this.holders(address), (h) => h.length === 1 && h[0] !== not, timeoutMs, 50);
    const node = this.nodes.find((n) => n.name === owners[0]);
    if (node && owners.length === 1 && node.name !== not) return node;
    const leases = (await kubeExpectOk(this.admin, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases')) as { items: SpeakerLeaseObject[] };
    const speakers = this.nodes.map((n) => `${n.name}: ${n.speaker?.lines.slice(-8).join('\n    ') ?? ''}`).join('\n  ');
    throw new Error(`no single owner of ${address} (holders: ${owners.join(', ')})\nleases: ${JSON.stringify(leases.items.map((l) => [l.metadata.name, l.spec, l.metadata.annotations]))}\n  ${speakers}`);
  }

  /**
   * Adds a router namespace on the switch (192.0.2.254, 2001:db8::254) running BIRD 2 in AS
   * 64512, passive toward every node (AS 64513) over IPv4 and IPv6, with BFD at 100 ms x 3.
   */
  async addBird(): Promise<BgpRouter> {
    const host = await this.topo.addHost('r');
    await this.topo.link(host, 'eth0', this.sw, 'p-r', this.sw);
    await this.topo.run(host, ['ip', 'addr', 'add', '192.0.2.254/24', 'dev', 'eth0']);
    await this.topo.run(host, ['ip', 'addr', 'add', '2001:db8::254/64', 'dev', 'eth0', 'nodad']);
    const peers = this.nodes.flatMap((_, i) => [`192.0.2.${i + 1}`, `2001:db8::${i + 1}`]).map((address) => ({ address, asn: 64513, bfd: true }));
    return startRouter(this.topo, { kind: 'bird', host, routerId: '192.0.2.254', asn: 64512, peers, holdTime: 9, bfd: { intervalMs: 100, multiplier: 3 } });
  }

  /** Node by MAC address. */
  nodeByMac(mac: string): LabNode | undefined {
    return this.nodes.find((n) => n.mac === mac.toLowerCase());
  }

  /** Stops every process, removes every namespace this lab made, and stops the API server. */
  async destroy(): Promise<void> {
    await this.topo.destroy();
    await this.bridge.close();
    await this.api.stop();
  }
}

/**
 * A token of a ServiceAccount bound to a Pod of the speaker DaemonSet on `node`, as the
 * kubelet would mount it: the API server then knows the node the caller runs on
 * (userInfo.extra authentication.kubernetes.io/node-name), which the Lease admission policy
 * checks. The Pod is only an object here; nothing runs it.
 */
export async function podBoundToken(admin: KubeCredentials, serviceAccount: string, node: string): Promise<string> {
  const name = `${serviceAccount}-${node}`;
  const pod = (await kubeExpectOk(admin, '/api/v1/namespaces/vipcast-system/pods', {
    method: 'POST',
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'vipcast-system', labels: { 'app.kubernetes.io/name': 'vipcast', 'app.kubernetes.io/component': 'speaker' } },
      spec: { nodeName: node, serviceAccountName: serviceAccount, containers: [{ name: 'speaker', image: 'vipcast:lab' }] },
    },
  })) as { metadata: { uid: string } };
  const answer = (await kubeExpectOk(admin, `/api/v1/namespaces/vipcast-system/serviceaccounts/${serviceAccount}/token`, {
    method: 'POST',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid: pod.metadata.uid } } },
  })) as { status?: { token?: string } };
  if (!answer.status?.token) throw new Error(`TokenRequest for ${serviceAccount} on ${node} returned no token`);
  return answer.status.token;
}

/** Registers a Node object whose Ready condition is True (there is no kubelet to do it). */
export async function createReadyNode(admin: KubeCredentials, name: string, labels: Record<string, string> = {}): Promise<void> {
  await kubeExpectOk(admin, '/api/v1/nodes', { method: 'POST', body: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } } } });
  await setNodeReady(admin, name, true);
}

/** Sets a Node's Ready condition. */
export async function setNodeReady(admin: KubeCredentials, name: string, ready: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await kubeExpectOk(admin, `/api/v1/nodes/${name}/status`, {
    method: 'PATCH',
    contentType: 'application/strategic-merge-patch+json',
    body: { status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'Test', lastHeartbeatTime: now, lastTransitionTime: now }] } },
  });
}

/**
 * Counts the changes the API server reports on a collection for a while, by object name, from
 * a watch: the server's own account of how often each object was written.
 */
export async function countWrites(
  admin: KubeCredentials,
  collection: string,
  durationMs: number,
  keyOf: (object: Record<string, unknown> & { metadata?: { name?: string } }) => string = (object) => object.metadata?.name ?? '',
): Promise<Map<string, number>> {
  const list = (await kubeExpectOk(admin, collection)) as { metadata: { resourceVersion: string } };
  const counts = new Map<string, number>();
  const url = new URL(`${collection}?watch=true&resourceVersion=${list.metadata.resourceVersion}&allowWatchBookmarks=false`, admin.server);
  const watch = kubeWatch(admin, `${url.pathname}${url.search}`, (event) => {
    if (event.type !== 'MODIFIED' && event.type !== 'ADDED') return;
    const name = keyOf(event.object as Record<string, unknown> & { metadata?: { name?: string } });
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  const timer = setTimeout(() => watch.abort(), durationMs);
  try {
    await watch.done;
  } finally {
    clearTimeout(timer);
  }
  return counts;
}

/** One attempt of the client's probe. */
export type ProbeResult = ProbeAttempt;

/** The probe's attempts since `from` (ms since the epoch). */
export function probeResults(probe: HostProcess, from: number): ProbeResult[] {
  return parseProbeLines(probe.lines, from);
}

/**
 * Waits until the probe reached `node` five times in a row; returns the longest client-visible
 * outage since `from` (lab/probe-log.ts, which the lab demo uses too) and when the node
 * first answered.
 */
export async function outageUntilServedBy(probe: HostProcess, node: LabNode, from: number, timeoutMs = 20_000): Promise<{ outageMs: number; servedAfterMs: number }> {
  const served = await pollValue(() => probeResults(probe, from), (results) => servedSteadily(results, node.name), timeoutMs, 50);
  if (!servedSteadily(served, node.name)) {
    const last = served.slice(-5).map((r) => `${r.ok ? 'ok' : 'fail'} ${r.answer}`).join('; ');
    throw new Error(`the client did not reach ${node.name} within ${timeoutMs} ms; last attempts: ${last}`);
  }
  const { outageMs, servedAfterMs } = clientOutage(served, from, node.name);
  return { outageMs, servedAfterMs };
}

/** Starts the client's probe of ADDRESS:8080 every 50 ms. */
/**
 * A broadcast ARP request for `address` from the client every `intervalS` seconds (arping's -i
 * takes whole seconds), seen by every node. At 0.2 s it stays inside the responder's 10
 * replies/s per requester (ADR 0007), so an unanswered request means nobody was answering.
 */
export function startArping(lab: SpeakerLab, address: string, intervalS = 0.2): HostProcess {
  return lab.topo.start(lab.client, ['sh', '-c', `while :; do arping -b -c 1 -w 1 -I eth0 ${address} >/dev/null; sleep ${intervalS}; done`]);
}

export function startProbe(lab: SpeakerLab, address: string): HostProcess {
  return lab.topo.start(lab.client, [process.execPath, labProgram('tcp-probe'), address, '8080', '50', '300']);
}
