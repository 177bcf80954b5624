// Which addresses a layer-2 speaker may announce, in the canonical text form the codecs use
// (dotted quad; RFC 5952 for IPv6), so that "2001:DB8::0:1" and "2001:db8::1" are one VIP.
import { formatIpv4, formatIpv6, tryParseIpv4, tryParseIpv6 } from '../common/ip-text.js';

/** A VIP in canonical text with its address family. */
export interface Vip {
  /** 4 for ARP (RFC 826), 6 for Neighbor Discovery (RFC 4861). */
  readonly family: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 section 4 for IPv6. */
  readonly address: string;
}

/**
 * Parses a VIP and refuses addresses no host may answer for on a link: unspecified,
 * loopback, multicast, limited broadcast (RFC 1122 3.2.1.3, RFC 4291 2.5.2, 2.5.3, 2.7)
 * and, for IPv4, "this network" 0/8 and the class E block; throws RangeError with the reason.
 */
export function parseVip(text: string): Vip {
  const v4 = tryParseIpv4(text.trim());
  if (v4) {
    const address = formatIpv4(v4);
    const first = v4[0] ?? 0;
    if (first === 0) throw new RangeError(`${address} is in 0.0.0.0/8 ("this network"), not a unicast address`);
    if (first === 127) throw new RangeError(`${address} is a loopback address`);
    if (first >= 224 && first < 240) throw new RangeError(`${address} is a multicast address`);
    if (first >= 240) throw new RangeError(`${address} is reserved or broadcast, not a unicast address`);
    return { family: 4, address };
  }
  const v6 = tryParseIpv6(text.trim());
  if (v6) {
    const address = formatIpv6(v6);
    if (v6[0] === 0xff) throw new RangeError(`${address} is a multicast address`);
    if (address === '::') throw new RangeError(':: is the unspecified address');
    if (address === '::1') throw new RangeError('::1 is the loopback address');
    return { family: 6, address };
  }
  throw new RangeError(`not an IPv4 or IPv6 address: ${JSON.stringify(text)}`);
}
