import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../../speakers/common/ip-text.js';
import { ipv6BytesArb } from '../../helpers/layer2-arbitraries.js';

describe('IPv4 text', () => {
  it('parses a dotted quad into four bytes in network order', () => {
    expect(parseIpv4('192.0.2.10')).toEqual(Buffer.from([192, 0, 2, 10]));
    expect(formatIpv4(Buffer.from([10, 0, 0, 255]))).toBe('10.0.0.255');
  });

  it.each(['192.0.2', '192.0.2.1.5', '192.0.2.256', '192.0.02.1', '192.0.2.-1', '', ' 192.0.2.1', '1e2.0.0.1'])(
    'rejects %j',
    (text) => {
      expect(() => parseIpv4(text)).toThrow(RangeError);
    },
  );

  it('round-trips every address', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        expect(parseIpv4(formatIpv4(bytes))).toEqual(Buffer.from(bytes));
      }),
    );
  });
});

describe('IPv6 text', () => {
  it.each([
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['ff02::1:ff00:2', 'ff0200000000000000000001ff000002'],
    ['FE80::FF:FE00:A', 'fe80' + '0000'.repeat(4) + '00ff' + 'fe00' + '000a'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['2001:db8:1:2:3:4:5:6', '20010db8000100020003000400050006'],
  ])('parses %s', (text, hex) => {
    expect(parseIpv6(text).toString('hex')).toBe(hex);
  });

  it.each([
    ['2001:0DB8:0:0:0:0:0:1', '2001:db8::1'], // lower case, no leading zeros (RFC 5952 4.1, 4.3)
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal zero runs (4.2.3)
    ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'], // the longest run (4.2.3)
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a lone zero group stays (4.2.2)
    ['0:0:0:0:0:0:0:0', '::'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
  ])('formats %s canonically as %s', (text, canonical) => {
    expect(formatIpv6(parseIpv6(text))).toBe(canonical);
  });

  it.each(['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7::8', '12345::', 'fe80::1%eth0', '::1.2.3', 'g::1', ':1::', '1::2:'])(
    'rejects %j',
    (text) => {
      expect(() => parseIpv6(text)).toThrow(RangeError);
    },
  );

  it('round-trips every address through its canonical text', () => {
    fc.assert(
      fc.property(ipv6BytesArb, (bytes) => {
        const text = formatIpv6(bytes);
        expect(parseIpv6(text)).toEqual(bytes);
        expect(formatIpv6(parseIpv6(text))).toBe(text);
      }),
    );
  });
});
