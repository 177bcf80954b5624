// The one parser of address text (speakers/common/ip-text.ts) accepts exactly the spellings
// node:net's isIP accepts (without a zone), and its allocation-free IPv4 writer, which BGP's
// NLRI encoder uses, agrees with it on every input.
import { Buffer } from 'node:buffer';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIp, tryParseIp, tryParseIpv4, writeIpv4 } from '../../../speakers/common/ip-text.js';

function agrees(text: string): void {
  const out = Buffer.alloc(4);
  const ok = writeIpv4(text, out, 0, 4);
  const expected = tryParseIpv4(text);
  expect(ok).toBe(expected !== undefined);
  expect(ok, text).toBe(isIP(text) === 4);
  if (expected) expect(out).toEqual(Buffer.from(text.split('.').map(Number)));
}

/** What node:net calls an address, without a zone: the reference the parser must match. */
function nodeFamily(text: string): 0 | 4 | 6 {
  return text.includes('%') ? 0 : (isIP(text) as 0 | 4 | 6);
}

describe('writeIpv4 and tryParseIpv4', () => {
  it('agree with each other and with node:net on edge cases', () => {
    for (const t of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '', '1.2.3.4 ', 'a.b.c.d', '1.2.3.0004', '1.2.3.-4']) agrees(t);
  });

  it('agree on random dotted quads and strings', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.string({ maxLength: 4 }));
    fc.assert(fc.property(fc.array(octet, { minLength: 1, maxLength: 6 }), (parts) => agrees(parts.join('.'))), { numRuns: 20_000 });
  });

  it('writes only the octets a shorter prefix needs', () => {
    const out = Buffer.alloc(6, 0xee);
    expect(writeIpv4('10.1.2.3', out, 1, 2)).toBe(true);
    expect([...out]).toEqual([0xee, 10, 1, 0xee, 0xee, 0xee]);
  });
});

describe('tryParseIp', () => {
  it('accepts what node:net accepts, as 4 or 16 bytes, and refuses zones and prefixes', () => {
    const cases = ['192.0.2.1', '::', '::1', '2001:db8::1', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '1::2:3:4:5:6:7', '1:2:3:4:5:6:1.2.3.4', '::01.2.3.4', '1:2:3:4:5:6:7:8:9', ':1::', '1:::2', 'fe80::1%eth0', '192.0.2.0/24', '2001:db8::/64', ' ::1', 'G::1', '12345::'];
    for (const text of cases) {
      const bytes = tryParseIp(text);
      expect(bytes?.length ?? 0, text).toBe(({ 0: 0, 4: 4, 6: 16 } as const)[nodeFamily(text)]);
    }
    expect([...parseIp('::ffff:192.0.2.1').subarray(10)]).toEqual([0xff, 0xff, 192, 0, 2, 1]);
    expect(() => parseIp('fe80::1%eth0')).toThrow('not an IPv4 or IPv6 address: "fe80::1%eth0"');
  });

  it('agrees with node:net on random strings of address characters', () => {
    const text = fc.array(fc.constantFrom('0', '1', 'a', 'f', 'g', ':', ':', '.', '::', '255', '01'), { maxLength: 14 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (t) => {
        const bytes = tryParseIp(t);
        expect(bytes?.length ?? 0, t).toBe(({ 0: 0, 4: 4, 6: 16 } as const)[nodeFamily(t)]);
      }),
      { numRuns: 20_000 },
    );
  });
});
