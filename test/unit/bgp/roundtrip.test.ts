import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../speakers/bgp/codec/message.js';
import { formatIpv6, tryParseIpv6 } from '../../../speakers/common/ip-text.js';
import { message } from './arbitraries.js';

describe('decode(encode(x)) equals x', () => {
  it('for every message with 4-octet AS numbers', () => {
    fc.assert(
      fc.property(message(true), (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
      { numRuns: 3000 },
    );
  });

  it('for every message on a 2-octet AS session, via AS_TRANS and AS4_PATH (RFC 6793 4.2.2)', () => {
    const opts = { fourOctetAs: false };
    fc.assert(
      fc.property(message(false), (m) => {
        expect(decodeMessage(encodeMessage(m, opts), opts)).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('for IPv6 text forms (RFC 5952)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (a) => {
        expect(tryParseIpv6(formatIpv6(a))).toEqual(Buffer.from(a));
      }),
    );
    expect(formatIpv6(tryParseIpv6('2001:DB8:0:0:1:0:0:1') ?? Buffer.alloc(16))).toBe('2001:db8::1:0:0:1');
    expect(tryParseIpv6('::ffff:192.0.2.1')).toEqual(Buffer.from('00000000000000000000ffffc0000201', 'hex'));
    expect(tryParseIpv6('1.2.3.4::')).toBeUndefined();
  });
});
