import { Buffer } from 'node:buffer';
import { BgpDecodeError, BgpEncodeError, ErrorCode, UpdateError } from './errors.js';
import { formatIpv4, formatIpv6 } from '../../common/ip-text.js';
import { familyAddressBytes } from './ip.js';
import { decodePrefixes, encodePrefixes, familyOf, type Prefix } from './prefix.js';
import { Reader } from './reader.js';

/** MP_REACH_NLRI for IPv4 or IPv6 unicast (RFC 4760 section 3; 32-byte next hop from RFC 2545 section 3). */
export interface MpReachNlri {
  /** Address Family Identifier: 1 IPv4, 2 IPv6. */
  readonly afi: number;
  /** Subsequent Address Family Identifier: 1 unicast. */
  readonly safi: number;
  /** Next hop: IPv4 for a 4-byte field, else the IPv6 global address (RFC 2545 section 3, RFC 8950). */
  readonly nextHop: string;
  /** IPv6 link-local next hop, present when the next hop field is 32 bytes (RFC 2545 section 3). */
  readonly linkLocalNextHop?: string;
  /** Reachable prefixes, all of the AFI's family. */
  readonly nlri: readonly Prefix[];
}

/** MP_UNREACH_NLRI; `withdrawn` may be non-empty only for IPv4/IPv6 unicast (RFC 4760 section 4). */
export interface MpUnreachNlri {
  /** Address Family Identifier. */
  readonly afi: number;
  /** Subsequent Address Family Identifier. */
  readonly safi: number;
  /** Withdrawn prefixes; empty in an End-of-RIB marker (RFC 4724 section 2). */
  readonly withdrawn: readonly Prefix[];
}

function mpError(why: string, attribute: Uint8Array): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.UpdateMessage, UpdateError.OptionalAttributeError, why, attribute);
}

/**
 * Decodes an MP_REACH_NLRI value, or returns undefined for an AFI/SAFI this codec does not
 * know; malformed ones are a session reset with Optional Attribute Error (RFC 4760 7, RFC 7606 7.11).
 */
export function decodeMpReach(value: Buffer, attribute: Buffer): MpReachNlri | undefined {
  const fail = (why: string): BgpDecodeError => mpError(`malformed MP_REACH_NLRI: ${why}`, attribute);
  const r = new Reader(value, () => fail('truncated'));
  const afi = r.u16();
  const safi = r.u8();
  const family = familyOf(afi, safi);
  if (!family) return undefined;
  const nhLen = r.u8();
  const nh = r.bytes(nhLen);
  r.u8(); // Reserved (RFC 4760 section 3), ignored.
  let hop: Pick<MpReachNlri, 'nextHop' | 'linkLocalNextHop'>;
  if (nhLen === 4 && family === 'ipv4') hop = { nextHop: formatIpv4(nh) };
  else if (nhLen === 16) hop = { nextHop: formatIpv6(nh) };
  else if (nhLen === 32) hop = { nextHop: formatIpv6(nh.subarray(0, 16)), linkLocalNextHop: formatIpv6(nh.subarray(16)) };
  else throw fail(`next hop length ${nhLen} for AFI ${afi}`);
  const nlri = decodePrefixes(r, family, fail);
  return { afi, safi, ...hop, nlri };
}

/**
 * Decodes an MP_UNREACH_NLRI value, or returns undefined for an unknown AFI/SAFI with
 * prefixes; malformed ones are a session reset (RFC 4760 section 4 and 7, RFC 7606 section 7.11).
 */
export function decodeMpUnreach(value: Buffer, attribute: Buffer): MpUnreachNlri | undefined {
  const fail = (why: string): BgpDecodeError => mpError(`malformed MP_UNREACH_NLRI: ${why}`, attribute);
  const r = new Reader(value, () => fail('truncated'));
  const afi = r.u16();
  const safi = r.u8();
  const family = familyOf(afi, safi);
  if (!family) return r.remaining === 0 ? { afi, safi, withdrawn: [] } : undefined;
  return { afi, safi, withdrawn: decodePrefixes(r, family, fail) };
}

function afiSafi(afi: number, safi: number): Buffer {
  if (!Number.isInteger(afi) || afi < 0 || afi > 0xffff || !Number.isInteger(safi) || safi < 0 || safi > 0xff) {
    throw new BgpEncodeError(`bad AFI/SAFI ${afi}/${safi}`);
  }
  const out = Buffer.alloc(3);
  out.writeUInt16BE(afi, 0);
  out[2] = safi;
  return out;
}

/** Encodes an MP_REACH_NLRI value for IPv4 or IPv6 unicast (RFC 4760 section 3, RFC 2545 section 3). */
export function encodeMpReach(mp: MpReachNlri): Buffer {
  const family = familyOf(mp.afi, mp.safi);
  if (!family) throw new BgpEncodeError(`MP_REACH_NLRI for AFI/SAFI ${mp.afi}/${mp.safi} is not supported`);
  const v4Hop = family === 'ipv4' && !mp.nextHop.includes(':');
  if (v4Hop && mp.linkLocalNextHop !== undefined) throw new BgpEncodeError('a link-local next hop needs an IPv6 next hop');
  const hops = v4Hop
    ? [familyAddressBytes('ipv4', mp.nextHop)]
    : [familyAddressBytes('ipv6', mp.nextHop), ...(mp.linkLocalNextHop === undefined ? [] : [familyAddressBytes('ipv6', mp.linkLocalNextHop)])];
  const nh = Buffer.concat(hops);
  return Buffer.concat([afiSafi(mp.afi, mp.safi), Buffer.of(nh.length), nh, Buffer.of(0), encodePrefixes(mp.nlri, family)]);
}

/** Encodes an MP_UNREACH_NLRI value; prefixes only for IPv4/IPv6 unicast (RFC 4760 section 4). */
export function encodeMpUnreach(mp: MpUnreachNlri): Buffer {
  const family = familyOf(mp.afi, mp.safi);
  if (!family && mp.withdrawn.length > 0) throw new BgpEncodeError(`MP_UNREACH_NLRI prefixes for AFI/SAFI ${mp.afi}/${mp.safi} are not supported`);
  return Buffer.concat([afiSafi(mp.afi, mp.safi), family ? encodePrefixes(mp.withdrawn, family) : Buffer.alloc(0)]);
}
