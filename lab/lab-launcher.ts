// Starts the lab's long-running programs as detached processes (their own session, output to
// a log file, not children anyone waits for), so they outlive the `vipcast lab up` that
// started them. Readiness is a line appearing in the log file.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStartTicks, type LabProcessRecord } from './lab-state.js';

/** What to start. */
export interface LaunchSpec {
  /** What it is, e.g. `speaker node-2`; also names the log file. */
  readonly role: string;
  /** Network namespace to run in; the host's when omitted. */
  readonly ns?: string;
  /** Program and arguments. */
  readonly argv: readonly string[];
  /** A string its command line contains; the program when omitted. */
  readonly marker?: string;
  /** Resolve only once a log line matches this. */
  readonly ready?: RegExp;
  /** How long to wait for `ready`; 30 s when omitted. */
  readonly readyTimeoutMs?: number;
}

/** Starts programs for the lab and reports each one it started. */
export interface LabLauncher {
  /** Starts a program; resolves with its record once it is ready. */
  start(spec: LaunchSpec): Promise<LabProcessRecord>;
}

/** Starts detached processes logging to `logDir`, and tells `onStart` about each at once. */
export class DetachedLauncher implements LabLauncher {
  constructor(
    private readonly logDir: string,
    private readonly cwd: string,
    private readonly onStart: (record: LabProcessRecord) => void,
  ) {}

  async start(spec: LaunchSpec): Promise<LabProcessRecord> {
    mkdirSync(this.logDir, { recursive: true });
    const log = join(this.logDir, `${spec.role.replace(/[^a-z0-9.-]+/gi, '-')}.log`);
    const fd = openSync(log, 'a');
    // A restarted program appends to its old log; only what it writes now counts as ready.
    const offset = fstatSync(fd).size;
    const [file, ...args] = spec.ns === undefined ? spec.argv : ['ip', 'netns', 'exec', spec.ns, ...spec.argv];
    let pid: number | undefined;
    try {
      const child = spawn(file ?? 'false', args, { cwd: this.cwd, detached: true, stdio: ['ignore', fd, fd] });
      child.on('error', () => undefined);
      pid = child.pid;
      child.unref();
    } finally {
      closeSync(fd);
    }
    const startTicks = pid === undefined ? undefined : processStartTicks(pid);
    if (pid === undefined || startTicks === undefined) throw new Error(`could not start ${spec.role} (${spec.argv.join(' ')}): ${tail(log)}`);
    const record: LabProcessRecord = { role: spec.role, pid, startTicks, marker: spec.marker ?? spec.argv[0] ?? '', log, argv: [...spec.argv], ...(spec.ns === undefined ? {} : { ns: spec.ns }) };
    this.onStart(record);
    if (spec.ready !== undefined) await waitForLogLine(record, spec.ready, spec.readyTimeoutMs ?? 30_000, offset);
    return record;
  }
}

/** Resolves once a line of the process's log matches; rejects if it exits first or time runs out. */
async function waitForLogLine(record: LabProcessRecord, pattern: RegExp, timeoutMs: number, fromOffset = 0): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = readLog(record.log, fromOffset).split('\n').find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (processStartTicks(record.pid) !== record.startTicks) throw new Error(`${record.role} exited before it was ready; its log (${record.log}) ends:\n${tail(record.log)}`);
    if (Date.now() > deadline) throw new Error(`${record.role} was not ready within ${timeoutMs / 1000} s; its log (${record.log}) ends:\n${tail(record.log)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readLog(file: string, fromOffset = 0): string {
  try {
    return readFileSync(file).subarray(fromOffset).toString('utf8');
  } catch {
    return '';
  }
}

/** The last lines of a log file. */
export function tail(file: string, lines = 15): string {
  return readLog(file).trimEnd().split('\n').slice(-lines).join('\n');
}
