import { describe, expect, it } from 'vitest';
import { checkLabPrerequisites } from '../../../src/lab/lab-prerequisites.js';

describe('checkLabPrerequisites', () => {
  it('on another system, reports one problem: the lab needs Linux', async () => {
    const result = await checkLabPrerequisites('layer2', 'darwin', 501);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/needs Linux/);
    expect(result.problems[0]).toContain('darwin');
    expect(result.binaries).toBeUndefined();
  });

  it.each(['layer2', 'bgp'] as const)('on Linux as a user (%s mode), reports that root is needed, with sudo as the fix', async (mode) => {
    const { problems } = await checkLabPrerequisites(mode, 'linux', 1000);
    const root = problems.filter((p) => /needs root/.test(p));
    expect(root).toHaveLength(1);
    expect(root[0]).toMatch(/sudo/);
  });

  it('as root, reports nothing about root', async () => {
    const { problems } = await checkLabPrerequisites('layer2', 'linux', 0);
    expect(problems.filter((p) => /needs root/.test(p))).toEqual([]);
  });
});
