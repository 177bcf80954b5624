import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { BgpEncodeError } from '../../../speakers/bgp/codec/errors.js';
import { decodeMessage, encodeMessage } from '../../../speakers/bgp/codec/message.js';
import { shutdownNotification, type NotificationMessage } from '../../../speakers/bgp/codec/notification.js';
import { decodeErrorOf } from './errors.js';
import { MARKER, hex } from './hex.js';

describe('NOTIFICATION (RFC 4271 4.5) and shutdown communication (RFC 8203, RFC 9003)', () => {
  it('encodes code, subcode and data', () => {
    const m: NotificationMessage = { type: 'notification', code: 1, subcode: 2, data: hex('0012') };
    expect(encodeMessage(m)).toEqual(
      hex(
        MARKER,
        '0017', // length 23
        '03', // type NOTIFICATION
        '01', // code 1 Message Header Error
        '02', // subcode 2 Bad Message Length
        '0012', // data: the bad length field
      ),
    );
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('encodes an Administrative Shutdown with a UTF-8 message behind a length octet', () => {
    const m = shutdownNotification(2, 'maintenance ✓');
    expect(encodeMessage(m)).toEqual(
      hex(
        MARKER,
        '0025', // length 37
        '03',
        '06', // Cease
        '02', // Administrative Shutdown
        '0f', // shutdown communication length 15
        '6d61696e74656e616e636520e29c93', // "maintenance ✓" in UTF-8
      ),
    );
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('leaves the text out when the length octet or the UTF-8 is wrong, keeping the raw data (RFC 9003 3)', () => {
    const badLength = decodeMessage(hex(MARKER, '0018', '03', '06 04', '05 6869')) as NotificationMessage;
    expect(badLength.shutdownMessage).toBeUndefined();
    expect(badLength.data).toEqual(hex('05 6869'));
    const badUtf8 = decodeMessage(hex(MARKER, '0018', '03', '06 02', '02 c328')) as NotificationMessage;
    expect(badUtf8.shutdownMessage).toBeUndefined();
    // Other Cease subcodes carry no text even if the bytes would look like one.
    expect((decodeMessage(hex(MARKER, '0018', '03', '06 03', '02 6869')) as NotificationMessage).shutdownMessage).toBeUndefined();
  });

  it('accepts an empty Cease as from older speakers and refuses to encode a text over 255 octets', () => {
    expect(decodeMessage(hex(MARKER, '0015', '03', '06 04'))).toEqual({ type: 'notification', code: 6, subcode: 4, data: hex('') });
    expect(() => encodeMessage(shutdownNotification(2, 'x'.repeat(256)))).toThrow(BgpEncodeError);
    expect(encodeMessage(shutdownNotification(4, 'é'.repeat(127))).length).toBe(19 + 2 + 1 + 254);
  });
});

describe('ROUTE-REFRESH (RFC 2918 3, RFC 7313)', () => {
  it('encodes AFI, subtype and SAFI', () => {
    const b = encodeMessage({ type: 'route-refresh', afi: 2, safi: 1, subtype: 0 });
    expect(b).toEqual(
      hex(
        MARKER,
        '0017', // length 23
        '05', // type ROUTE-REFRESH
        '0002', // AFI IPv6
        '00', // reserved / subtype 0 normal request
        '01', // SAFI unicast
      ),
    );
    expect(decodeMessage(b)).toEqual({ type: 'route-refresh', afi: 2, safi: 1, subtype: 0 });
  });

  it('answers an oversized ROUTE-REFRESH with a NOTIFICATION that still fits in 4096 octets', () => {
    // 4076 octets quoted back as data would make a NOTIFICATION of 4097: the data is cut instead.
    const b = Buffer.concat([hex(MARKER, '0fec', '05', '0001 00 01'), Buffer.alloc(4076 - 23, 0xab)]);
    const [code, subcode, e] = decodeErrorOf(() => decodeMessage(b));
    expect([code, subcode, e.data.length]).toEqual([7, 1, 4076]);
    const sent = encodeMessage({ type: 'notification', code, subcode, data: e.data });
    expect(sent.length).toBe(4096);
    expect(sent.subarray(0, 21)).toEqual(hex(MARKER, '1000', '03', '07 01'));
    expect(sent.subarray(21)).toEqual(b.subarray(0, 4096 - 21));
  });

  it('sends a NOTIFICATION up to the negotiated length and cuts it there (RFC 8654 4)', () => {
    const big: NotificationMessage = { type: 'notification', code: 3, subcode: 1, data: Buffer.alloc(10_000, 7) };
    const extended = { maxMessageLength: 65535 };
    expect(decodeMessage(encodeMessage(big, extended), extended)).toEqual(big);
    expect(encodeMessage(big).length).toBe(4096);
    expect(encodeMessage({ ...big, data: Buffer.alloc(70_000) }, extended).length).toBe(65535);
  });

  it('rejects another length with 7/1 and the whole message as data (RFC 7313 5)', () => {
    const b = hex(MARKER, '0018', '05', '0002 00 01 00');
    const [code, subcode, e] = decodeErrorOf(() => decodeMessage(b));
    expect([code, subcode]).toEqual([7, 1]);
    expect(e.data).toEqual(b);
  });
});
