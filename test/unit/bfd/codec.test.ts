// BFD Control packets: whatever the decoder accepts re-encodes and round-trips; anything else
// is a BfdDecodeError naming the rule (RFC 5880 section 6.8.6), never another exception.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BFD_CONTROL_LENGTH, BfdDecodeError, decodeBfdControl, encodeBfdControl, type BfdControl, type BfdStateValue } from '../../../speakers/bfd/codec.js';

const u32 = fc.nat({ max: 0xffffffff });

/** Any Control packet the decoder can return. */
const controlArb: fc.Arbitrary<BfdControl> = fc.record({
  diag: fc.nat({ max: 31 }),
  state: fc.constantFrom<BfdStateValue[]>(0, 1, 2, 3),
  poll: fc.boolean(),
  final: fc.boolean(),
  detectMult: fc.integer({ min: 1, max: 255 }),
  myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
  yourDiscriminator: u32,
  desiredMinTx: u32,
  requiredMinRx: u32,
});

/** Decodes; if accepted, checks encode and decode again give the same packet. */
function reencodes(bytes: Buffer): boolean {
  let p: BfdControl;
  try {
    p = decodeBfdControl(bytes);
  } catch (err) {
    if (err instanceof BfdDecodeError) return false;
    throw err;
  }
  const again = encodeBfdControl(p);
  expect(again.length).toBe(BFD_CONTROL_LENGTH);
  expect(decodeBfdControl(again)).toEqual(p);
  return true;
}

describe('BFD Control packet codec: whatever decodes re-encodes (RFC 5880 section 4.1)', () => {
  it('decodes what it encodes', () => {
    fc.assert(fc.property(controlArb, (p) => void expect(decodeBfdControl(encodeBfdControl(p))).toEqual(p)));
  });

  it('for random bytes, which are otherwise only ever a BfdDecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (raw, likely) => {
        const b = Buffer.from(raw);
        // Half of them with version 1 and length 24, so they get past the first checks.
        if (likely && b.length >= BFD_CONTROL_LENGTH) b.set([0x20 | (b[0]! & 0x1f), b[1]! & 0xfa, b[2]! | 1, BFD_CONTROL_LENGTH]);
        reencodes(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('for encoded packets with bytes changed, cut or followed by more', () => {
    let accepted = 0;
    fc.assert(
      fc.property(controlArb, fc.array(fc.tuple(fc.nat({ max: 23 }), fc.nat({ max: 255 })), { maxLength: 2 }), fc.integer({ min: -4, max: 8 }), (p, edits, extra) => {
        const b = encodeBfdControl(p);
        for (const [at, v] of edits) b[at] = v;
        const sized = extra >= 0 ? Buffer.concat([b, Buffer.alloc(extra, 0xee)]) : b.subarray(0, b.length + extra);
        if (reencodes(sized)) accepted += 1;
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(500);
  });
});
