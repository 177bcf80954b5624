// The lab's BGP router in BGP mode: BIRD 2 in the router namespace, AS 64512, passive toward
// every node (AS 64513) over IPv4 and IPv6 with single-hop BFD at 100 ms x 3, installing what
// it learns into the router's kernel with ECMP, so the client behind it reaches the VIPs.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabLauncher } from './lab-launcher.js';
import type { LabFamily, LabNodeState, LabProcessRecord } from './lab-state.js';
import { labRouter } from './lab-topology.js';
import { runHostCommand } from './netns.js';
import { birdConfig, birdProtocolName } from './routers.js';

/** BIRD's protocol name for a neighbour address. */
export const birdProtocol = birdProtocolName;

/** BIRD's configuration for the lab, from the testbed's one BIRD generator. */
export function labBirdConfig(nodes: readonly LabNodeState[], family: LabFamily): string {
  const addresses = nodes.flatMap((n) => [...(family !== 'ipv6' ? [n.ipv4] : []), ...(family !== 'ipv4' ? [n.ipv6] : [])]);
  return birdConfig({
    routerId: labRouter.ipv4,
    asn: labRouter.asn,
    peers: addresses.map((address) => ({ address, asn: labRouter.nodeAsn, bfd: true })),
    holdTime: 9,
    bfd: { intervalMs: 100, multiplier: 3 },
    kernelEcmp: true,
  });
}

/** Starts BIRD in the router namespace; resolves with its record and control socket once it answers. */
export async function startLabBird(launcher: LabLauncher, routerNs: string, dir: string, nodes: readonly LabNodeState[], family: LabFamily): Promise<{ record: LabProcessRecord; socket: string }> {
  const conf = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  await writeFile(conf, labBirdConfig(nodes, family));
  const record = await launcher.start({ role: 'bird', ns: routerNs, argv: ['bird', '-f', '-c', conf, '-s', socket], marker: conf });
  const deadline = Date.now() + 15_000;
  while (!(await birdc(socket, ['show', 'status'])).includes('Daemon is up')) {
    if (Date.now() > deadline) throw new Error(`BIRD did not come up; see ${record.log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { record, socket };
}

/** Runs birdc against the lab's BIRD and returns its output (empty when BIRD does not answer). */
export async function birdc(socket: string, args: readonly string[]): Promise<string> {
  return (await runHostCommand(['birdc', '-s', socket, ...args], true)).stdout;
}
