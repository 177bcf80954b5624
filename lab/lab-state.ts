// The lab's state directory and state file. `vipcast lab up` records there every process it
// started (PID, kernel start time and command, so a reused PID is never mistaken for ours),
// every namespace it created and every file it wrote; `lab down` removes exactly that.
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Layer-2 (ARP/NDP) or BGP announcements. */
export type LabMode = 'layer2' | 'bgp';
/** Which address families the lab's pool offers. */
export type LabFamily = 'ipv4' | 'ipv6' | 'dual';

/** One process the lab started, identified beyond its PID. */
export interface LabProcessRecord {
  /** What it is, e.g. `speaker node-2`, `kube-apiserver`. */
  readonly role: string;
  /** Its PID. */
  readonly pid: number;
  /** Its start time in clock ticks since boot (/proc/PID/stat field 22); a reused PID has another. */
  readonly startTicks: number;
  /** A string its command line contains (the program path). */
  readonly marker: string;
  /** The namespace it runs in, if not the host's. */
  readonly ns?: string;
  /** Its log file (stdout and stderr). */
  readonly log: string;
  /** The command it runs, to start it again (the demo restarts a speaker). */
  readonly argv: readonly string[];
}

/** One node of a running lab. */
export interface LabNodeState {
  readonly name: string;
  readonly ns: string;
  readonly mac: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

/** Everything `lab up` made. */
export interface LabState {
  readonly version: 1;
  /** Short random id; every namespace name starts with `vlab<id>-`. */
  readonly id: string;
  readonly createdAt: string;
  readonly mode: LabMode;
  readonly family: LabFamily;
  /** Where the lab keeps its files (this file's directory). */
  readonly dir: string;
  /** The API server's URL on the host's loopback (empty until it runs). */
  apiUrl: string;
  /** Admin kubeconfig for kubectl and `vipcast status`. */
  readonly adminKubeconfig: string;
  /** Namespaces, in creation order. */
  readonly namespaces: string[];
  readonly switchNs: string;
  readonly clientNs: string;
  readonly controllerNs: string;
  readonly routerNs?: string;
  /** BIRD's control socket (bgp mode). */
  readonly birdSocket?: string;
  /** The nodes, once their namespaces exist. */
  nodes: LabNodeState[];
  /** The address-pool config in the ConfigMap. */
  readonly poolConfig: string;
  /** Files and directories made in `dir`, removed by `lab down`. */
  readonly files: string[];
  /** Processes, in start order. */
  processes: LabProcessRecord[];
  /** True once every step of `up` finished. */
  complete: boolean;
}

/** The state directory: $VIPCAST_LAB_DIR, else /run/vipcast-lab. */
export function labDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['VIPCAST_LAB_DIR'];
  return configured !== undefined && configured !== '' ? configured : '/run/vipcast-lab';
}

/** Path of the state file in a state directory. */
export function stateFile(dir: string): string {
  return join(dir, 'state.json');
}

/** Reads the state file; undefined when there is none. */
export function readState(dir: string): LabState | undefined {
  const file = stateFile(dir);
  if (!existsSync(file)) return undefined;
  const byHand = `stop the processes and delete the namespaces it lists (ip netns list | grep vlab), then remove ${dir}`;
  let state: LabState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
  } catch (error) {
    throw new Error(`${file} cannot be read (${(error as Error).message}): ${byHand}`, { cause: error });
  }
  if (state.version !== 1) throw new Error(`${file} was written by another vipcast version: ${byHand}`);
  return state;
}

/** Writes the state file atomically (a crash leaves the old or the new one, never half). */
export function writeState(dir: string, state: LabState): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = stateFile(dir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** A process's start time (clock ticks since boot), or undefined when it is gone or a zombie. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold anything.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** True when the recorded process still runs and is the same process (start time and command). */
export function isOurs(record: LabProcessRecord): boolean {
  const ticks = processStartTicks(record.pid);
  return ticks !== undefined && ticks === record.startTicks && commandLine(record.pid).includes(record.marker);
}

/**
 * Ends recorded processes: SIGTERM to each still ours, then SIGKILL to any still there after
 * `graceMs`. Resolves with the roles that had to be killed.
 */
export async function stopProcesses(records: readonly LabProcessRecord[], graceMs = 5000): Promise<string[]> {
  const live = records.filter(isOurs);
  for (const r of live) signal(r.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live.some(isOurs) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const stubborn = live.filter(isOurs);
  for (const r of stubborn) signal(r.pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (stubborn.some(isOurs) && Date.now() < killDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return stubborn.map((r) => r.role);
}

/** Sends a signal, ignoring a process that is already gone. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

/**
 * Takes the lab's lock (one `up`, `demo` or `down` at a time changes a lab). Resolves with a
 * release function, or with the PID of the live command holding it. The lock file appears
 * whole (a hard link to a file written first), so nobody reads it half-written. A lock left
 * by a command that died is taken over; two commands taking over the same dead lock at the
 * same instant could both proceed, which interactive use makes unlikely enough to accept.
 */
export function acquireLock(dir: string): { release: () => void } | { heldBy: number } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'lock');
  const mine = join(dir, `lock.${process.pid}`);
  writeFileSync(mine, `${process.pid} ${processStartTicks(process.pid) ?? 0}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, file);
        return { release: () => rmSync(file, { force: true }) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const [pidText, ticksText] = readFileSync(file, 'utf8').trim().split(' ');
      const pid = Number(pidText);
      if (pid > 0 && processStartTicks(pid) === Number(ticksText)) return { heldBy: pid };
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new Error(`could not take the lock ${file}; if no "vipcast lab" command runs, delete it and try again`);
}
