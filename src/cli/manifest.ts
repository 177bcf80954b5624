// `vipcast manifest control-plane --vip VIP ...`: prints the static Pod for
// /etc/kubernetes/manifests/ on a kubeadm control-plane node (docs/control-plane.md).
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { controlPlaneManifest, defaultImage } from '../control-plane/manifest.js';
import { listAddresses, routeTo, interfaceName, RTN_LOCAL } from '../net/netlink.js';
import { parseVip } from '../../speakers/layer2/vip.js';

const help = `usage: vipcast manifest control-plane --vip VIP [options] > /etc/kubernetes/manifests/vipcast.yaml

Prints a static Pod running "vipcast control-plane" on this node. Put it in place on every
control-plane node before "kubeadm init" / "kubeadm join --control-plane", with the same VIP
as --control-plane-endpoint. The same manifest works on the init node and on joined nodes:
during kubeadm init it uses super-admin.conf until admin.conf is granted its rights, then never
again (docs/control-plane.md).

options:
  --vip VIP                  the control-plane VIP (required)
  --interface IF             where the VIP goes (default: the interface of this host's route to the VIP)
  --port N                   the local API server's port (6443)
  --mode layer2|bgp          how to announce (layer2); bgp needs --bgp-peer, --bgp-peer-asn,
                             --bgp-my-asn and --bgp-source (or --bgp-next-hop / --bgp-router-id)
  --image IMAGE              (${defaultImage})
  --kubeconfig PATH          host path of the kubeconfig (/etc/kubernetes/admin.conf)
  --super-admin PATH         host path of kubeadm's super-admin.conf (/etc/kubernetes/super-admin.conf)
  --no-super-admin           leave super-admin.conf out (nodes that never run kubeadm init)
  --lease-duration D, --renew-deadline D, --retry-period D, --on-cordon hand-over|stay
                             passed to the agent`;

/** `vipcast manifest <kind>`: only `control-plane`. */
export function manifestCommand(args: string[]): Promise<number> {
  const [kind, ...rest] = args;
  if (kind === 'control-plane') return controlPlaneManifestCommand(rest);
  if (kind === '--help' || kind === '-h') {
    console.log(help);
    return Promise.resolve(0);
  }
  console.error(`usage: vipcast manifest control-plane --vip VIP [options]   (see "vipcast manifest control-plane --help")`);
  return Promise.resolve(2);
}

const passThrough = ['lease-duration', 'renew-deadline', 'retry-period', 'on-cordon', 'bgp-peer', 'bgp-peer-asn', 'bgp-my-asn', 'bgp-router-id', 'bgp-source', 'bgp-next-hop'] as const;

function controlPlaneManifestCommand(args: string[]): Promise<number> {
  return Promise.resolve(controlPlaneManifestSync(args));
}

function controlPlaneManifestSync(args: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        vip: { type: 'string' },
        interface: { type: 'string' },
        port: { type: 'string', default: '6443' },
        mode: { type: 'string', default: 'layer2' },
        image: { type: 'string', default: defaultImage },
        kubeconfig: { type: 'string', default: '/etc/kubernetes/admin.conf' },
        'super-admin': { type: 'string', default: '/etc/kubernetes/super-admin.conf' },
        'no-super-admin': { type: 'boolean' },
        ...Object.fromEntries(passThrough.map((name) => [name, { type: 'string' as const }])),
      },
    }));
  } catch (error) {
    console.error(`vipcast manifest control-plane: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  const problems: string[] = [];
  let vip = '';
  try {
    vip = parseVip(values.vip ?? '').address;
  } catch (error) {
    problems.push(values.vip === undefined ? '--vip is required' : `--vip: ${(error as Error).message}`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`--port must be a TCP port, not ${values.port}`);
  if (values.mode !== 'layer2' && values.mode !== 'bgp') problems.push('--mode must be layer2 or bgp');
  const given = values as Record<string, unknown>;
  if (given['on-cordon'] !== undefined && given['on-cordon'] !== 'hand-over' && given['on-cordon'] !== 'stay') problems.push('--on-cordon must be hand-over or stay');
  if (values.mode === 'bgp' && ['bgp-peer', 'bgp-peer-asn', 'bgp-my-asn'].some((name) => given[name] === undefined)) {
    problems.push('--mode bgp needs --bgp-peer, --bgp-peer-asn and --bgp-my-asn');
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`vipcast manifest control-plane: ${p}`);
    return 2;
  }
  let iface = values.interface;
  if (iface === undefined) {
    try {
      iface = interfaceFor(vip);
    } catch (error) {
      console.error(`vipcast manifest control-plane: ${(error as Error).message}`);
      return 1;
    }
  }
  const extraArgs = [`--mode=${values.mode}`];
  for (const name of passThrough) {
    const value = given[name];
    if (typeof value === 'string') extraArgs.push(`--${name}=${value}`);
  }
  const manifest = controlPlaneManifest({
    vip,
    interfaceName: iface,
    port,
    image: values.image,
    kubeconfig: values.kubeconfig,
    bootstrapKubeconfig: values['no-super-admin'] ? undefined : values['super-admin'],
    extraArgs,
  });
  process.stdout.write(`# vipcast control-plane VIP ${vip} on ${iface}: static Pod for /etc/kubernetes/manifests/\n${stringify(manifest)}`);
  return 0;
}

/** The interface of this host's route to the VIP; when the VIP is already local, the interface holding it. */
export function interfaceFor(vip: string): string {
  const route = routeTo(vip);
  if (route.type === RTN_LOCAL) {
    const held = listAddresses().find((a) => a.address === vip);
    const name = held === undefined ? undefined : interfaceName(held.index);
    if (name !== undefined && name !== 'lo') return name;
  } else if (route.name !== undefined && route.name !== 'lo') {
    return route.name;
  }
  throw new Error(`cannot tell which interface ${vip} belongs on from this host's routes; give --interface`);
}
