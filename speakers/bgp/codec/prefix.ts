import { Buffer } from 'node:buffer';
import { BgpEncodeError, type BgpDecodeError } from './errors.js';
import { formatIpv4, formatIpv6, writeIpv4 } from '../../common/ip-text.js';
import { familyAddressBytes } from './ip.js';
import type { Reader } from './reader.js';

/** Address Family Identifiers used here (RFC 4760 section 8, IANA registry). */
export const Afi = { IPv4: 1, IPv6: 2 } as const;

/** Subsequent Address Family Identifiers used here (RFC 4760 section 8). */
export const Safi = { Unicast: 1 } as const;

/** The two address families a prefix can belong to (RFC 4760 section 5). */
export type AddressFamily = 'ipv4' | 'ipv6';

/** An IP prefix as carried in NLRI (RFC 4271 section 4.3); host bits are always zero. */
export interface Prefix {
  /** Which family the address belongs to. */
  readonly family: AddressFamily;
  /** The network address in canonical text form (dotted quad, or RFC 5952 for IPv6). */
  readonly address: string;
  /** Prefix length in bits: 0..32 for IPv4, 0..128 for IPv6. */
  readonly length: number;
}

/** Returns the family of an AFI/SAFI pair this codec decodes NLRI for, if any (RFC 4760 section 5). */
export function familyOf(afi: number, safi: number): AddressFamily | undefined {
  if (safi !== Safi.Unicast) return undefined;
  if (afi === Afi.IPv4) return 'ipv4';
  if (afi === Afi.IPv6) return 'ipv6';
  return undefined;
}

/** Encodes prefixes as length-and-prefix tuples, host bits cleared (RFC 4271 4.3, RFC 4760 5). */
export function encodePrefixes(prefixes: readonly Prefix[], family: AddressFamily): Buffer {
  const max = family === 'ipv4' ? 32 : 128;
  let total = 0;
  for (const p of prefixes) {
    if (p.family !== family) throw new BgpEncodeError(`${p.family} prefix in an ${family} NLRI field`);
    if (!Number.isInteger(p.length) || p.length < 0 || p.length > max) {
      throw new BgpEncodeError(`bad prefix length ${p.length} for ${family}`);
    }
    total += 1 + Math.ceil(p.length / 8);
  }
  // One buffer for the whole field: UPDATEs carry hundreds of prefixes.
  const out = Buffer.alloc(total);
  let at = 0;
  for (const p of prefixes) {
    const n = Math.ceil(p.length / 8);
    out[at] = p.length;
    if (family !== 'ipv4' || !writeIpv4(p.address, out, at + 1, n)) familyAddressBytes(family, p.address).copy(out, at + 1, 0, n);
    if (p.length % 8 !== 0) out[at + n] = (out[at + n] ?? 0) & (0xff << (8 - (p.length % 8)));
    at += 1 + n;
  }
  return out;
}

/** Decodes length-and-prefix tuples until the reader is empty (RFC 4271 4.3, RFC 4760 5). */
export function decodePrefixes(r: Reader, family: AddressFamily, fail: (why: string) => BgpDecodeError): Prefix[] {
  const max = family === 'ipv4' ? 32 : 128;
  const out: Prefix[] = [];
  while (r.remaining > 0) {
    const length = r.u8();
    if (length > max) throw fail(`prefix length ${length} exceeds ${max}`);
    const n = Math.ceil(length / 8);
    if (n > r.remaining) throw fail(`prefix of length ${length} runs past the end of its field`);
    const addr = Buffer.alloc(max / 8);
    r.bytes(n).copy(addr);
    if (length % 8 !== 0) addr[n - 1] = (addr[n - 1] ?? 0) & (0xff << (8 - (length % 8)));
    out.push({ family, address: family === 'ipv4' ? formatIpv4(addr) : formatIpv6(addr), length });
  }
  return out;
}
