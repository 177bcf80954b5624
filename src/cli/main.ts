// The `vipcast` command: dispatches to one subcommand per job. Each command's module is
// loaded only when it runs, so the speaker and the controller never load the lab, and no
// program loads another's code. The lab is the testbed in lab/, outside src/: the image does
// not carry it, so there `vipcast lab` says where to run it instead.
import { VERSION } from '../version.js';

/** A subcommand: takes its arguments, returns the process exit code. */
export type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { run: Command; summary: string }> = {
  announce: { run: async (a) => (await import('./announce.js')).announceCommand(a), summary: 'announce and answer for VIPs on one interface (ARP/NDP) until stopped' },
  bgp: { run: bgpCommand, summary: 'bgp announce: hold one BGP session and announce prefixes until stopped' },
  'check-config': { run: async (a) => (await import('./check-config.js')).checkConfigCommand(a), summary: 'validate an address-pool config file offline' },
  'control-plane': { run: async (a) => (await import('./control-plane.js')).controlPlaneCommand(a), summary: 'hold the control-plane VIP while this node leads (kubeadm static Pod)' },
  controller: { run: async (a) => (await import('./controller.js')).controllerCommand(a), summary: 'allocate IPs to LoadBalancer Services (the Deployment)' },
  lab: { run: labCommand, summary: 'lab up|demo|down: a whole vipcast on this Linux machine, no cluster, and a failover demo' },
  manifest: { run: async (a) => (await import('./manifest.js')).manifestCommand(a), summary: 'manifest control-plane: print the static Pod for /etc/kubernetes/manifests/' },
  speaker: { run: async (a) => (await import('./speaker.js')).speakerCommand(a), summary: 'announce LoadBalancer IPs from this node (the DaemonSet)' },
  status: { run: async (a) => (await import('./status.js')).statusCommand(a), summary: 'show each LoadBalancer IP, its pool and mode, and who announces it' },
  version: { run: () => Promise.resolve(printVersion()), summary: 'print the version' },
};

/** `vipcast lab`, from the testbed in lab/ when this installation has it (a source checkout does; the image does not). */
async function labCommand(args: string[]): Promise<number> {
  let lab: { labCommand: Command };
  try {
    lab = await import('../../lab/command.js');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !String((err as Error).message).includes('/lab/command.js')) throw err;
    console.error('vipcast: "vipcast lab" runs from a source checkout (npm start there); this installation does not carry the lab');
    return 2;
  }
  return lab.labCommand(args);
}

/** `vipcast bgp <subcommand>`: only `announce` so far. */
function bgpCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'announce') return import('./bgp-announce.js').then((m) => m.bgpAnnounceCommand(rest));
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
