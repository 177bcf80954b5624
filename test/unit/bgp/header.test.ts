import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { BgpDecodeError, BgpEncodeError } from '../../../speakers/bgp/codec/errors.js';
import type { OpenMessage } from '../../../speakers/bgp/codec/open.js';
import { decodeMessage, encodeMessage } from '../../../speakers/bgp/codec/message.js';
import type { CodecOptions } from '../../../speakers/bgp/codec/options.js';
import { MARKER, hex } from './hex.js';

function decodeError(buf: Buffer, opts: CodecOptions = {}): BgpDecodeError {
  try {
    decodeMessage(buf, opts);
  } catch (e) {
    if (e instanceof BgpDecodeError) return e;
    throw e;
  }
  throw new Error('decoded without error');
}

describe('message header (RFC 4271 4.1, 6.1)', () => {
  it('encodes a KEEPALIVE as a bare header', () => {
    expect(encodeMessage({ type: 'keepalive' })).toEqual(
      hex(
        MARKER, // marker, all ones
        '0013', // length 19
        '04', // type 4 KEEPALIVE
      ),
    );
    expect(decodeMessage(hex(MARKER, '0013', '04'))).toEqual({ type: 'keepalive' });
  });

  it('rejects a marker that is not all ones with 1/1 Connection Not Synchronized', () => {
    const e = decodeError(hex('fffffffffffffffffffffffffffffffe', '0013', '04'));
    expect([e.code, e.subcode, e.data.length]).toEqual([1, 1, 0]);
  });

  it.each([
    ['below 19', '0012', '04', ''],
    ['above 4096', '1001', '02', '00'.repeat(4096 - 19 + 1)],
    ['KEEPALIVE longer than 19', '0014', '04', '00'],
    ['OPEN shorter than 29', '001c', '01', '00'.repeat(9)],
    ['UPDATE shorter than 23', '0016', '02', '000000'],
    ['NOTIFICATION shorter than 21', '0014', '03', '06'],
  ])('rejects a length %s with 1/2 Bad Message Length and the length field as data', (_why, len, type, body) => {
    const e = decodeError(hex(MARKER, len, type, body));
    expect([e.code, e.subcode]).toEqual([1, 2]);
    expect(e.data).toEqual(hex(len));
  });

  it('rejects a buffer whose size differs from its length field with 1/2', () => {
    const e = decodeError(hex(MARKER, '0013', '04', '00'));
    expect([e.code, e.subcode]).toEqual([1, 2]);
    expect(e.data).toEqual(hex('0013'));
  });

  it('rejects an unknown type with 1/3 Bad Message Type and the type as data', () => {
    const e = decodeError(hex(MARKER, '0013', '07'));
    expect([e.code, e.subcode]).toEqual([1, 3]);
    expect(e.data).toEqual(hex('07'));
  });

  it('keeps OPEN and KEEPALIVE within 4096 octets even with extended messages (RFC 8654 4, 6)', () => {
    const extended = { maxMessageLength: 65535 };
    // An OPEN past 4096 octets: 16 unknown capabilities of 255 octets in RFC 9072 extended parameters.
    const caps = Buffer.concat(Array.from({ length: 16 }, () => Buffer.concat([hex('c8 ff'), Buffer.alloc(255)])));
    const param = Buffer.concat([hex('02'), Buffer.of(caps.length >> 8, caps.length & 0xff), caps]);
    const fixed = Buffer.concat([hex('04 fde9 00b4 0a000001', 'ff ff'), Buffer.of(param.length >> 8, param.length & 0xff)]);
    const open = Buffer.concat([hex(MARKER, '0000', '01'), fixed, param]);
    open.writeUInt16BE(open.length, 16);
    expect(open.length).toBeGreaterThan(4096);
    const e = decodeError(open, extended);
    expect([e.code, e.subcode]).toEqual([1, 2]);
    expect(e.data).toEqual(open.subarray(16, 18));
    expect(encodeMessage({ type: 'keepalive' }, extended)).toEqual(hex(MARKER, '0013', '04'));
  });

  it('refuses to encode an OPEN past 4096 octets even when extended messages allow 65535 (RFC 8654 4)', () => {
    // 19 header + 13 fixed fields (RFC 9072 extended length) + 3 parameter header + capabilities
    // of 2 + value octets each: 15 of 255 octets and one of `last` make 4096 + (last - 204).
    const open = (last: number): OpenMessage => ({
      type: 'open',
      myAs: 65001,
      holdTime: 180,
      bgpId: '10.0.0.1',
      capabilities: [...Array.from({ length: 15 }, () => Buffer.alloc(255)), Buffer.alloc(last)].map((value) => ({ kind: 'unknown', code: 200, value })),
    });
    const extended = { maxMessageLength: 65535 };
    expect(encodeMessage(open(204), extended).length).toBe(4096);
    expect(encodeMessage(open(204)).length).toBe(4096);
    expect(() => encodeMessage(open(205), extended)).toThrow(BgpEncodeError);
    expect(() => encodeMessage(open(205), extended)).toThrow('message of 4097 octets exceeds 4096');
    expect(() => encodeMessage(open(205))).toThrow('message of 4097 octets exceeds 4096');
  });

  it('accepts a 4096-octet message and, with extended messages, a larger one (RFC 8654)', () => {
    const body = '0000' + '0000' + '00'.repeat(4096 - 23);
    expect(decodeMessage(hex(MARKER, '1000', '02', body)).type).toBe('update');
    const big = hex(MARKER, '2000', '02', '0000', '0000', '00'.repeat(0x2000 - 23));
    expect(decodeError(big).subcode).toBe(2);
    // 0x2000 octets of NLRI zeros are 8169 default routes: valid prefixes of length 0.
    expect(decodeMessage(big, { maxMessageLength: 65535 }).type).toBe('update');
  });
});
