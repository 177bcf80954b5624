import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { labCommand } from '../../../lab/command.js';

// Only argument errors and --help are exercised here. Should a bad argument ever slip through,
// these stand-ins make the test fail instead of building a real lab (this machine runs tests as root).
const { mustNotRun } = vi.hoisted(() => ({
  mustNotRun: (what: string) => (): never => {
    throw new Error(`${what} must not run in a unit test: an invalid argument was accepted`);
  },
}));
vi.mock('../../../lab/lab-up.js', () => ({ labUp: mustNotRun('labUp'), nextSteps: mustNotRun('nextSteps') }));
vi.mock('../../../lab/lab-demo.js', () => ({ labDemo: mustNotRun('labDemo') }));
vi.mock('../../../lab/lab-down.js', () => ({ labDown: mustNotRun('labDown'), removeEmptyDir: () => undefined }));

const stateDir = mkdtempSync(join(tmpdir(), 'vipcast-lab-cli-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.stubEnv('VIPCAST_LAB_DIR', stateDir);
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  // Nothing was started, so nothing (not even the lock) was written.
  expect(readdirSync(stateDir)).toEqual([]);
});

describe('vipcast lab: argument errors exit 2 with a message and the usage', () => {
  it.each([
    [['frobnicate'], 'expected one of up, demo, down (got "frobnicate")'],
    [[], 'expected one of up, demo, down (got "")'],
    [['up', 'now'], 'expected one of up, demo, down (got "up now")'],
    [['down', 'demo'], 'expected one of up, demo, down (got "down demo")'],
    [['up', '--nodes', '0'], '--nodes must be 1 to 9 (got "0")'],
    [['up', '--nodes', '10'], '--nodes must be 1 to 9 (got "10")'],
    [['demo', '--nodes', '2.5'], '--nodes must be 1 to 9 (got "2.5")'],
    [['up', '--nodes', 'three'], '--nodes must be 1 to 9 (got "three")'],
    [['up', '--mode', 'foo'], '--mode must be layer2 or bgp (got "foo")'],
    [['up', '--family', 'ipv5'], '--family must be ipv4, ipv6 or dual (got "ipv5")'],
  ])('%j', async (args, message) => {
    expect(await labCommand(args)).toBe(2);
    const text = err.join('\n');
    expect(text).toContain(`vipcast lab: `);
    expect(text).toContain(message);
    expect(text).toContain('usage: vipcast lab up');
    expect(out).toEqual([]);
  });

  it('reports every problem at once', async () => {
    expect(await labCommand(['sideways', '--nodes', '0', '--mode', 'foo', '--family', 'ipv5'])).toBe(2);
    const first = err.join('\n').split('\n')[0] ?? '';
    expect(first).toBe(
      'vipcast lab: expected one of up, demo, down (got "sideways"); --nodes must be 1 to 9 (got "0"); --mode must be layer2 or bgp (got "foo"); --family must be ipv4, ipv6 or dual (got "ipv5")',
    );
  });

  it('rejects an unknown option and an option without its value', async () => {
    expect(await labCommand(['up', '--colour'])).toBe(2);
    expect(err.join('\n')).toMatch(/^vipcast lab: .*--colour/);
    err.length = 0;
    expect(await labCommand(['up', '--nodes'])).toBe(2);
    expect(err.join('\n')).toMatch(/^vipcast lab: .*--nodes/);
  });
});

describe('vipcast lab --help', () => {
  it.each([[['--help']], [['-h']], [['help']], [['up', '--help']]])('%j prints the usage and exits 0', async (args) => {
    expect(await labCommand(args)).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^usage: vipcast lab up \[--nodes N\] \[--mode layer2\|bgp\] \[--family ipv4\|ipv6\|dual\]/);
    expect(text).toContain('vipcast lab down');
    expect(text).toContain('VIPCAST_LAB_DIR');
    expect(err).toEqual([]);
  });
});
