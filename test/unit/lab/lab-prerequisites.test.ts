import { describe, expect, it } from 'vitest';
import { checkLabPrerequisites, hostProblem, onPath } from '../../../lab/lab-prerequisites.js';

describe('checkLabPrerequisites', () => {
  it('on another system, reports one problem: the lab needs Linux', () => {
    const result = checkLabPrerequisites('layer2', 'darwin', 501);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/needs Linux/);
    expect(result.problems[0]).toContain('darwin');
    expect(result.binaries).toBeUndefined();
  });

  it.each(['layer2', 'bgp'] as const)('on Linux as a user (%s mode), reports that root is needed, with sudo as the fix', (mode) => {
    const { problems } = checkLabPrerequisites(mode, 'linux', 1000);
    const root = problems.filter((p) => /needs root/.test(p));
    expect(root).toHaveLength(1);
    expect(root[0]).toMatch(/sudo/);
  });

  it('as root, reports nothing about root', () => {
    const { problems } = checkLabPrerequisites('layer2', 'linux', 0);
    expect(problems.filter((p) => /needs root/.test(p))).toEqual([]);
  });
});

describe('hostProblem and onPath', () => {
  it('names the fix for another system and for a user other than root, and nothing for root on Linux', () => {
    expect(hostProblem('darwin', 0)).toMatch(/needs Linux.*Run it on a Linux machine or in a Linux VM, as root/);
    expect(hostProblem('linux', 1000, 'demo')).toMatch(/needs root.*"sudo node bin\/vipcast\.js lab demo"/);
    expect(hostProblem('linux', 0)).toBeUndefined();
  });

  it('finds a program only in the PATH it is given', () => {
    expect(onPath('sh', '/usr/bin:/bin')).toBe(true);
    expect(onPath('sh', '/nonexistent-dir')).toBe(false);
    expect(onPath('sh', '')).toBe(false);
  });
});
