// The `vipcast` command: dispatches to one subcommand per job.
import { announceCommand } from './announce.js';
import { bgpAnnounceCommand } from './bgp-announce.js';
import { checkConfigCommand } from './check-config.js';
import { controlPlaneCommand } from './control-plane.js';
import { controllerCommand } from './controller.js';
import { labCommand } from './lab.js';
import { manifestCommand } from './manifest.js';
import { speakerCommand } from './speaker.js';
import { statusCommand } from './status.js';
import { VERSION } from '../version.js';

/** A subcommand: takes its arguments, returns the process exit code. */
export type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { run: Command; summary: string }> = {
  announce: { run: announceCommand, summary: 'announce and answer for VIPs on one interface (ARP/NDP) until stopped' },
  bgp: { run: bgpCommand, summary: 'bgp announce: hold one BGP session and announce prefixes until stopped' },
  'check-config': { run: checkConfigCommand, summary: 'validate an address-pool config file offline' },
  'control-plane': { run: controlPlaneCommand, summary: 'hold the control-plane VIP while this node leads (kubeadm static Pod)' },
  controller: { run: controllerCommand, summary: 'allocate IPs to LoadBalancer Services (the Deployment)' },
  lab: { run: labCommand, summary: 'lab up|demo|down: a whole vipcast on this Linux machine, no cluster, and a failover demo' },
  manifest: { run: manifestCommand, summary: 'manifest control-plane: print the static Pod for /etc/kubernetes/manifests/' },
  speaker: { run: speakerCommand, summary: 'announce LoadBalancer IPs from this node (the DaemonSet)' },
  status: { run: statusCommand, summary: 'show each LoadBalancer IP, its pool and mode, and who announces it' },
  version: { run: () => Promise.resolve(printVersion()), summary: 'print the version' },
};

/** `vipcast bgp <subcommand>`: only `announce` so far. */
function bgpCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'announce') return bgpAnnounceCommand(rest);
  console.error(`usage: vipcast bgp announce [options]   (see "vipcast bgp announce --help")`);
  return Promise.resolve(sub === '--help' || sub === '-h' ? 0 : 2);
}

function printVersion(): number {
  console.log(`vipcast ${VERSION}`);
  return 0;
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: vipcast <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun "vipcast <command> --help" for a command's options.`;
}

/** Runs the command line and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') return printVersion();
  const command = commands[name];
  if (!command) {
    console.error(`vipcast: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}
