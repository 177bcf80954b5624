// What `vipcast lab` needs from the machine, checked before anything is made: Linux, root, the
// system programs, the compiled build and native addon, and the kube-apiserver and etcd that
// scripts/build-kube caches. Every problem is reported at once, each with its fix.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { findKubeBinaries, type KubeBinaries } from './kube-binaries.js';
import { labProgram, labProgramInRepository, repositoryRoot } from './paths.js';
import type { LabMode } from './lab-state.js';

/** A system program the lab runs, and the Debian package that has it. */
interface Program {
  readonly command: string;
  readonly pkg: string;
  readonly why: string;
}

const programs: readonly Program[] = [
  { command: 'ip', pkg: 'iproute2', why: 'network namespaces' },
  { command: 'openssl', pkg: 'openssl', why: "the lab API server's certificates" },
  { command: 'tcpdump', pkg: 'tcpdump', why: "the demo's packet capture" },
  { command: 'tshark', pkg: 'tshark', why: "decoding the demo's capture" },
];
const bgpPrograms: readonly Program[] = [
  { command: 'bird', pkg: 'bird2', why: 'the BGP router' },
  { command: 'birdc', pkg: 'bird2', why: "reading the BGP router's routes" },
];

/** The outcome: the problems found (empty when none) and, when found, the kube binaries. */
export interface LabPrerequisites {
  readonly problems: string[];
  readonly binaries?: KubeBinaries;
}

/** Why the lab cannot run on this host at all (not Linux, not root), with the fix; undefined when it can. */
export function hostProblem(platform: NodeJS.Platform = process.platform, uid: number | undefined = process.getuid?.(), action = 'up'): string | undefined {
  if (platform !== 'linux') return `the lab needs Linux (network namespaces); this is ${platform}. Run it on a Linux machine or in a Linux VM, as root.`;
  if (uid !== 0) return `the lab needs root (it creates network namespaces and sends ARP/NDP): run it with sudo, e.g. "sudo node bin/vipcast.js lab ${action}".`;
  return undefined;
}

/** True when a program is on the PATH. */
export function onPath(program: string, path: string = process.env['PATH'] ?? ''): boolean {
  return path.split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** Checks everything `lab up` in this mode needs; problems are sentences ending in their fix. */
export function checkLabPrerequisites(mode: LabMode, platform: NodeJS.Platform = process.platform, uid: number | undefined = process.getuid?.()): LabPrerequisites {
  const host = hostProblem(platform, uid);
  if (host !== undefined) return { problems: [host] };
  const problems: string[] = [];
  const missing = [...programs, ...(mode === 'bgp' ? bgpPrograms : [])].filter((program) => !onPath(program.command));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((p) => p.pkg))].join(' ');
    problems.push(`missing ${missing.map((p) => `${p.command} (${p.why})`).join(', ')}: run "npm run setup", or "sudo apt-get install ${packages}".`);
  }
  const root = repositoryRoot();
  if (!existsSync(labProgram('echo-server', root))) problems.push(`the TypeScript build is missing or old (no ${labProgramInRepository('echo-server')}): run "npm run setup" (or "npm run build").`);
  if (!existsSync(join(root, 'native', 'build', 'Release', 'packet_socket.node'))) problems.push('the packet-socket addon the speaker needs is not built: run "npm run setup".');
  let binaries: KubeBinaries | undefined;
  try {
    binaries = findKubeBinaries();
  } catch (error) {
    problems.push(`${(error as Error).message}; "npm run setup" runs it.`);
  }
  return { problems, ...(binaries === undefined ? {} : { binaries }) };
}
