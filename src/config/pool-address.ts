// One entry of a pool's `addresses`: a CIDR (`10.0.0.0/24`) or an inclusive range
// (`10.0.0.10-10.0.0.20`), IPv4 or IPv6.
import { familyBits, formatAddress, parseAddress } from '../net/address.js';
import type { AddressRange } from '../net/address.js';

/** A parsed pool entry, a note to show the user if it was written loosely, or a problem. */
export type PoolAddressResult =
  | { readonly ok: true; readonly range: AddressRange; readonly note: string | undefined }
  | { readonly ok: false; readonly problem: string };

/** Parses one pool entry. */
export function parsePoolAddress(text: string): PoolAddressResult {
  const written = text.trim();
  if (written.includes('/')) return parseCidr(written);
  if (written.includes('-')) return parseRange(written);
  const address = parseAddress(written);
  if (address) {
    const suggestion = `${formatAddress(address)}/${familyBits(address.family)}`;
    return { ok: false, problem: `"${written}" is a single address, not a CIDR or range; write "${suggestion}" for just this address` };
  }
  return { ok: false, problem: `"${written}" is not a CIDR (10.0.0.0/24) or a range (10.0.0.10-10.0.0.20)` };
}

function parseCidr(text: string): PoolAddressResult {
  const [addressText = '', lengthText = '', ...extra] = text.split('/');
  const address = parseAddress(addressText);
  if (!address || extra.length > 0) return { ok: false, problem: `"${text}" is not a valid CIDR: "${addressText}" is not an IP address` };
  const bits = familyBits(address.family);
  if (!/^[0-9]{1,3}$/.test(lengthText) || Number(lengthText) > bits) {
    return { ok: false, problem: `"${text}" is not a valid CIDR: the prefix length must be 0 to ${bits}` };
  }
  const hostBits = BigInt(bits - Number(lengthText));
  const first = (address.value >> hostBits) << hostBits;
  const last = first + (1n << hostBits) - 1n;
  const range: AddressRange = { family: address.family, first, last };
  const note =
    first === address.value
      ? undefined
      : `"${text}" has host bits set; it means ${formatAddress({ family: address.family, value: first })}/${lengthText}`;
  return { ok: true, range, note };
}

function parseRange(text: string): PoolAddressResult {
  const dash = text.indexOf('-');
  const firstText = text.slice(0, dash).trim();
  const lastText = text.slice(dash + 1).trim();
  const first = parseAddress(firstText);
  const last = parseAddress(lastText);
  if (!first || !last) {
    const bad = first ? lastText : firstText;
    return { ok: false, problem: `"${text}" is not a valid range: "${bad}" is not an IP address` };
  }
  if (first.family !== last.family) {
    return { ok: false, problem: `"${text}" mixes IPv4 and IPv6; a range must stay within one family` };
  }
  if (first.value > last.value) {
    return { ok: false, problem: `"${text}" is a reversed range (the first address is above the last)` };
  }
  return { ok: true, range: { family: first.family, first: first.value, last: last.value }, note: undefined };
}

/** How many IPv4 addresses of a range end in .0 or .255 (which avoid-buggy-ips skips). */
export function buggyAddressCount(range: AddressRange): bigint {
  if (range.family !== 'IPv4') return 0n;
  // Count values ≡ r (mod 256) in [first, last] for r = 0 and r = 255.
  const upTo = (n: bigint, r: bigint): bigint => (n < r ? 0n : (n - r) / 256n + 1n);
  const count = (r: bigint): bigint => upTo(range.last, r) - (range.first === 0n ? 0n : upTo(range.first - 1n, r));
  return count(0n) + count(255n);
}

/** Whether an IPv4 address ends in .0 or .255. */
export function isBuggyAddress(family: AddressRange['family'], value: bigint): boolean {
  if (family !== 'IPv4') return false;
  const low = value & 0xffn;
  return low === 0n || low === 255n;
}
