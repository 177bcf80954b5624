// `vipcast lab` argument checks that refuse before anything is started.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { labCommand } from '../../../lab/command.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('vipcast lab --cluster', () => {
  it('refuses the process lab\'s options, naming them, before starting anything', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
    expect(await labCommand(['up', '--cluster', '--nodes', '5'])).toBe(2);
    expect(await labCommand(['demo', '--cluster', '--fault', 'api-outage'])).toBe(2);
    expect(errors).toHaveLength(2);
    for (const text of errors) expect(text).toContain('--cluster takes no --nodes, --mode, --family or --fault');
  });

  it('refuses an unknown action with --cluster as without it', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
    expect(await labCommand(['start', '--cluster'])).toBe(2);
    expect(errors[0]).toContain('expected one of up, demo, down');
  });
});
