import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, isOurs, labDir, processStartTicks, readState, stateFile, writeState, type LabProcessRecord, type LabState } from '../../../lab/lab-state.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vipcast-lab-state-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A PID above the kernel's largest possible pid_max (2^22), so no process can have it. */
const deadPid = 4_194_305;

function sampleState(stateDir: string): LabState {
  return {
    version: 1,
    id: 'ab12',
    createdAt: '2026-05-01T12:00:00.000Z',
    mode: 'bgp',
    family: 'dual',
    dir: stateDir,
    apiUrl: 'https://127.0.0.1:40123',
    adminKubeconfig: join(stateDir, 'admin.kubeconfig'),
    namespaces: ['vlabab12-sw', 'vlabab12-r', 'vlabab12-client', 'vlabab12-ctl', 'vlabab12-n1'],
    switchNs: 'vlabab12-sw',
    clientNs: 'vlabab12-client',
    controllerNs: 'vlabab12-ctl',
    routerNs: 'vlabab12-r',
    birdSocket: join(stateDir, 'bird.ctl'),
    nodes: [{ name: 'node-1', ns: 'vlabab12-n1', mac: '02:00:00:00:00:01', ipv4: '192.0.2.1', ipv6: '2001:db8::1' }],
    poolConfig: 'address-pools: []\n',
    files: [join(stateDir, 'admin.kubeconfig')],
    processes: [{ role: 'bird', pid: 4242, startTicks: 123456, marker: '/x/bird.conf', ns: 'vlabab12-r', log: join(stateDir, 'logs', 'bird.log'), argv: ['bird', '-f'] }],
    complete: true,
  };
}

/** The first argument of this process's command line: always part of it. */
function ownMarker(): string {
  const argv0 = readFileSync(`/proc/${process.pid}/cmdline`, 'utf8').split('\0')[0];
  if (argv0 === undefined || argv0 === '') throw new Error('cannot read this process\'s command line');
  return argv0;
}

describe('labDir', () => {
  it('uses VIPCAST_LAB_DIR when set, else /run/vipcast-lab', () => {
    expect(labDir({ VIPCAST_LAB_DIR: '/tmp/my-lab' })).toBe('/tmp/my-lab');
    expect(labDir({ VIPCAST_LAB_DIR: '' })).toBe('/run/vipcast-lab');
    expect(labDir({})).toBe('/run/vipcast-lab');
  });
});

describe('the state file', () => {
  it('round-trips through writeState and readState', () => {
    const state = sampleState(dir);
    writeState(dir, state);
    expect(readState(dir)).toEqual(state);
    expect(stateFile(dir)).toBe(join(dir, 'state.json'));
    // Written atomically: no temporary file is left behind, and only the owner may read it.
    expect(readdirSync(dir)).toEqual(['state.json']);
    expect(statSync(stateFile(dir)).mode & 0o777).toBe(0o600);
  });

  it('creates the directory, private to its owner', () => {
    const nested = join(dir, 'a', 'lab');
    writeState(nested, sampleState(nested));
    expect(statSync(nested).mode & 0o777).toBe(0o700);
    expect(readState(nested)?.id).toBe('ab12');
  });

  it('replaces an older state', () => {
    writeState(dir, sampleState(dir));
    writeState(dir, { ...sampleState(dir), complete: false, processes: [] });
    expect(readState(dir)).toMatchObject({ complete: false, processes: [] });
  });

  it('reads as undefined when there is none', () => {
    expect(readState(dir)).toBeUndefined();
  });

  it('refuses a state written by another version, naming the directory to remove', () => {
    writeFileSync(stateFile(dir), JSON.stringify({ ...sampleState(dir), version: 2 }));
    expect(() => readState(dir)).toThrow(`written by another vipcast version: stop the processes and delete the namespaces it lists (ip netns list | grep vlab), then remove ${dir}`);
  });

  it('says what to do by hand with a state file it cannot parse', () => {
    writeFileSync(stateFile(dir), '{ not json');
    expect(() => readState(dir)).toThrow(/state\.json cannot be read \(.*\): stop the processes and delete the namespaces it lists/);
  });
});

describe('processStartTicks', () => {
  it('gives this process a start time in clock ticks', () => {
    const ticks = processStartTicks(process.pid);
    expect(typeof ticks).toBe('number');
    expect(Number.isInteger(ticks)).toBe(true);
    expect(ticks).toBeGreaterThan(0);
    // The start time does not change while the process lives.
    expect(processStartTicks(process.pid)).toBe(ticks);
  });

  it('is undefined for a PID that does not exist', () => {
    expect(processStartTicks(deadPid)).toBeUndefined();
  });
});

describe('isOurs', () => {
  const record = (overrides: Partial<LabProcessRecord>): LabProcessRecord => ({
    role: 'test',
    pid: process.pid,
    startTicks: processStartTicks(process.pid) ?? -1,
    marker: ownMarker(),
    log: '/dev/null',
    argv: [],
    ...overrides,
  });

  it('recognises this process by its start time and command line', () => {
    expect(isOurs(record({}))).toBe(true);
  });

  it('rejects a record whose start time is another (a reused PID)', () => {
    expect(isOurs(record({ startTicks: (processStartTicks(process.pid) ?? 0) + 1 }))).toBe(false);
  });

  it('rejects a record whose command is another', () => {
    expect(isOurs(record({ marker: '/no/such/program-vipcast-lab-test' }))).toBe(false);
  });

  it('rejects a process that is gone', () => {
    expect(isOurs(record({ pid: deadPid }))).toBe(false);
  });
});

describe('acquireLock', () => {
  const lockFile = (): string => join(dir, 'lock');

  it('is held once: a second acquire names the holder, and release frees it', () => {
    const first = acquireLock(dir);
    if (!('release' in first)) throw new Error(`expected the lock, got ${JSON.stringify(first)}`);
    expect(readFileSync(lockFile(), 'utf8')).toBe(`${process.pid} ${processStartTicks(process.pid)}\n`);
    expect(acquireLock(dir)).toEqual({ heldBy: process.pid });
    first.release();
    expect(existsSync(lockFile())).toBe(false);
    const again = acquireLock(dir);
    expect('release' in again).toBe(true);
    if ('release' in again) again.release();
  });

  it('takes over a lock left by a process that died', () => {
    writeFileSync(lockFile(), `${deadPid} 12345\n`);
    const lock = acquireLock(dir);
    if (!('release' in lock)) throw new Error(`expected to take over the stale lock, got ${JSON.stringify(lock)}`);
    expect(readFileSync(lockFile(), 'utf8')).toBe(`${process.pid} ${processStartTicks(process.pid)}\n`);
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
  });

  it('takes over a lock whose PID was reused by another process', () => {
    writeFileSync(lockFile(), `${process.pid} ${(processStartTicks(process.pid) ?? 0) + 1}\n`);
    const lock = acquireLock(dir);
    expect('release' in lock).toBe(true);
    if ('release' in lock) lock.release();
  });

  it('takes over an empty lock file (a command that died while writing it)', () => {
    writeFileSync(lockFile(), '');
    const lock = acquireLock(dir);
    expect('release' in lock).toBe(true);
    if ('release' in lock) lock.release();
  });

  it('creates its directory', () => {
    const nested = join(dir, 'new');
    const lock = acquireLock(nested);
    expect(existsSync(join(nested, 'lock'))).toBe(true);
    if ('release' in lock) lock.release();
    expect(existsSync(join(nested, 'lock'))).toBe(false);
  });
});
