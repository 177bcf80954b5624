// Whatever the decoder accepts, the encoder accepts for the same session and round-trips; what
// it refuses, it refuses with a BgpDecodeError (RFC 4271 section 6).
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BgpDecodeError } from '../../../speakers/bgp/codec/errors.js';
import { decodeMessage, encodeMessage, type BgpMessage } from '../../../speakers/bgp/codec/message.js';
import type { CodecOptions } from '../../../speakers/bgp/codec/options.js';
import type { UpdateMessage } from '../../../speakers/bgp/codec/update.js';
import { mutatedFixtureArb, randomBodyArb, sessionArb, updateWireArb } from './wire-arbitraries.js';

/**
 * The message without the decode-only RFC 7606 outcome, which describes the bytes received
 * rather than the message; NOTIFICATION data as hex, which compares much faster when long.
 */
function withoutOutcome(m: BgpMessage): unknown {
  if (m.type === 'notification') return { ...m, data: m.data.toString('hex') };
  if (m.type !== 'update') return m;
  const rest: { -readonly [K in keyof UpdateMessage]?: UpdateMessage[K] } = { ...m };
  delete rest.problems;
  delete rest.treatAsWithdraw;
  return rest;
}

/** Decodes `bytes`; if that succeeds, checks encode and decode again give the same message and the same bytes. */
function reencodes(bytes: Buffer, session: CodecOptions): 'message' | 'error' {
  let m: BgpMessage;
  try {
    m = decodeMessage(bytes, session);
  } catch (e) {
    if (!(e instanceof BgpDecodeError)) throw e;
    // The NOTIFICATION the error calls for can always be sent (RFC 4271 section 6).
    const sent = encodeMessage({ type: 'notification', code: e.code, subcode: e.subcode, data: e.data }, session);
    expect(sent.length).toBeLessThanOrEqual(session.maxMessageLength ?? 4096);
    return 'error';
  }
  const again = encodeMessage(m, session);
  expect(again.length).toBeLessThanOrEqual(m.type === 'open' ? 4096 : (session.maxMessageLength ?? 4096));
  const m2 = decodeMessage(again, session);
  expect(withoutOutcome(m2)).toEqual(withoutOutcome(m));
  expect(encodeMessage(m2, session).toString('hex')).toBe(again.toString('hex'));
  return 'message';
}

/** Runs `reencodes` on every generated input and returns how often each outcome occurred. */
function tally(arb: fc.Arbitrary<[CodecOptions, Buffer]>, numRuns: number): { message: number; error: number } {
  const counts = { message: 0, error: 0 };
  fc.assert(
    fc.property(arb, ([session, bytes]) => {
      counts[reencodes(bytes, session)] += 1;
    }),
    { numRuns },
  );
  return counts;
}

describe('whatever the BGP decoder accepts, the encoder accepts and round-trips', () => {
  it('for UPDATEs built field by field as other speakers send them', () => {
    const counts = tally(
      sessionArb.chain((s) => updateWireArb(s).map((b): [CodecOptions, Buffer] => [s, b])),
      3000,
    );
    // Most of them decode, so the property is really exercised on accepted input.
    expect(counts.message).toBeGreaterThan(1500);
  }, 60_000);

  it('for mutated captured messages and random bodies of every type', () => {
    const counts = tally(
      sessionArb.chain((s) => fc.oneof(mutatedFixtureArb, randomBodyArb(s)).map((b): [CodecOptions, Buffer] => [s, b])),
      3000,
    );
    expect(counts.message).toBeGreaterThan(200);
    expect(counts.error).toBeGreaterThan(200);
  }, 60_000);

  it('for random bytes, which only ever raise a BgpDecodeError', () => {
    fc.assert(
      fc.property(sessionArb, fc.uint8Array({ maxLength: 80 }), (session, raw) => {
        const b = Buffer.from(raw);
        // Half of them behind a real marker, so the header check is not all they meet.
        if (b.length >= 16 && raw[0]! % 2 === 0) b.fill(0xff, 0, 16);
        reencodes(b, session);
      }),
      { numRuns: 3000 },
    );
  }, 60_000);
});
