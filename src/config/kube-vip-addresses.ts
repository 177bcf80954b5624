// The value of a `cidr-*` or `range-*` key of kube-vip-cloud-provider's ConfigMap: a
// comma-separated list of CIDRs or of first-last ranges, IPv4 and IPv6 mixed. Read as
// kube-vip-cloud-provider reads it: the entries of one value form one set of addresses
// (overlapping entries merge), handed out lowest address first.
import { familyBits, parseAddress, rangeToCidrs } from '../net/address.js';
import type { AddressRange } from '../net/address.js';
import { parsePoolAddress } from './pool-address.js';

/**
 * How a value's entries are written. kube-vip-cloud-provider goes by the text, not by the
 * key's name: a value containing "/" is a list of CIDRs, any other a list of ranges.
 */
export type AddressListForm = 'cidr' | 'range';

/** A read address list, or every problem with it (each quoting the offending text). */
export type AddressListResult =
  | {
      readonly ok: true;
      readonly form: AddressListForm;
      /** IPv4 then IPv6, each ascending, never overlapping or touching. */
      readonly ranges: readonly AddressRange[];
      /** Things written loosely that still have one meaning (host bits in a CIDR). */
      readonly notes: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/** kube-vip-cloud-provider's marker asking kube-vip to get each address by DHCP. */
const dhcpMarker = '0.0.0.0/32';

/**
 * Reads one address list. With `skipCidrEnds` (the ConfigMap's `skip-end-ips-in-cidr`),
 * the first and last address of each IPv4 prefix of a CIDR list are left out, except in
 * /31 and /32 prefixes, as kube-vip-cloud-provider does.
 */
export function readAddressList(value: string, skipCidrEnds: boolean): AddressListResult {
  if (value.trim() === '') return { ok: false, problems: ['the value is empty: write CIDRs or first-last ranges, separated by commas'] };
  const form: AddressListForm = value.includes('/') ? 'cidr' : 'range';
  const problems: string[] = [];
  const notes: string[] = [];
  const ranges: AddressRange[] = [];
  value.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    const problem = entryProblem(entry, index, form);
    if (problem !== undefined) {
      problems.push(problem);
      return;
    }
    const parsed = parsePoolAddress(entry);
    if (!parsed.ok) problems.push(parsed.problem);
    else {
      ranges.push(parsed.range);
      if (parsed.note !== undefined) notes.push(parsed.note);
    }
  });
  if (problems.length > 0) return { ok: false, problems };
  const merged = mergeRanges(ranges);
  return { ok: true, form, ranges: form === 'cidr' && skipCidrEnds ? merged.flatMap(withoutPrefixEnds) : merged, notes };
}

/** What stops an entry from being read in a list of this form, if anything. */
function entryProblem(entry: string, index: number, form: AddressListForm): string | undefined {
  if (entry === '') return `entry ${index + 1} is empty (two commas in a row, or one at an end)`;
  if (form === 'cidr') {
    if (entry === dhcpMarker) return `"${dhcpMarker}" asks kube-vip to get each address by DHCP, which vipcast does not do; list the addresses to hand out`;
    if (!entry.includes('/')) return `"${entry}" is not a CIDR, but other entries are: kube-vip-cloud-provider reads a value containing "/" as CIDRs only`;
    return undefined;
  }
  if (entry.includes('-')) return undefined;
  if (parseAddress(entry)) return `"${entry}" is a single address; in a list of ranges write it "${entry}-${entry}"`;
  return `"${entry}" is not a first-last range (10.0.0.10-10.0.0.20) or a CIDR (10.0.0.0/24)`;
}

/** The union of ranges: IPv4 then IPv6, ascending, overlapping and touching ranges joined. */
export function mergeRanges(ranges: readonly AddressRange[]): AddressRange[] {
  const order = (r: AddressRange): number => (r.family === 'IPv4' ? 0 : 1);
  const sorted = [...ranges].sort((a, b) => order(a) - order(b) || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: AddressRange[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && last.family === range.family && range.first <= last.last + 1n) {
      if (range.last > last.last) out[out.length - 1] = { ...last, last: range.last };
    } else out.push(range);
  }
  return out;
}

/**
 * A range without the first and last address of each IPv4 prefix it is made of (the
 * network and broadcast addresses), keeping /31 and /32 prefixes whole (RFC 3021).
 * IPv6 ranges are returned unchanged.
 */
function withoutPrefixEnds(range: AddressRange): AddressRange[] {
  if (range.family !== 'IPv4') return [range];
  return rangeToCidrs(range).map(({ address, prefixLength }) => {
    const first = address.value;
    const last = first + (1n << BigInt(familyBits('IPv4') - prefixLength)) - 1n;
    return prefixLength >= 31 ? { family: 'IPv4', first, last } : { family: 'IPv4', first: first + 1n, last: last - 1n };
  });
}
