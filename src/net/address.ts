// IP addresses as (family, bigint) values and ranges of them. Text is parsed and formatted by
// the one module for address text (speakers/common/ip-text.ts), so every program accepts the
// same spellings.
import { formatIpv6, tryParseIp } from '../../speakers/common/ip-text.js';

/** An address family, named as Kubernetes names it in `spec.ipFamilies`. */
export type Family = 'IPv4' | 'IPv6';

/** An IP address: its family and its value as an unsigned integer. */
export interface Address {
  readonly family: Family;
  readonly value: bigint;
}

/** An inclusive range of addresses of one family, first ≤ last. */
export interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

/** Number of bits in an address of the family. */
export function familyBits(family: Family): number {
  return family === 'IPv4' ? 32 : 128;
}

/** Parses a dotted-quad IPv4 or an IPv6 address (no zone, no prefix), or returns undefined. */
export function parseAddress(text: string): Address | undefined {
  const bytes = tryParseIp(text);
  if (bytes === undefined) return undefined;
  return bytes.length === 4 ? { family: 'IPv4', value: BigInt(bytes.readUInt32BE(0)) } : { family: 'IPv6', value: (bytes.readBigUInt64BE(0) << 64n) | bytes.readBigUInt64BE(8) };
}

/** Formats an address in its canonical text form (RFC 5952 for IPv6). */
export function formatAddress(address: Address): string {
  return address.family === 'IPv4' ? formatIPv4(address.value) : formatIPv6(address.value);
}

function formatIPv4(value: bigint): string {
  const n = Number(value);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function formatIPv6(value: bigint): string {
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64BE(value >> 64n, 0);
  bytes.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, 8);
  return formatIpv6(bytes);
}

/** The canonical text form of an address given as text, or undefined if it does not parse. */
export function canonicalAddress(text: string): string | undefined {
  const address = parseAddress(text.trim());
  return address && formatAddress(address);
}

/** The number of addresses in a range. */
export function rangeSize(range: AddressRange): bigint {
  return range.last - range.first + 1n;
}

/** Whether two ranges share at least one address. */
export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** Whether an address lies inside a range. */
export function rangeContains(range: AddressRange, address: Address): boolean {
  return range.family === address.family && range.first <= address.value && address.value <= range.last;
}

/** The smallest list of CIDR prefixes that covers a range exactly, in address order. */
export function rangeToCidrs(range: AddressRange): { address: Address; prefixLength: number }[] {
  const bits = familyBits(range.family);
  const out: { address: Address; prefixLength: number }[] = [];
  let first = range.first;
  while (first <= range.last) {
    // Largest block aligned at `first` that does not run past `last`.
    let size = 0;
    while (size < bits && (first & ((1n << BigInt(size + 1)) - 1n)) === 0n && first + (1n << BigInt(size + 1)) - 1n <= range.last) {
      size++;
    }
    out.push({ address: { family: range.family, value: first }, prefixLength: bits - size });
    first += 1n << BigInt(size);
  }
  return out;
}

/** Formats a range as a CIDR when it is exactly one prefix, otherwise as "first-last". */
export function formatRange(range: AddressRange): string {
  const cidrs = rangeToCidrs(range);
  const only = cidrs.length === 1 ? cidrs[0] : undefined;
  if (only) return `${formatAddress(only.address)}/${only.prefixLength}`;
  return `${formatAddress({ family: range.family, value: range.first })}-${formatAddress({ family: range.family, value: range.last })}`;
}
