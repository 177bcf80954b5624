import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalAddress, formatAddress, formatRange, parseAddress, rangeToCidrs } from '../../../src/net/address.js';

describe('address text forms', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs (RFC 5952 4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not shortened (4.2.2)
    ['::', '::'],
    ['::1', '::1'],
    ['0:10::', '0:10::'],
    ['fe80::', 'fe80::'],
  ])('%s is written %s', (input, expected) => {
    expect(canonicalAddress(input)).toBe(expected);
  });

  it.each(['10.0.0.256', '10.0.0', '010.0.0.1', 'fe80::1%eth0', '2001:db8::1/64', '', 'gateway'])(
    'rejects %j',
    (input) => {
      expect(parseAddress(input)).toBeUndefined();
    },
  );

  it('round-trips every IPv6 value through its text form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => {
        const text = formatAddress({ family: 'IPv6', value });
        expect(parseAddress(text)).toEqual({ family: 'IPv6', value });
      }),
    );
  });
});

describe('ranges as prefixes', () => {
  it('splits an unaligned range into the fewest prefixes', () => {
    const cidrs = rangeToCidrs({ family: 'IPv4', first: parseAddress('10.0.0.1')!.value, last: parseAddress('10.0.0.8')!.value });
    expect(cidrs.map((c) => `${formatAddress(c.address)}/${c.prefixLength}`)).toEqual([
      '10.0.0.1/32',
      '10.0.0.2/31',
      '10.0.0.4/30',
      '10.0.0.8/32',
    ]);
  });

  it('names an aligned range by its prefix and others by their ends', () => {
    const v6 = parseAddress('2001:db8::')!.value;
    expect(formatRange({ family: 'IPv6', first: v6, last: v6 + (1n << 64n) - 1n })).toBe('2001:db8::/64');
    expect(formatRange({ family: 'IPv6', first: v6 + 1n, last: v6 + 5n })).toBe('2001:db8::1-2001:db8::5');
  });

  it('covers any range exactly, without gaps or overlap', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (a, b) => {
        const [first, last] = a <= b ? [a, b] : [b, a];
        let next = first;
        for (const c of rangeToCidrs({ family: 'IPv4', first, last })) {
          expect(c.address.value).toBe(next);
          const size = 1n << BigInt(32 - c.prefixLength);
          expect(c.address.value % size).toBe(0n);
          next += size;
        }
        expect(next).toBe(last + 1n);
      }),
    );
  });
});
