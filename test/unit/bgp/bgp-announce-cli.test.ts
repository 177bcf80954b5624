// `vipcast bgp announce` argument checking: every mistake is refused with exit code 2 before any socket opens.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bgpAnnounceCommand } from '../../../src/cli/bgp-announce.js';

const base = ['--peer', '192.0.2.1', '--peer-asn', '65001', '--my-asn', '65010', '--router-id', '192.0.2.2', '--prefix', '198.51.100.1'];

async function refused(args: string[]): Promise<string> {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((text: string) => void errors.push(text));
  expect(await bgpAnnounceCommand(args)).toBe(2);
  return errors.join('\n');
}

describe('vipcast bgp announce arguments', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints its help with exit code 0', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => void out.push(text));
    expect(await bgpAnnounceCommand(['--help'])).toBe(0);
    expect(out.join('\n')).toMatch(/--password P.*RFC 2385/);
  });

  it.each([
    [['--peer', 'nowhere'], /--peer must be an IPv4 or IPv6 address/],
    [['--peer-asn', '0'], /--peer-asn must be an integer in 1\.\.4294967295/],
    [['--hold-time', '2'], /0 or at least 3/],
    [['--prefix', '10.0.0.0/33'], /prefix length/],
    [['--community', '70000:1'], /--community/],
    [['--large-community', '1:2'], /GLOBAL:LOCAL1:LOCAL2/],
    [['--password', 'x'.repeat(81)], /1\.\.80 octets/],
    [['--ebgp-multihop', '0'], /--ebgp-multihop/],
    [['--bfd-interval', '5'], /--bfd-interval/],
    [['--next-hop', '192.0.2.9', '--next-hop', '192.0.2.8'], /given twice/],
  ])('refuses %j', async (extra, message) => {
    expect(await refused([...base, ...extra])).toMatch(message);
  });

  it('needs a router id when the source is not IPv4', async () => {
    expect(await refused(['--peer', '2001:db8::1', '--peer-asn', '1', '--my-asn', '2', '--prefix', '2001:db8::5'])).toMatch(/--router-id/);
  });
});
