// Test topologies made of Linux network namespaces: hosts, a switch (a bridge), veth
// links, processes started inside hosts, and packet captures. Everything it makes carries
// a unique prefix with the creating process's PID, and destroy() removes exactly that: the
// processes it started (by PID) and the namespaces it created.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A network namespace standing for one host. */
export interface Host {
  /** Short name given by the test, e.g. "client". */
  readonly name: string;
  /** The namespace's full name (prefixed). */
  readonly ns: string;
}

/** The outcome of a command that ran to completion. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A process started in a host, with its output collected line by line. */
export interface HostProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Lines written to stdout so far. */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Resolves with the first stdout line matching, or rejects after the timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/** A running tcpdump; stop() ends it and returns the pcap's path. */
export interface Capture {
  readonly file: string;
  stop(): Promise<string>;
}

const prefixPattern = /^vc([0-9a-z]+)x[0-9a-z]{4}-/;

/** A condition polled by waitUntil did not hold in time; `last` is the last value seen. */
export class WaitTimeoutError<T> extends Error {
  constructor(
    readonly last: T,
    timeoutMs: number,
  ) {
    super(`condition not met within ${timeoutMs} ms; last value: ${describeValue(last)}`);
    this.name = 'WaitTimeoutError';
  }
}

function describeValue(value: unknown): string {
  let text: string;
  try {
    text = value instanceof Map ? JSON.stringify([...value.keys()]) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 500 ? `${text.slice(0, 500)}...` : text;
}

/**
 * Polls a condition until it holds and returns the value that satisfied it; throws
 * WaitTimeoutError when the deadline passes first, so a caller cannot pass by ignoring a
 * timeout.
 */
export async function waitUntil<T>(probe: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs: number, intervalMs = 20): Promise<T> {
  const { met, value } = await pollUntil(probe, ok, timeoutMs, intervalMs);
  if (!met) throw new WaitTimeoutError(value, timeoutMs);
  return value;
}

/** pollUntil's last value, for a caller that checks it and throws its own, more telling error. */
export async function pollValue<T>(probe: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs: number, intervalMs = 20): Promise<T> {
  return (await pollUntil(probe, ok, timeoutMs, intervalMs)).value;
}

/** Polls like waitUntil but never throws: says whether the condition held, with the last value, for callers that build their own error. */
export async function pollUntil<T>(probe: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs: number, intervalMs = 20): Promise<{ met: boolean; value: T }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return { met: true, value };
    if (performance.now() > deadline) return { met: false, value };
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Runs a command on the host (root namespace) and returns its output; throws on failure. */
export async function runHostCommand(argv: readonly string[], allowFailure = false): Promise<RunResult> {
  const [file, ...args] = argv;
  try {
    const { stdout, stderr } = await exec(file ?? 'false', args, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    const result = { code: typeof e.code === 'number' ? e.code : 127, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
    if (allowFailure) return result;
    throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`, { cause: error });
  }
}

/** Why this machine cannot run namespace tests (not root, no ip command), or undefined. */
export async function namespaceSupportProblem(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network-namespace tests need root (CAP_NET_ADMIN and CAP_NET_RAW)';
  const ip = await runHostCommand(['ip', '-V'], true);
  if (ip.code !== 0) return 'the ip command (Debian package iproute2) is missing; run npm run setup';
  return undefined;
}

/** Deletes namespaces left behind by earlier test processes of ours that have died. */
export async function removeStaleNamespaces(): Promise<string[]> {
  const { stdout } = await runHostCommand(['ip', 'netns', 'list'], true);
  const removed: string[] = [];
  for (const line of stdout.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const owner = prefixPattern.exec(ns)?.[1];
    if (owner === undefined) continue;
    const pid = parseInt(owner, 36);
    if (pid === process.pid || processAlive(pid)) continue;
    await runHostCommand(['ip', 'netns', 'del', ns], true);
    removed.push(ns);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command inside a namespace to completion; throws on a non-zero exit unless allowed. */
export function inNs(ns: string, argv: readonly string[], allowFailure = false): Promise<RunResult> {
  return runHostCommand(['ip', 'netns', 'exec', ns, ...argv], allowFailure);
}

/**
 * Creates a namespace with loopback up and IPv6 duplicate-address detection off. `created` is
 * called as soon as the namespace exists (not when the name was taken already), so a caller can
 * record it for removal before the rest of the set-up can fail.
 */
export async function addNamespace(ns: string, created?: () => void): Promise<void> {
  await runHostCommand(['ip', 'netns', 'add', ns]);
  created?.();
  await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  await inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
}

/** Makes a namespace a switch: a bridge br0 that forwards at once and floods all multicast. */
export async function addBridge(ns: string): Promise<void> {
  await inNs(ns, ['ip', 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0', 'mcast_snooping', '0']);
  await inNs(ns, ['ip', 'link', 'set', 'br0', 'up']);
}

/**
 * Joins two namespaces with a veth pair named aName in a and bName in b, both up. An end in
 * `bridgeNs` is put into its br0. Resolves with the MAC of each end.
 */
export async function linkNamespaces(a: string, aName: string, b: string, bName: string, bridgeNs?: string): Promise<{ a: string; b: string }> {
  await runHostCommand(['ip', 'link', 'add', aName, 'netns', a, 'type', 'veth', 'peer', 'name', bName, 'netns', b]);
  for (const [ns, name] of [[a, aName], [b, bName]] as const) {
    if (ns === bridgeNs) await inNs(ns, ['ip', 'link', 'set', name, 'master', 'br0']);
    await inNs(ns, ['ip', 'link', 'set', name, 'up']);
  }
  return { a: await macOf(a, aName), b: await macOf(b, bName) };
}

async function macOf(ns: string, name: string): Promise<string> {
  return (await inNs(ns, ['cat', `/sys/class/net/${name}/address`])).stdout.trim();
}

/** A set of hosts and links; create with Topology.create, always finish with destroy(). */
export class Topology {
  private readonly hosts: Host[] = [];
  private readonly processes: HostProcess[] = [];
  readonly dir: string;

  private constructor(readonly prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  /** Starts an empty topology (after clearing namespaces of dead earlier runs). */
  static async create(): Promise<Topology> {
    const problem = await namespaceSupportProblem();
    if (problem) throw new Error(problem);
    await removeStaleNamespaces();
    const random = Math.random().toString(36).slice(2, 6).padEnd(4, '0');
    return new Topology(`vc${process.pid.toString(36)}x${random}`);
  }

  /** Adds a host: a namespace with loopback up and IPv6 duplicate-address detection off. */
  async addHost(name: string): Promise<Host> {
    const host: Host = { name, ns: `${this.prefix}-${name}` };
    await addNamespace(host.ns, () => this.hosts.push(host));
    return host;
  }

  /** Adds a switch: a host whose bridge br0 joins every link connected to it. */
  async addSwitch(name: string): Promise<Host> {
    const host = await this.addHost(name);
    await addBridge(host.ns);
    return host;
  }

  /**
   * Joins two hosts with a veth pair named aName in a and bName in b, both up. A switch's
   * end is put into its bridge. Returns the MAC of each end.
   */
  link(a: Host, aName: string, b: Host, bName: string, switchHost?: Host): Promise<{ a: string; b: string }> {
    return linkNamespaces(a.ns, aName, b.ns, bName, switchHost?.ns);
  }

  /** The hardware address of an interface in a host. */
  macOf(host: Host, name: string): Promise<string> {
    return macOf(host.ns, name);
  }

  /** Runs a command inside a host to completion; throws on a non-zero exit unless allowed. */
  run(host: Host, argv: readonly string[], allowFailure = false): Promise<RunResult> {
    return inNs(host.ns, argv, allowFailure);
  }

  /** Starts a long-running process inside a host; destroy() ends it if the test does not. */
  start(host: Host, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): HostProcess {
    const child = spawn('ip', ['netns', 'exec', host.ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
    if (child.pid === undefined) throw new Error(`could not start ${argv.join(' ')}`);
    const lines: string[] = [];
    const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    let partial = '';
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        for (const w of [...waiters]) {
          if (!w.pattern.test(line)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (errors += chunk));
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    const handle: HostProcess = {
      pid: child.pid,
      child,
      lines,
      stderr: () => errors,
      exited,
      waitForLine: (pattern, timeoutMs) => {
        const seen = lines.find((line) => pattern.test(line));
        if (seen !== undefined) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms from ${argv.join(' ')}; stderr: ${errors.slice(-2000)}`)), timeoutMs);
          waiters.push({
            pattern,
            resolve: (line) => {
              clearTimeout(timer);
              resolve(line);
            },
          });
        });
      },
    };
    this.processes.push(handle);
    return handle;
  }

  /** Captures on an interface of a host into a pcap in this topology's directory. */
  async capture(host: Host, interfaceName: string, name = `${host.name}-${interfaceName}`, filter: readonly string[] = []): Promise<Capture> {
    const file = join(this.dir, `${name}.pcap`);
    const tcpdump = this.start(host, ['tcpdump', '-U', '-K', '-n', '-i', interfaceName, '-w', file, ...filter]);
    // tcpdump says "listening on" on stderr once the capture is armed.
    await waitUntil(() => tcpdump.stderr(), (text) => text.includes('listening on'), 5000);
    return {
      file,
      stop: async () => {
        // Packets still in flight need a moment to be written before tcpdump goes.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        tcpdump.child.kill('SIGINT');
        await tcpdump.exited;
        return file;
      },
    };
  }

  /** Ends every process this topology started, deletes its namespaces and its directory. */
  async destroy(): Promise<void> {
    for (const p of this.processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    const deadline = Date.now() + 3000;
    for (const p of this.processes) {
      const left = Math.max(0, deadline - Date.now());
      const done = await Promise.race([p.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), left))]);
      if (!done) p.child.kill('SIGKILL');
    }
    for (const host of this.hosts.reverse()) await runHostCommand(['ip', 'netns', 'del', host.ns], true);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
