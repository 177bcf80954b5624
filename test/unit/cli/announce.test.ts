import { afterEach, describe, expect, it, vi } from 'vitest';
import { announceCommand } from '../../../src/cli/announce.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function capture() {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  return errors;
}

describe('vipcast announce: arguments', () => {
  it('refuses bad addresses, a missing interface and a bad refresh, naming each, with exit status 2', async () => {
    const errors = capture();
    expect(await announceCommand(['--ip', '224.0.0.1', '--ip', 'nonsense', '--refresh', '0.5'])).toBe(2);
    const text = errors.join('\n');
    expect(text).toContain('--interface is required');
    expect(text).toContain('--ip 224.0.0.1: 224.0.0.1 is a multicast address');
    expect(text).toContain('--ip nonsense: not an IPv4 or IPv6 address');
    expect(text).toContain('--refresh 0.5');
  });

  it('needs at least one --ip and rejects unknown options', async () => {
    const errors = capture();
    expect(await announceCommand(['--interface', 'eth0'])).toBe(2);
    expect(await announceCommand(['--interface', 'eth0', '--ip', '192.0.2.1', '--bogus'])).toBe(2);
    expect(errors.join('\n')).toMatch(/at least one --ip is required[\s\S]*bogus/);
  });

  it('exits 1 with the reason when the interface does not exist', async () => {
    const errors = capture();
    expect(await announceCommand(['--interface', 'no-such-if0', '--ip', '192.0.2.1'])).toBe(1);
    // The kernel's reason, from the addon: a missing addon would fail here with its own message.
    expect(errors.join('\n')).toMatch(/cannot use interface no-such-if0: interface no-such-if0: No such device/);
  });
});
