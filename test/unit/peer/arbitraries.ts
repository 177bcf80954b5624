// Test helpers: fast-check arbitraries for peer-channel messages (ADR 0017), shared by the
// codec and mesh tests.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { MAX_DECLARATIONS, MAX_NAME_BYTES, type Abandon, type Ack, type Declaration, type Declare, type PeerMessage, type Ping } from '../../../speakers/peer/codec.js';

/** Any 32-bit unsigned integer, the edges often. */
export const u32Arb = fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat({ max: 0xffffffff }));

/** Any 64-bit unsigned incarnation, the edges often. */
export const u64Arb = fc.oneof(fc.constantFrom(0n, 1n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

/** Cuts a string at a code point boundary so that its UTF-8 form has at most `max` bytes. */
function fitUtf8(text: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const cp of text) {
    const size = Buffer.byteLength(cp, 'utf8');
    if (bytes + size > max) break;
    out += cp;
    bytes += size;
  }
  return out;
}

/** A node name of 1 to 253 UTF-8 bytes: DNS-like names, any code points, and the longest. */
export const nameArb: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,60}[a-z0-9])?$/),
  fc.string({ unit: 'binary', minLength: 1, maxLength: MAX_NAME_BYTES }).map((s) => fitUtf8(s, MAX_NAME_BYTES)),
  fc.string({ unit: 'grapheme-ascii', minLength: MAX_NAME_BYTES - 3, maxLength: MAX_NAME_BYTES }),
);

const header = { from: nameArb, incarnation: u64Arb, seq: u32Arb };

/** Any ping. */
export const pingArb: fc.Arbitrary<Ping> = fc.record({ type: fc.constant('ping' as const), ...header, epoch: u32Arb, apiOkAgeMs: u32Arb });

/** Any ack. */
export const ackArb: fc.Arbitrary<Ack> = fc.record({
  type: fc.constant('ack' as const),
  ...header,
  forIncarnation: u64Arb,
  forSeq: u32Arb,
  accepted: fc.boolean(),
  deadThrough: u32Arb,
  apiOkAgeMs: u32Arb,
});

/** One declaration. */
export const declarationArb: fc.Arbitrary<Declaration> = fc.record({ subject: nameArb, epoch: u32Arb });

/** Any declare message, 0 to 64 declarations. */
export const declareArb: fc.Arbitrary<Declare> = fc.record({
  type: fc.constant('declare' as const),
  ...header,
  declarations: fc.oneof(fc.array(declarationArb, { maxLength: 4 }), fc.array(declarationArb, { minLength: MAX_DECLARATIONS - 2, maxLength: MAX_DECLARATIONS })),
});

/** Any abandon. */
export const abandonArb: fc.Arbitrary<Abandon> = fc.record({ type: fc.constant('abandon' as const), ...header, epoch: u32Arb });

/** Any peer-channel message. */
export const messageArb: fc.Arbitrary<PeerMessage> = fc.oneof(pingArb, ackArb, declareArb, abandonArb);
