import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../speakers/bgp/codec/message.js';
import { endOfRib, endOfRibFamily, type UpdateMessage } from '../../../speakers/bgp/codec/update.js';
import { MARKER, hex } from './hex.js';

const v4: UpdateMessage = {
  type: 'update',
  withdrawn: [{ family: 'ipv4', address: '192.0.2.0', length: 24 }],
  attributes: {
    origin: 'igp',
    asPath: [{ type: 'sequence', asns: [65001, 4200000001] }],
    nextHop: '192.0.2.1',
    med: 10,
    communities: [65001 * 65536 + 100],
    largeCommunities: [[4200000001, 1, 2]],
  },
  nlri: [
    { family: 'ipv4', address: '198.51.100.7', length: 32 },
    { family: 'ipv4', address: '10.0.0.0', length: 8 },
  ],
};

describe('UPDATE (RFC 4271 4.3)', () => {
  it('encodes IPv4 withdrawals, attributes and NLRI field by field', () => {
    expect(encodeMessage(v4)).toEqual(
      hex(
        MARKER,
        '0057', // length 87
        '02', // type UPDATE
        '0004', // withdrawn routes length 4
        '18 c00002', // 192.0.2.0/24: length 24, then 3 octets
        '0035', // total path attribute length 53
        '40 01 01 00', // ORIGIN well-known transitive, length 1, IGP
        '40 02 0a 02 02 0000fde9 fa56ea01', // AS_PATH: AS_SEQUENCE of 2 four-octet ASNs 65001 4200000001
        '40 03 04 c0000201', // NEXT_HOP 192.0.2.1
        '80 04 04 0000000a', // MULTI_EXIT_DISC optional non-transitive, 10
        'c0 08 04 fde90064', // COMMUNITIES optional transitive, 65001:100 (RFC 1997)
        'c0 20 0c fa56ea01 00000001 00000002', // LARGE_COMMUNITY 4200000001:1:2 (RFC 8092)
        '20 c6336407', // 198.51.100.7/32
        '08 0a', // 10.0.0.0/8
      ),
    );
  });

  it('decodes what it encodes', () => {
    expect(decodeMessage(encodeMessage(v4))).toEqual(v4);
  });

  it('clears host bits of prefixes in both directions', () => {
    // 192.0.3.0/23 on the wire: the last bit of the third octet lies outside the prefix.
    const m = decodeMessage(hex(MARKER, '001b', '02', '0000', '0000', '17 c00003')) as UpdateMessage;
    expect(m.nlri).toEqual([{ family: 'ipv4', address: '192.0.2.0', length: 23 }]);
    expect(encodeMessage({ ...m, nlri: [{ family: 'ipv4', address: '192.0.3.255', length: 23 }] })).toEqual(hex(MARKER, '001b', '02', '0000', '0000', '17 c00002'));
  });

  it('encodes IPv6 routes in MP_REACH_NLRI with a global and a link-local next hop (RFC 4760 3, RFC 2545 3)', () => {
    const v6: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: {
        mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: [{ family: 'ipv6', address: '2001:db8:77::10', length: 128 }] },
        origin: 'igp',
        asPath: [{ type: 'sequence', asns: [65001] }],
      },
      nlri: [],
    };
    const b = encodeMessage(v6);
    expect(b).toEqual(
      hex(
        MARKER,
        '005d', // length 93
        '02',
        '0000', // no withdrawn routes
        '0046', // total path attribute length 70
        '80 0e 36', // MP_REACH_NLRI optional non-transitive, length 54, first (RFC 7606 5.1)
        '0002 01', // AFI 2 IPv6, SAFI 1 unicast
        '20', // next hop length 32: global + link-local
        '20010db8000000000000000000000001', // 2001:db8::1
        'fe800000000000000000000000000001', // fe80::1
        '00', // reserved
        '80 20010db8007700000000000000000010', // 2001:db8:77::10/128
        '40 01 01 00', // ORIGIN IGP
        '40 02 06 02 01 0000fde9', // AS_PATH sequence 65001
      ),
    );
    expect(decodeMessage(b)).toEqual(v6);
    // A 16-byte next hop has no link-local address.
    const g = { ...v6, attributes: { ...v6.attributes, mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [] } } };
    expect(decodeMessage(encodeMessage(g))).toEqual(g);
  });

  it('builds and recognises End-of-RIB markers (RFC 4724 2)', () => {
    expect(encodeMessage(endOfRib({ afi: 1, safi: 1 }))).toEqual(hex(MARKER, '0017', '02', '0000', '0000'));
    expect(encodeMessage(endOfRib({ afi: 2, safi: 1 }))).toEqual(hex(MARKER, '001d', '02', '0000', '0006', '80 0f 03 0002 01'));
    expect(endOfRibFamily(decodeMessage(hex(MARKER, '0017', '02', '0000', '0000')) as UpdateMessage)).toEqual({ afi: 1, safi: 1 });
    expect(endOfRibFamily(decodeMessage(hex(MARKER, '001d', '02', '0000', '0006', '80 0f 03 0002 01')) as UpdateMessage)).toEqual({ afi: 2, safi: 1 });
    // An EoR for a family this codec does not otherwise decode (L2VPN EVPN 25/70) is still recognised.
    expect(endOfRibFamily(decodeMessage(hex(MARKER, '001d', '02', '0000', '0006', '80 0f 03 0019 46')) as UpdateMessage)).toEqual({ afi: 25, safi: 70 });
    expect(endOfRibFamily(v4)).toBeUndefined();
  });

  it('reads a 2-octet AS_PATH with AS4_PATH from an old speaker (RFC 6793 4.2.3)', () => {
    const path = [{ type: 'sequence' as const, asns: [65001, 4200000001, 65002] }];
    const msg: UpdateMessage = { type: 'update', withdrawn: [], attributes: { origin: 'igp', asPath: path, nextHop: '192.0.2.1' }, nlri: [{ family: 'ipv4', address: '192.0.2.0', length: 24 }] };
    const b = encodeMessage(msg, { fourOctetAs: false });
    expect(b.subarray(23, 23 + 39)).toEqual(
      hex(
        '40 01 01 00',
        '40 02 08 02 03 fde9 5ba0 fdea', // AS_PATH with AS_TRANS in place of 4200000001
        '40 03 04 c0000201',
        'c0 11 0e 02 03 0000fde9 fa56ea01 0000fdea', // AS4_PATH, optional transitive
      ),
    );
    expect(decodeMessage(b, { fourOctetAs: false })).toEqual(msg);
    // An AS4_PATH shorter than AS_PATH keeps the leading ASNs of AS_PATH.
    const mixed = hex(MARKER, '003a', '02', '0000', '001f', '40 01 01 00', '40 02 08 02 03 fde8 fde9 5ba0', '40 03 04 c0000201', 'c0 11 06 02 01 fa56ea01', '18 c00002');
    expect((decodeMessage(mixed, { fourOctetAs: false }) as UpdateMessage).attributes.asPath).toEqual([{ type: 'sequence', asns: [65000, 65001, 4200000001] }]);
  });

  it('passes unknown attributes on in the order received, not sorted by type (RFC 4271 5)', () => {
    const b = hex(
      MARKER,
      '0034', // length 52
      '02',
      '0000',
      '001d', // total path attribute length 29
      '40 01 01 00', // ORIGIN IGP
      '40 02 00', // empty AS_PATH, as on an iBGP session
      'c0 63 03 aabbcc', // unknown optional transitive 99
      'e0 50 02 0102', // unknown optional transitive partial 80, after 99 as it came
      '80 f0 01 ff', // unknown optional non-transitive 240
      'c0 21 04 00000001', // unknown optional transitive 33
    );
    const m = decodeMessage(b) as UpdateMessage;
    expect(m.attributes.unknown?.map((a) => a.typeCode)).toEqual([0x63, 0x50, 0xf0, 0x21]);
    expect(encodeMessage(m)).toEqual(b);
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it('keeps unknown optional attributes raw and re-encodes them', () => {
    const b = hex(MARKER, '0020', '02', '0000', '0009', 'c0 63 06 010203040506');
    const m = decodeMessage(b) as UpdateMessage;
    expect(m.attributes.unknown).toEqual([{ flags: 0xc0, typeCode: 0x63, value: hex('010203040506') }]);
    expect(encodeMessage(m)).toEqual(b);
  });
});
