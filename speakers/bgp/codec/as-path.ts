import { Buffer } from 'node:buffer';
import { BgpEncodeError } from './errors.js';
import { AS_TRANS } from './open.js';

/** AS_PATH segment types (RFC 4271 section 4.3; confederation types from RFC 5065 section 3). */
export const SegmentType = { set: 1, sequence: 2, 'confed-sequence': 3, 'confed-set': 4 } as const;

/** One AS_PATH segment (RFC 4271 section 4.3, RFC 5065 section 3). */
export interface AsPathSegment {
  /** Segment kind: an ordered sequence or an unordered set, possibly of confederation members. */
  readonly type: keyof typeof SegmentType;
  /** The ASNs in the segment, 1..255 of them, each a uint32. */
  readonly asns: readonly number[];
}

const TYPE_NAMES: Readonly<Record<number, AsPathSegment['type']>> = { 1: 'set', 2: 'sequence', 3: 'confed-sequence', 4: 'confed-set' };

/**
 * Parses AS_PATH (or AS4_PATH) segments with `asSize`-octet ASNs, returning a reason string
 * when malformed: unknown segment type, empty segment, overrun or underrun (RFC 7606 section 7.2).
 */
export function decodeAsPath(value: Buffer, asSize: 2 | 4): AsPathSegment[] | string {
  const out: AsPathSegment[] = [];
  let i = 0;
  while (i < value.length) {
    if (value.length - i < 2) return 'AS_PATH segment header is cut short';
    const type = TYPE_NAMES[value[i] ?? 0];
    const count = value[i + 1] ?? 0;
    if (!type) return `unknown AS_PATH segment type ${value[i]}`;
    if (count === 0) return 'empty AS_PATH segment';
    i += 2;
    if (value.length - i < count * asSize) return 'AS_PATH segment runs past the attribute';
    const asns: number[] = [];
    for (let k = 0; k < count; k += 1, i += asSize) asns.push(asSize === 4 ? value.readUInt32BE(i) : value.readUInt16BE(i));
    out.push({ type, asns });
  }
  return out;
}

/** Encodes AS_PATH segments; with 2-octet ASNs, larger ones become AS_TRANS (RFC 4271 4.3, RFC 6793 4.2.2). */
export function encodeAsPath(segments: readonly AsPathSegment[], asSize: 2 | 4): Buffer {
  const parts: Buffer[] = [];
  for (const s of segments) {
    if (s.asns.length < 1 || s.asns.length > 255) throw new BgpEncodeError(`AS_PATH segment must hold 1..255 ASNs, not ${s.asns.length}`);
    const out = Buffer.alloc(2 + s.asns.length * asSize);
    out[0] = SegmentType[s.type];
    out[1] = s.asns.length;
    s.asns.forEach((asn, k) => {
      if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) throw new BgpEncodeError(`ASN ${asn} out of range`);
      if (asSize === 4) out.writeUInt32BE(asn, 2 + 4 * k);
      else out.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, 2 + 2 * k);
    });
    parts.push(out);
  }
  return Buffer.concat(parts);
}

/** Counts path length the RFC 4271 9.1.2.2 way: a set counts one, confederation segments none (RFC 6793 4.2.3). */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 'sequence') n += s.asns.length;
    else if (s.type === 'set') n += 1;
  }
  return n;
}

/** True if any ASN in the path needs 4 octets, so a 2-octet peer also needs AS4_PATH (RFC 6793 section 4.2.2). */
export function needsAs4Path(segments: readonly AsPathSegment[]): boolean {
  return segments.some((s) => s.asns.some((a) => a > 0xffff));
}

/**
 * Rebuilds the real path from a 2-octet AS_PATH and an AS4_PATH: keep the leading part of
 * AS_PATH that AS4_PATH does not cover, then AS4_PATH; ignore AS4_PATH if it is longer (RFC 6793 4.2.3).
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const as4 = as4Path.filter((s) => s.type === 'sequence' || s.type === 'set');
  let keep = asPathLength(asPath) - asPathLength(as4);
  if (keep < 0) return [...asPath];
  const lead: AsPathSegment[] = [];
  for (const s of asPath) {
    if (keep === 0 && s.type !== 'confed-sequence' && s.type !== 'confed-set') break;
    if (s.type === 'sequence') {
      const take = Math.min(keep, s.asns.length);
      if (take > 0) lead.push({ type: s.type, asns: s.asns.slice(0, take) });
      keep -= take;
    } else if (s.type === 'set') {
      lead.push(s);
      keep -= 1;
    } else {
      lead.push(s);
    }
  }
  // Only the seam between the kept lead and AS4_PATH is joined, so a split sequence becomes whole again.
  const first = as4[0];
  const last = lead[lead.length - 1];
  if (first && last && last.type === 'sequence' && first.type === 'sequence' && last.asns.length + first.asns.length <= 255) {
    return [...lead.slice(0, -1), { type: 'sequence', asns: [...last.asns, ...first.asns] }, ...as4.slice(1)];
  }
  const merged = [...lead, ...as4];
  return merged;
}
