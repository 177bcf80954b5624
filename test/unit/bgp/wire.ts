// Test helper: builds UPDATE bytes field by field, independently of the encoder under test.
import { Buffer } from 'node:buffer';
import { SegmentType, type AsPathSegment } from '../../../speakers/bgp/codec/as-path.js';

/** One path attribute: flags, type, 1- or 2-octet length, value (RFC 4271 section 4.3); `extended` forces the 2-octet length. */
export function attr(flags: number, typeCode: number, value: Buffer, extended = value.length > 255): Buffer {
  const head = extended ? Buffer.of(flags | 0x10, typeCode, value.length >> 8, value.length & 0xff) : Buffer.of(flags & ~0x10, typeCode, value.length);
  return Buffer.concat([head, value]);
}

/** AS_PATH or AS4_PATH segments with `size`-octet ASNs, written as given (RFC 4271 section 4.3). */
export function segments(list: readonly AsPathSegment[], size: 2 | 4): Buffer {
  return Buffer.concat(
    list.map((s) => {
      const b = Buffer.alloc(2 + size * s.asns.length);
      b[0] = SegmentType[s.type];
      b[1] = s.asns.length;
      s.asns.forEach((n, i) => (size === 4 ? b.writeUInt32BE(n, 2 + 4 * i) : b.writeUInt16BE(n, 2 + 2 * i)));
      return b;
    }),
  );
}

/** A whole UPDATE message around the given attribute, NLRI and withdrawn fields (RFC 4271 section 4.3). */
export function updateBytes(attributes: Buffer, nlri: Buffer = Buffer.alloc(0), withdrawn: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(19 + 4 + withdrawn.length + attributes.length + nlri.length, 0xff);
  out.writeUInt16BE(out.length, 16);
  out[18] = 2;
  out.writeUInt16BE(withdrawn.length, 19);
  withdrawn.copy(out, 21);
  out.writeUInt16BE(attributes.length, 21 + withdrawn.length);
  attributes.copy(out, 23 + withdrawn.length);
  nlri.copy(out, 23 + withdrawn.length + attributes.length);
  return out;
}

/** ORIGIN IGP, well-known transitive (RFC 4271 section 5.1.1). */
export const ORIGIN_IGP = attr(0x40, 1, Buffer.of(0));

/** NEXT_HOP 192.0.2.1 (RFC 4271 section 5.1.3). */
export const NEXT_HOP = attr(0x40, 3, Buffer.of(192, 0, 2, 1));

/** NLRI 192.0.2.0/24. */
export const NLRI_24 = Buffer.of(24, 192, 0, 2);
