// The allocation-free IPv4 writer used for NLRI agrees with the shared parser on every input.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeIpv4Prefix } from '../../../speakers/bgp/codec/ip.js';
import { tryParseIpv4 } from '../../../speakers/common/ip-text.js';

function agrees(text: string): void {
  const out = Buffer.alloc(4);
  const ok = writeIpv4Prefix(text, out, 0, 4);
  const expected = tryParseIpv4(text);
  expect(ok).toBe(expected !== undefined);
  if (expected) expect(out).toEqual(expected);
}

describe('writeIpv4Prefix', () => {
  it('matches tryParseIpv4 on edge cases', () => {
    for (const t of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '', '1.2.3.4 ', 'a.b.c.d', '1.2.3.0004']) agrees(t);
  });

  it('matches tryParseIpv4 on random dotted quads and strings', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.string({ maxLength: 4 }));
    fc.assert(fc.property(fc.array(octet, { minLength: 1, maxLength: 6 }), (parts) => agrees(parts.join('.'))), { numRuns: 20_000 });
  });

  it('writes only the octets a shorter prefix needs', () => {
    const out = Buffer.alloc(6, 0xee);
    expect(writeIpv4Prefix('10.1.2.3', out, 1, 2)).toBe(true);
    expect([...out]).toEqual([0xee, 10, 1, 0xee, 0xee, 0xee]);
  });
});
