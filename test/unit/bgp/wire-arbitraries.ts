// fast-check generators of raw message bytes, built field by field as other speakers might send
// them (any attribute order, needless extended lengths, long AS_TRANS paths, stale AS4_PATHs),
// to check what the decoder accepts rather than what the encoder produces.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { AsPathSegment } from '../../../speakers/bgp/codec/as-path.js';
import type { CodecOptions } from '../../../speakers/bgp/codec/options.js';
import { AS_TRANS } from '../../../speakers/bgp/codec/open.js';
import { allFixtures } from './fixtures.js';
import { attr, segments, updateBytes } from './wire.js';

/** Makes fast-check print a long counterexample as its length and first octets, not every byte. */
function brief(b: Buffer): Buffer {
  if (b.length <= 64) return b;
  return Object.assign(b, { [fc.toStringMethod]: () => `<${b.length} octets: ${b.subarray(0, 48).toString('hex')}…>` });
}

const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const u32 = fc.nat({ max: 0xffffffff });

/** Session options: AS number size, iBGP or eBGP, and plain or RFC 8654 extended message length. */
export const sessionArb: fc.Arbitrary<CodecOptions> = fc.record({
  fourOctetAs: fc.boolean(),
  external: fc.boolean(),
  maxMessageLength: fc.constantFrom(4096, 65535),
});

/** A segment's ASNs the way paths through old speakers look: AS_TRANS, private ASNs, or any, by position. */
function fillAsns(n: number, seed: number, size: 2 | 4): number[] {
  return Array.from({ length: n }, (_, i) => {
    const x = Math.imul(seed ^ (i * 0x9e3779b1), 0x85ebca6b) >>> 0;
    if (x % 3 === 0) return AS_TRANS;
    if (x % 3 === 1) return 64512 + (x % 1023);
    return size === 4 ? x : x & 0xffff;
  });
}

/** AS_PATH segments of any type, short or close to the 255-ASN limit. */
function pathArb(size: 2 | 4): fc.Arbitrary<AsPathSegment[]> {
  const length = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 200, max: 255 }));
  const type = fc.constantFrom('sequence' as const, 'sequence' as const, 'set' as const, 'confed-sequence' as const, 'confed-set' as const);
  const segment = fc.tuple(type, length, fc.nat()).map(([t, n, seed]) => ({ type: t, asns: fillAsns(n, seed, size) }));
  return fc.array(segment, { maxLength: 3 });
}

/** One attribute's bytes, right or subtly wrong, with the Extended Length bit set needlessly at times. */
function attributeArb(four: boolean): fc.Arbitrary<Buffer> {
  const value: fc.Arbitrary<[number, number, Buffer]> = fc.oneof(
    fc.constantFrom(0, 1, 2, 3).map((o): [number, number, Buffer] => [0x40, 1, Buffer.of(o)]),
    pathArb(four ? 4 : 2).map((p): [number, number, Buffer] => [0x40, 2, segments(p, four ? 4 : 2)]),
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a): [number, number, Buffer] => [0x40, 3, Buffer.from(a)]),
    u32.map((n): [number, number, Buffer] => [0x80, 4, Buffer.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)]),
    fc.constant<[number, number, Buffer]>([0x40, 5, Buffer.of(0, 0, 0, 100)]),
    fc.constant<[number, number, Buffer]>([0x40, 6, Buffer.alloc(0)]),
    fc.tuple(fc.constantFrom(AS_TRANS, 65001), fc.boolean()).map(([a, wide]): [number, number, Buffer] => {
      const v = Buffer.alloc(four || wide ? 8 : 6);
      if (v.length === 8) v.writeUInt32BE(a, 0);
      else v.writeUInt16BE(a, 0);
      v.set([192, 0, 2, 9], v.length - 4);
      return [0xc0, 7, v];
    }),
    fc.array(u32, { minLength: 1, maxLength: 4 }).map((cs): [number, number, Buffer] => [0xc0, 8, Buffer.concat(cs.map((c) => Buffer.of(c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff)))]),
    pathArb(4).map((p): [number, number, Buffer] => [0xc0, 17, segments(p, 4)]),
    u32.map((a): [number, number, Buffer] => [0xc0, 18, Buffer.of(a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff, 192, 0, 2, 10)]),
    fc.array(u32, { minLength: 3, maxLength: 6 }).map((w): [number, number, Buffer] => [0xc0, 32, Buffer.concat(w.slice(0, 3).map((c) => Buffer.of(c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff)))]),
    fc.tuple(fc.constantFrom(1, 2), fc.nat({ max: 3 })).map(([afi, n]): [number, number, Buffer] => {
      const hop = afi === 1 ? Buffer.of(4, 10, 0, 0, 1) : Buffer.concat([Buffer.of(16), Buffer.alloc(16, 0x20)]);
      const nlri = Buffer.concat(Array.from({ length: n }, (_, i) => Buffer.of(24, 10, i, 0)));
      return [0x80, 14, Buffer.concat([Buffer.of(0, afi, 1), hop, Buffer.of(0), afi === 1 ? nlri : Buffer.alloc(0)])];
    }),
    fc.constantFrom(1, 2, 25).map((afi): [number, number, Buffer] => [0x80, 15, Buffer.of(0, afi, afi === 25 ? 70 : 1)]),
    fc
      .tuple(fc.constantFrom(0x80, 0xc0, 0xe0), fc.integer({ min: 33, max: 255 }), bytes(40))
      .filter(([, t]) => t !== 32)
      .map(([f, t, v]): [number, number, Buffer] => [f, t, v]),
  );
  return fc.tuple(value, fc.boolean(), fc.nat({ max: 19 })).map(([[flags, type, v], extended, mangle]) => {
    const f = mangle === 0 ? flags ^ 0x40 : flags; // now and then a flags error (RFC 7606 3(c))
    return attr(f, type, v, extended || v.length > 255);
  });
}

/** A whole UPDATE built from generated attributes in any order, with or without NLRI, for a session. */
export function updateWireArb(session: CodecOptions): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.array(attributeArb(session.fourOctetAs ?? true), { maxLength: 9 }), fc.nat({ max: 3 }), fc.nat({ max: 2 }))
    .map(([attrs, n, w]) =>
      brief(
        updateBytes(
          Buffer.concat(attrs),
          Buffer.concat(Array.from({ length: n }, (_, i) => Buffer.of(24, 198, 51, i))),
          Buffer.concat(Array.from({ length: w }, (_, i) => Buffer.of(16, 10, i))),
        ),
      ),
    );
}

/** A message of any type with a random body behind a valid header, up to the session's length. */
export function randomBodyArb(session: CodecOptions): fc.Arbitrary<Buffer> {
  const max = (session.maxMessageLength ?? 4096) - 19;
  const near = fc.integer({ min: -30, max: 30 }).map((d) => Buffer.alloc(Math.max(0, max + d), 0x5a)); // around the length limit
  return fc.tuple(fc.integer({ min: 1, max: 5 }), fc.oneof(bytes(64), near)).map(([type, body]) => {
    const b = Buffer.alloc(19 + body.length, 0xff);
    b.writeUInt16BE(Math.min(b.length, 0xffff), 16);
    b[18] = type;
    body.copy(b, 19);
    return brief(b);
  });
}

/** A captured fixture with a few bytes after the marker changed or cut, length field fixed up or not. */
export const mutatedFixtureArb: fc.Arbitrary<Buffer> = fc
  .tuple(fc.constantFrom(...allFixtures.map((f) => f.bytes)), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean())
  .map(([seed, edits, cut, fix]) => {
    const b = Buffer.from(seed.subarray(0, Math.max(19, seed.length - (cut % 8))));
    for (const [at, v] of edits) b[16 + (at % (b.length - 16))] = v;
    if (fix) b.writeUInt16BE(b.length, 16);
    return brief(b);
  });
