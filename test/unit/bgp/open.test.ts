import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../speakers/bgp/codec/message.js';
import { AS_TRANS, myAsField, openAsn, type OpenMessage } from '../../../speakers/bgp/codec/open.js';
import { decodeErrorOf } from './errors.js';
import { MARKER, hex } from './hex.js';

const open: OpenMessage = {
  type: 'open',
  myAs: AS_TRANS,
  holdTime: 90,
  bgpId: '192.0.2.1',
  capabilities: [
    { kind: 'multiprotocol', afi: 1, safi: 1 },
    { kind: 'multiprotocol', afi: 2, safi: 1 },
    { kind: 'route-refresh', code: 2 },
    { kind: 'four-octet-as', asn: 4200000001 },
    { kind: 'graceful-restart', restarting: true, notification: false, restartTime: 120, families: [{ afi: 2, safi: 1, forwardingState: true }] },
  ],
};

const body = [
  '04', // version 4
  '5ba0', // My AS 23456 = AS_TRANS, the ASN is above 65535 (RFC 6793)
  '005a', // hold time 90
  'c0000201', // BGP Identifier 192.0.2.1
];
const caps = [
  '01 04 0001 00 01', // multiprotocol, AFI 1 IPv4, reserved, SAFI 1 unicast (RFC 4760 8)
  '01 04 0002 00 01', // multiprotocol, AFI 2 IPv6, SAFI 1
  '02 00', // route refresh (RFC 2918)
  '41 04 fa56ea01', // 4-octet AS 4200000001 (RFC 6793)
  '40 06 8078 0002 01 80', // graceful restart: R bit, 120 s; IPv6 unicast with F bit (RFC 4724 3)
];

describe('OPEN (RFC 4271 4.2, RFC 5492)', () => {
  it('encodes all capabilities in one optional parameter by default', () => {
    expect(encodeMessage(open)).toEqual(
      hex(
        MARKER,
        '003b', // length 59
        '01', // type OPEN
        ...body,
        '1e', // optional parameters length 30
        '02 1c', // parameter type 2 Capabilities, length 28
        ...caps,
      ),
    );
  });

  it('encodes one capability per parameter when asked, as FRR and GoBGP send them', () => {
    const b = encodeMessage({ ...open, onePerParameter: true });
    expect(b).toEqual(hex(MARKER, '0043', '01', ...body, '26', ...caps.map((c) => `02 ${(c.replace(/ /g, '').length / 2).toString(16).padStart(2, '0')} ${c}`)));
    expect(decodeMessage(b)).toEqual({ ...open, onePerParameter: true });
  });

  it('decodes both layouts to the same capabilities', () => {
    expect(decodeMessage(encodeMessage(open))).toEqual(open);
    expect((decodeMessage(encodeMessage({ ...open, onePerParameter: true })) as OpenMessage).capabilities).toEqual(open.capabilities);
  });

  it('finds the real ASN and the AS field for it (RFC 6793 3)', () => {
    expect(openAsn(open)).toBe(4200000001);
    expect(myAsField(4200000001)).toBe(23456);
    expect(myAsField(65001)).toBe(65001);
    expect(openAsn({ ...open, myAs: 65001, capabilities: [] })).toBe(65001);
  });

  it('recognises the old Cisco route refresh code 128 and keeps unknown capabilities raw', () => {
    const b = hex(MARKER, '0027', '01', '04 fde9 00b4 0a000001', '0a', '02 08', '80 00', '49 04 02766d00');
    expect((decodeMessage(b) as OpenMessage).capabilities).toEqual([
      { kind: 'route-refresh', code: 128 },
      { kind: 'unknown', code: 73, value: hex('02766d00') },
    ]);
    expect(encodeMessage(decodeMessage(b))).toEqual(b);
  });

  it('reads and writes the RFC 9072 extended optional parameters length', () => {
    const many: OpenMessage = { ...open, capabilities: Array.from({ length: 50 }, (_, i) => ({ kind: 'multiprotocol' as const, afi: i, safi: 1 })) };
    const b = encodeMessage(many);
    expect(b.subarray(28, 33)).toEqual(hex('ff', 'ff', '012f', '02')); // 255, type 255, length 303 (3 + 50 * 6), Capabilities
    expect(decodeMessage(b)).toEqual(many);
  });

  it.each([
    ['version 3 with 2/1 and the supported version as data', hex(MARKER, '001d', '01', '03 fde9 00b4 0a000001 00'), [2, 1], hex('0004')],
    ['hold time 2 with 2/6', hex(MARKER, '001d', '01', '04 fde9 0002 0a000001 00'), [2, 6], hex('')],
    ['BGP Identifier 0 with 2/3', hex(MARKER, '001d', '01', '04 fde9 00b4 00000000 00'), [2, 3], hex('')],
    ['an authentication parameter with 2/4', hex(MARKER, '0020', '01', '04 fde9 00b4 0a000001 03 01 01 00'), [2, 4], hex('')],
    ['a 3-octet multiprotocol capability with 2/0', hex(MARKER, '0024', '01', '04 fde9 00b4 0a000001 07 02 05 01 03 000101'), [2, 0], hex('')],
    ['a capability overrunning its parameter with 2/0', hex(MARKER, '0021', '01', '04 fde9 00b4 0a000001 04 02 02 41 04'), [2, 0], hex('')],
    ['a parameters length past the end with 2/0', hex(MARKER, '001d', '01', '04 fde9 00b4 0a000001 01'), [2, 0], hex('')],
  ])('rejects %s', (_why, b, codes, data) => {
    const [code, subcode, e] = decodeErrorOf(() => decodeMessage(b));
    expect([code, subcode]).toEqual(codes);
    expect(e.data).toEqual(data);
  });
});
