// fast-check generators for codec values that survive an encode/decode round trip unchanged.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { AsPathSegment } from '../../../speakers/bgp/codec/as-path.js';
import type { PathAttributes, RawAttribute } from '../../../speakers/bgp/codec/attributes.js';
import type { Capability } from '../../../speakers/bgp/codec/capabilities.js';
import { formatIpv4, formatIpv6 } from '../../../speakers/common/ip-text.js';
import type { BgpMessage } from '../../../speakers/bgp/codec/message.js';
import type { MpReachNlri, MpUnreachNlri } from '../../../speakers/bgp/codec/mp-nlri.js';
import { shutdownNotification } from '../../../speakers/bgp/codec/notification.js';
import type { Prefix } from '../../../speakers/bgp/codec/prefix.js';

const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });
const u8 = fc.nat({ max: 0xff });
const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

export const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIpv4);
export const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(formatIpv6);

/** A prefix with host bits cleared, as the decoder returns it. */
export function prefix(family: 'ipv4' | 'ipv6'): fc.Arbitrary<Prefix> {
  const size = family === 'ipv4' ? 4 : 16;
  return fc.tuple(fc.uint8Array({ minLength: size, maxLength: size }), fc.nat({ max: size * 8 })).map(([a, length]) => {
    const b = Buffer.from(a);
    for (let bit = length; bit < size * 8; bit += 1) b[bit >> 3] = (b[bit >> 3] ?? 0) & ~(0x80 >> (bit & 7));
    return { family, address: family === 'ipv4' ? formatIpv4(b) : formatIpv6(b), length };
  });
}

export const capability: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ kind: fc.constant('multiprotocol' as const), afi: u16, safi: u8 }),
  fc.record({ kind: fc.constant('route-refresh' as const), code: fc.constantFrom(2 as const, 128 as const) }),
  fc.record({ kind: fc.constant('four-octet-as' as const), asn: u32 }),
  fc.record({
    kind: fc.constant('graceful-restart' as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.nat({ max: 4095 }),
    families: fc.array(fc.record({ afi: u16, safi: u8, forwardingState: fc.boolean() }), { maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant('unknown' as const),
    code: u8.filter((c) => ![1, 2, 64, 65, 128].includes(c)),
    value: bytes(20),
  }),
);

const open = fc
  .record({
    myAs: u16,
    holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
    bgpId: ipv4.filter((a) => a !== '0.0.0.0'),
    capabilities: fc.array(capability, { maxLength: 8 }),
    onePerParameter: fc.boolean(),
  })
  .map(({ onePerParameter, ...o }): BgpMessage => {
    // The decoder reports the one-per-parameter layout only when it is distinguishable.
    const split = onePerParameter && o.capabilities.length > 1;
    return split ? { type: 'open', ...o, onePerParameter: true } : { type: 'open', ...o };
  });

/**
 * AS_PATH segments. Confederation segments come first, where RFC 5065 section 5 puts them; with
 * `leadingConfedOnly` false they may also follow other segments, which only a 4-octet session
 * carries faithfully (RFC 6793 4.2.3 keeps only leading ones).
 */
export function asPath(maxAsn: number, leadingConfedOnly: boolean): fc.Arbitrary<AsPathSegment[]> {
  const segment = (types: readonly AsPathSegment['type'][]): fc.Arbitrary<AsPathSegment> =>
    fc.record({ type: fc.constantFrom(...types), asns: fc.array(fc.nat({ max: maxAsn }), { minLength: 1, maxLength: 8 }) });
  const confedAsn = leadingConfedOnly ? 0xffff : maxAsn; // a 2-octet peer cannot learn 4-octet member ASNs
  const confed = fc.record({ type: fc.constantFrom('confed-sequence' as const, 'confed-set' as const), asns: fc.array(fc.nat({ max: confedAsn }), { minLength: 1, maxLength: 8 }) });
  if (!leadingConfedOnly) return fc.array(segment(['sequence', 'set', 'confed-sequence', 'confed-set']), { maxLength: 4 });
  return fc.tuple(fc.array(confed, { maxLength: 2 }), fc.array(segment(['sequence', 'set']), { maxLength: 3 })).map(([c, rest]) => [...c, ...rest]);
}

const mpReach: fc.Arbitrary<MpReachNlri> = fc.oneof(
  fc.record({ afi: fc.constant(1), safi: fc.constant(1), nextHop: ipv4, nlri: fc.array(prefix('ipv4'), { maxLength: 5 }) }),
  fc.record(
    { afi: fc.constant(2), safi: fc.constant(1), nextHop: ipv6, linkLocalNextHop: ipv6, nlri: fc.array(prefix('ipv6'), { maxLength: 5 }) },
    { requiredKeys: ['afi', 'safi', 'nextHop', 'nlri'] },
  ),
);

const mpUnreach: fc.Arbitrary<MpUnreachNlri> = fc.oneof(
  fc.record({ afi: fc.constant(1), safi: fc.constant(1), withdrawn: fc.array(prefix('ipv4'), { maxLength: 5 }) }),
  fc.record({ afi: fc.constant(2), safi: fc.constant(1), withdrawn: fc.array(prefix('ipv6'), { maxLength: 5 }) }),
  fc.record({ afi: fc.constant(25), safi: fc.constant(70), withdrawn: fc.constant([]) }),
);

const rawAttribute: fc.Arbitrary<RawAttribute> = fc.record({
  flags: fc.constantFrom(0x80, 0xc0, 0xe0),
  typeCode: u8.filter((t) => ![1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 17, 18, 32].includes(t)),
  value: bytes(300),
});

/** Path attributes; with `fourOctetAs` false, an AGGREGATOR only with a 4-octet ASN (a 2-octet one would make AS4_PATH stale, RFC 6793 4.2.3). */
export function attributes(fourOctetAs: boolean): fc.Arbitrary<PathAttributes> {
  return fc
    .record(
      {
        origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
        asPath: asPath(0xffffffff, !fourOctetAs),
        nextHop: ipv4,
        med: u32,
        localPref: u32,
        atomicAggregate: fc.constant(true as const),
        aggregator: fc.record({ asn: fourOctetAs ? u32 : fc.integer({ min: 0x10000, max: 0xffffffff }), address: ipv4 }),
        communities: fc.array(u32, { minLength: 1, maxLength: 6 }),
        largeCommunities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 4 }),
        mpReach,
        mpUnreach,
        // Unknown attributes come back in the order given, whatever their type codes.
        unknown: fc.uniqueArray(rawAttribute, { minLength: 1, maxLength: 4, selector: (a) => a.typeCode }),
      },
      { requiredKeys: [] },
    );
}

/** An UPDATE that decodes without RFC 7606 problems: announcements carry the mandatory attributes. */
export function update(fourOctetAs: boolean): fc.Arbitrary<BgpMessage> {
  return fc
    .record({ withdrawn: fc.array(prefix('ipv4'), { maxLength: 5 }), attributes: attributes(fourOctetAs), nlri: fc.array(prefix('ipv4'), { maxLength: 5 }) })
    .filter(({ attributes: a, nlri }) => {
      const announces = nlri.length > 0 || (a.mpReach?.nlri.length ?? 0) > 0;
      if (announces && (a.origin === undefined || a.asPath === undefined)) return false;
      return nlri.length === 0 || a.nextHop !== undefined;
    })
    .map((u): BgpMessage => ({ type: 'update', ...u }));
}

const notification: fc.Arbitrary<BgpMessage> = fc.oneof(
  fc.record({ type: fc.constant('notification' as const), code: u8.filter((c) => c !== 6), subcode: u8, data: bytes(40) }),
  fc.record({ type: fc.constant('notification' as const), code: fc.constant(6), subcode: u8.filter((s) => s !== 2 && s !== 4), data: bytes(40) }),
  fc.tuple(fc.constantFrom(2 as const, 4 as const), fc.string({ unit: 'grapheme', maxLength: 60 }).filter((t) => Buffer.byteLength(t) <= 255)).map(([s, t]) => shutdownNotification(s, t)),
);

/** Any message this codec can round-trip, for the given AS number size. */
export function message(fourOctetAs = true): fc.Arbitrary<BgpMessage> {
  return fc.oneof(
    open,
    update(fourOctetAs),
    notification,
    fc.constant({ type: 'keepalive' as const }),
    fc.record({ type: fc.constant('route-refresh' as const), afi: u16, safi: u8, subtype: u8 }),
  );
}
