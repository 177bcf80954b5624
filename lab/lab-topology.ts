// The lab's network on one Linux machine: a switch (a bridge in its own namespace), N node
// namespaces (eth0 192.0.2.N/24 and 2001:db8::N/64), a client, a namespace for the controller
// and, for BGP, a router (192.0.2.254) with the client behind it. Each node stands in for
// kube-proxy and a Pod: the pools' addresses are local on its lo (the kernel never answers ARP
// for them) and an echo server on port 8080 answers with the node's name. Programs are started
// through a LabLauncher, so the same class serves a detached lab (`vipcast lab up`) and
// attached ones.
import { join } from 'node:path';
import { namespaceApiPort } from './api-bridge.js';
import { labProgram, repositoryRoot } from './paths.js';
import type { LabLauncher } from './lab-launcher.js';
import type { LabFamily, LabMode, LabNodeState, LabProcessRecord } from './lab-state.js';
import { addBridge, addNamespace, inNs, linkNamespaces, runHostCommand } from './netns.js';

/** The router's addresses and ASNs in BGP mode. */
export const labRouter = { ipv4: '192.0.2.254', ipv6: '2001:db8::254', asn: 64512, nodeAsn: 64513 } as const;

/** The client's addresses: on the switch (layer 2), or behind the router (BGP). */
export function clientAddresses(mode: LabMode): { ipv4: string; ipv6: string } {
  // Layer 2: on the switch, clear of the nodes (.1-.9) and of the pools' local routes.
  return mode === 'layer2' ? { ipv4: '192.0.2.200', ipv6: '2001:db8::200' } : { ipv4: '203.0.113.9', ipv6: '2001:db8:9::9' };
}

/** The address-pool config the lab's ConfigMap holds for a mode and family. */
export function labPoolConfig(mode: LabMode, family: LabFamily): string {
  const v4 = family !== 'ipv6';
  const v6 = family !== 'ipv4';
  if (mode === 'layer2') {
    const ranges = [...(v4 ? ['192.0.2.100-192.0.2.115'] : []), ...(v6 ? ['2001:db8::100-2001:db8::10f'] : [])];
    return `address-pools:\n- name: lab\n  protocol: layer2\n  addresses:\n${ranges.map((r) => `  - ${r}\n`).join('')}`;
  }
  const peers = [...(v4 ? [labRouter.ipv4] : []), ...(v6 ? [labRouter.ipv6] : [])];
  const ranges = [...(v4 ? ['198.51.100.0/28'] : []), ...(v6 ? ['2001:db8:100::/124'] : [])];
  return [
    'peers:',
    ...peers.flatMap((peer) => [`- peer-address: ${peer}`, `  peer-asn: ${labRouter.asn}`, `  my-asn: ${labRouter.nodeAsn}`, '  hold-time: 9s', '  bfd-profile: fast']),
    'bfd-profiles:',
    '- name: fast',
    '  receive-interval: 100',
    '  transmit-interval: 100',
    '  detect-multiplier: 3',
    'address-pools:',
    '- name: lab',
    '  protocol: bgp',
    '  addresses:',
    ...ranges.map((r) => `  - ${r}`),
    '',
  ].join('\n');
}

/** The pools' prefixes a lab node accepts locally on lo, as kube-proxy would: the kernel never answers ARP or NDP for them. */
export const labLocalPrefixes: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] } = {
  ipv4: ['192.0.2.96/28', '192.0.2.112/28', '198.51.100.0/28'],
  ipv6: ['2001:db8::100/120', '2001:db8:100::/124'],
};

/**
 * Configures lab node `i` inside its namespace, whose eth0 is already on the switch, the same
 * way for `vipcast lab` and the tests' labs: IPv6 addresses kept across unplugging (as a
 * configured host keeps them), 192.0.2.i/24 and 2001:db8::i/64 on eth0, ARP answered by the
 * kernel for eth0's own address only (the speaker answers for the VIPs), and `local`
 * accepted on lo. `run` runs a command in the node's namespace.
 */
export async function configureLabNode(run: (argv: string[]) => Promise<unknown>, i: number, local = labLocalPrefixes): Promise<{ ipv4: string; ipv6: string }> {
  const address = { ipv4: `192.0.2.${i}`, ipv6: `2001:db8::${i}` };
  await run(['sysctl', '-qw', 'net.ipv6.conf.all.keep_addr_on_down=1', 'net.ipv6.conf.default.keep_addr_on_down=1']);
  await run(['ip', 'addr', 'add', `${address.ipv4}/24`, 'dev', 'eth0']);
  await run(['ip', 'addr', 'add', `${address.ipv6}/64`, 'dev', 'eth0', 'nodad']);
  await run(['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2']);
  for (const prefix of local.ipv4) await run(['ip', 'route', 'add', 'local', prefix, 'dev', 'lo']);
  for (const prefix of local.ipv6) await run(['ip', '-6', 'route', 'add', 'local', prefix, 'dev', 'lo']);
  return address;
}

/** What to build. */
export interface LabTopologyOptions {
  /** Every namespace name starts with `<prefix>-`. */
  readonly prefix: string;
  /** Number of node namespaces (1-9). */
  readonly nodes: number;
  readonly mode: LabMode;
  /** Called with each namespace as soon as it exists, so a failed build can be undone. */
  readonly onNamespace?: (ns: string) => void;
}

/** Paths of the programs the lab runs. */
export function labPrograms(root: string = repositoryRoot()): { vipcast: string; forwarder: string; echo: string; probe: string; bridge: string } {
  return {
    vipcast: join(root, 'bin', 'vipcast.js'),
    forwarder: labProgram('loopback-forward', root),
    echo: labProgram('echo-server', root),
    probe: labProgram('tcp-probe', root),
    bridge: labProgram('api-bridge-daemon', root),
  };
}

/** The lab's namespaces and links; programs run through a LabLauncher. */
export class LabTopology {
  private constructor(
    readonly switchNs: string,
    readonly clientNs: string,
    readonly controllerNs: string,
    readonly routerNs: string | undefined,
    readonly nodes: LabNodeState[],
  ) {}

  /** Builds every namespace, link, address and route. */
  static async build(options: LabTopologyOptions): Promise<LabTopology> {
    const ns = (name: string): string => `${options.prefix}-${name}`;
    const addHost = async (name: string): Promise<string> => {
      const host = ns(name);
      // Recorded before it exists, so an interrupted `ip netns add` cannot leave one unrecorded;
      // a name that exists already is another's and is never recorded.
      if ((await existingNamespaces([host])).length > 0) throw new Error(`namespace ${host} exists already`);
      options.onNamespace?.(host);
      await addNamespace(host);
      return host;
    };
    const link = async (a: string, aName: string, b: string, bName: string): Promise<string> => (await linkNamespaces(a, aName, b, bName, switchNs)).a;
    const address = (host: string, dev: string, v4: string, v6: string): Promise<unknown> =>
      Promise.all([inNs(host, ['ip', 'addr', 'add', v4, 'dev', dev]), inNs(host, ['ip', 'addr', 'add', v6, 'dev', dev, 'nodad'])]);

    const switchNs = await addHost('sw');
    await addBridge(switchNs);

    let routerNs: string | undefined;
    const client = clientAddresses(options.mode);
    if (options.mode === 'bgp') {
      routerNs = await addHost('r');
      await link(routerNs, 'eth0', switchNs, 'p-r');
      await address(routerNs, 'eth0', `${labRouter.ipv4}/24`, `${labRouter.ipv6}/64`);
      // ECMP by flow (addresses and ports), so the client's connections spread over the nodes;
      // no redirects, so the client keeps using the router.
      await inNs(routerNs, [
        'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1',
        'net.ipv4.fib_multipath_hash_policy=1', 'net.ipv6.fib_multipath_hash_policy=1',
        'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.eth0.send_redirects=0',
      ]);
    }
    const clientNs = await addHost('client');
    if (routerNs === undefined) {
      await link(clientNs, 'eth0', switchNs, 'p-client');
      await address(clientNs, 'eth0', `${client.ipv4}/24`, `${client.ipv6}/64`);
    } else {
      await link(clientNs, 'eth0', routerNs, 'eth1');
      await address(clientNs, 'eth0', `${client.ipv4}/24`, `${client.ipv6}/64`);
      await address(routerNs, 'eth1', '203.0.113.254/24', '2001:db8:9::254/64');
      await inNs(clientNs, ['ip', 'route', 'add', 'default', 'via', '203.0.113.254']);
      await inNs(clientNs, ['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:9::254']);
    }
    const controllerNs = await addHost('ctl');

    const nodes: LabNodeState[] = [];
    for (let i = 1; i <= options.nodes; i++) {
      const host = await addHost(`n${i}`);
      const mac = await link(host, 'eth0', switchNs, `p-n${i}`);
      const { ipv4, ipv6 } = await configureLabNode((argv) => inNs(host, argv), i);
      const node: LabNodeState = { name: `node-${i}`, ns: host, mac, ipv4, ipv6 };
      if (routerNs !== undefined) await routeToClient(host);
      nodes.push(node);
    }
    return new LabTopology(switchNs, clientNs, controllerNs, routerNs, nodes);
  }

  /** Starts each node's echo server and, in nodes and the controller's namespace, a forwarder to the API bridge socket. */
  async startSupport(launcher: LabLauncher, bridgeSocket: string): Promise<void> {
    const programs = labPrograms();
    await Promise.all([
      ...this.nodes.map((node) => launcher.start({ role: `echo ${node.name}`, ns: node.ns, argv: [process.execPath, programs.echo, node.name], marker: programs.echo, ready: /^listening/ })),
      ...[...this.nodes.map((n) => [n.name, n.ns] as const), ['controller', this.controllerNs] as const].map(([name, ns]) =>
        launcher.start({ role: `forwarder ${name}`, ns, argv: [process.execPath, programs.forwarder, String(namespaceApiPort), bridgeSocket], marker: programs.forwarder, ready: /^forwarding/ }),
      ),
    ]);
  }

  /** Starts `vipcast controller` in its namespace; resolves once it leads. */
  startController(launcher: LabLauncher, kubeconfig: string): Promise<LabProcessRecord> {
    return launcher.start(controllerLaunch(this.controllerNs, kubeconfig));
  }

  /** Starts `vipcast speaker` as a node, with default timings; resolves once it has started. */
  startSpeaker(launcher: LabLauncher, node: LabNodeState, kubeconfig: string): Promise<LabProcessRecord> {
    return launcher.start(speakerLaunch(node, kubeconfig));
  }
}

/** In BGP mode, the node's route back to the client's network, through the router. */
async function routeToClient(ns: string): Promise<void> {
  await inNs(ns, ['ip', 'route', 'replace', '203.0.113.0/24', 'via', labRouter.ipv4]);
  await inNs(ns, ['ip', '-6', 'route', 'replace', '2001:db8:9::/64', 'via', labRouter.ipv6]);
}

/** Plugs a node back in: link up, and (BGP mode) the route the kernel dropped when the link went down. */
export async function plugIn(node: LabNodeState, mode: LabMode): Promise<void> {
  await inNs(node.ns, ['ip', 'link', 'set', 'eth0', 'up']);
  if (mode === 'bgp') await routeToClient(node.ns);
}

/** How the controller is started (also to start it again, as the kubelet would). */
export function controllerLaunch(ns: string, kubeconfig: string): { role: string; ns: string; argv: string[]; marker: string; ready: RegExp } {
  const { vipcast } = labPrograms();
  return {
    role: 'controller',
    ns,
    argv: [process.execPath, vipcast, 'controller', '--kubeconfig', kubeconfig, '--metrics-address', '127.0.0.1:7472', '--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '500ms'],
    marker: vipcast,
    ready: /became leader/,
  };
}

/** How a node's speaker is started (also to start it again). */
export function speakerLaunch(node: LabNodeState, kubeconfig: string): { role: string; ns: string; argv: string[]; marker: string; ready: RegExp } {
  const { vipcast } = labPrograms();
  return {
    role: `speaker ${node.name}`,
    ns: node.ns,
    argv: [process.execPath, vipcast, 'speaker', '--node', node.name, '--kubeconfig', kubeconfig, '--interface', 'eth0', '--metrics-address', '127.0.0.1:7473', '--peer-address', node.ipv4],
    marker: vipcast,
    ready: /"speaker started"/,
  };
}

/** Those of `names` that exist as network namespaces now. */
export async function existingNamespaces(names: readonly string[]): Promise<string[]> {
  const existing = new Set((await runHostCommand(['ip', 'netns', 'list'], true)).stdout.split('\n').map((line) => line.split(' ')[0] ?? ''));
  return names.filter((ns) => existing.has(ns));
}

/** Deletes namespaces that exist among `names` (deleting one also deletes its veth ends). */
export async function removeNamespaces(names: readonly string[]): Promise<string[]> {
  const existing = new Set(await existingNamespaces(names));
  const removed: string[] = [];
  for (const ns of [...names].reverse()) {
    if (!existing.has(ns)) continue;
    await runHostCommand(['ip', 'netns', 'del', ns], true);
    removed.push(ns);
  }
  return removed;
}
