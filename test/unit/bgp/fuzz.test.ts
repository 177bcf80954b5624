import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BgpDecodeError } from '../../../speakers/bgp/codec/errors.js';
import { Framer, type FramerResult } from '../../../speakers/bgp/codec/framer.js';
import { decodeHeader } from '../../../speakers/bgp/codec/header.js';
import { decodeMessage, type BgpMessage } from '../../../speakers/bgp/codec/message.js';
import { allFixtures } from './fixtures.js';

/** Decodes and returns 'message' or 'error'; any other exception fails the test. */
function outcome(buf: Buffer, fourOctetAs: boolean): 'message' | 'error' {
  try {
    decodeMessage(buf, { fourOctetAs, external: true });
    return 'message';
  } catch (e) {
    if (e instanceof BgpDecodeError) return 'error';
    throw e;
  }
}

/** Deterministic xorshift PRNG so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function withHeader(body: Buffer, type: number): Buffer {
  const b = Buffer.alloc(19 + body.length, 0xff);
  b.writeUInt16BE(b.length, 16);
  b[18] = type;
  body.copy(b, 19);
  return b;
}

describe('random and mutated input only ever gives a message or a BgpDecodeError', () => {
  // The time limit only guards against a hang; how fast decoding is belongs to the bench, not here.
  it('survives 120k inputs: random bodies, bit flips, truncation and corrupted lengths', () => {
    const next = rng(7606);
    const seeds = allFixtures.map((f) => f.bytes);
    const counts = { message: 0, error: 0 };
    for (let i = 0; i < 120_000; i += 1) {
      let buf: Buffer;
      const seed = seeds[next() % seeds.length] ?? Buffer.alloc(19);
      switch (i % 6) {
        case 0: {
          // Random body behind a valid header of a random known type.
          const body = Buffer.alloc(next() % 120);
          for (let k = 0; k < body.length; k += 1) body[k] = next() & 0xff;
          buf = withHeader(body, 1 + (next() % 5));
          break;
        }
        case 1: {
          // Completely random bytes.
          buf = Buffer.alloc(next() % 64);
          for (let k = 0; k < buf.length; k += 1) buf[k] = next() & 0xff;
          break;
        }
        case 2:
        case 3: {
          // A fixture with 1-4 bits flipped after the marker.
          buf = Buffer.from(seed);
          for (let n = 1 + (next() % 4); n > 0; n -= 1) {
            const at = 16 + (next() % (buf.length - 16));
            buf[at] = (buf[at] ?? 0) ^ (1 << (next() % 8));
          }
          break;
        }
        case 4: {
          // A truncated fixture, with the length field either left alone or fixed up to match.
          buf = Buffer.from(seed.subarray(0, next() % (seed.length + 1)));
          if (buf.length >= 19 && next() % 2 === 0) buf.writeUInt16BE(buf.length, 16);
          break;
        }
        default: {
          // A fixture with one inner length octet (or the header length) overwritten.
          buf = Buffer.from(seed);
          const at = next() % 2 === 0 ? 17 : 19 + (next() % Math.max(1, buf.length - 19));
          if (at < buf.length) buf[at] = next() & 0xff;
          if (at !== 17 && next() % 2 === 0) buf.writeUInt16BE(buf.length, 16);
        }
      }
      counts[outcome(buf, next() % 4 !== 0)] += 1;
    }
    // outcome() fails the test on any exception but a BgpDecodeError. Both outcomes occur often,
    // so the mutations really reach the body decoders rather than all dying in the header check.
    expect(counts.message).toBeGreaterThan(10_000);
    expect(counts.error).toBeGreaterThan(10_000);
  }, 120_000);

  it('splits random chunked, corrupted streams exactly as decoding message by message does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...allFixtures.map((f) => f.bytes))),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 }))),
        fc.array(fc.nat({ max: 50 }), { minLength: 1 }),
        (msgs, flips, sizes) => {
          const stream = Buffer.concat(msgs);
          for (const [at, v] of flips) if (stream.length > 0) stream[at % stream.length] = v;
          const f = new Framer();
          const got: Summary[] = [];
          let off = 0;
          let k = 0;
          while (off < stream.length) {
            const n = Math.max(1, sizes[k++ % sizes.length] ?? 1);
            for (const r of f.push(stream.subarray(off, off + n))) got.push(summary(r));
            off += n;
          }
          expect(got).toEqual(oneByOne(stream));
          expect(f.failed).toBe(got.some((r) => !r.ok));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

type Summary = { ok: true; message: BgpMessage } | { ok: false; code: number; subcode: number };

function summary(r: FramerResult): Summary {
  return r.ok ? r : { ok: false, code: r.error.code, subcode: r.error.subcode };
}

/** What a framer must yield: each whole message decoded on its own, up to and including the first error. */
function oneByOne(stream: Buffer): Summary[] {
  const out: Summary[] = [];
  for (let off = 0; stream.length - off >= 19; ) {
    let length: number;
    try {
      length = decodeHeader(stream.subarray(off)).length;
      if (stream.length - off < length) break;
      out.push({ ok: true, message: decodeMessage(stream.subarray(off, off + length)) });
    } catch (e) {
      if (!(e instanceof BgpDecodeError)) throw e;
      out.push({ ok: false, code: e.code, subcode: e.subcode });
      break;
    }
    off += length;
  }
  return out;
}
