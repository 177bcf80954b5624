// The seal of peer-channel packets (ADR 0017): HMAC-SHA256 with the cluster's peer key, its
// first 16 bytes appended. Only the holder of the key can make a packet that unseals.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePeerMessage } from '../../../speakers/peer/codec.js';
import { MIN_KEY_BYTES, SEAL_BYTES, seal, unseal } from '../../../speakers/peer/seal.js';
import { hex } from '../bgp/hex.js';
import { messageArb } from './arbitraries.js';

const keyArb = fc.uint8Array({ minLength: MIN_KEY_BYTES, maxLength: 64 }).map((k) => Buffer.from(k));
/** Bodies small enough to flip every bit of. */
const shortBodyArb = fc.oneof(
  fc.constantFrom(encodePeerMessage({ type: 'ping', from: 'node-a', incarnation: 5n, seq: 9, epoch: 2, apiOkAgeMs: 40 })),
  fc.uint8Array({ minLength: 1, maxLength: 48 }).map((b) => Buffer.from(b)),
);
const bodyArb = fc.oneof(
  messageArb.map((m) => encodePeerMessage(m)),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
);

describe('sealing peer packets', () => {
  it('appends the first 16 bytes of HMAC-SHA256 over a domain label and the message', () => {
    // Expected value computed independently: Python hmac.new(bytes(range(32)),
    // b'vipcast-peer-1\x00' + body, 'sha256').hexdigest()[:32].
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const body = hex('0101066e6f64652d610123456789abcdef000000070000000300000078'); // the ping fixture of codec.test.ts
    expect(seal(key, body).toString('hex')).toBe(body.toString('hex') + 'da387339aa06750a3fa0160e090b0ef2');
  });

  it('unseals to the same message with the same key', () => {
    fc.assert(
      fc.property(keyArb, bodyArb, (key, body) => {
        const packet = seal(key, body);
        expect(packet.length).toBe(body.length + SEAL_BYTES);
        const opened = unseal(key, packet);
        expect(opened.ok).toBe(true);
        if (opened.ok) expect(opened.body.toString('hex')).toBe(body.toString('hex'));
      }),
    );
  });

  it('refuses a packet sealed with another key', () => {
    fc.assert(
      fc.property(keyArb, keyArb, bodyArb, (key, other, body) => {
        fc.pre(!key.equals(other));
        expect(unseal(other, seal(key, body))).toEqual({ ok: false, reason: 'seal' });
      }),
    );
  });

  it('refuses a key that differs from the sealing key in one bit', () => {
    const key = Buffer.alloc(32, 0x5a);
    const packet = seal(key, encodePeerMessage({ type: 'abandon', from: 'a', incarnation: 1n, seq: 1, epoch: 1 }));
    for (let bit = 0; bit < key.length * 8; bit++) {
      const other = Buffer.from(key);
      other[bit >> 3]! ^= 1 << (bit & 7);
      expect(unseal(other, packet)).toEqual({ ok: false, reason: 'seal' });
    }
  });

  it('refuses a packet with any one bit flipped, in the message or in the seal', () => {
    const key = Buffer.alloc(MIN_KEY_BYTES, 1);
    fc.assert(
      fc.property(shortBodyArb, (body) => {
        const packet = seal(key, body);
        for (let bit = 0; bit < packet.length * 8; bit++) {
          const flipped = Buffer.from(packet);
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          expect(unseal(key, flipped)).toEqual({ ok: false, reason: 'seal' });
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses every truncation: "short" up to the seal length, "seal" beyond', () => {
    const key = Buffer.alloc(MIN_KEY_BYTES, 2);
    fc.assert(
      fc.property(bodyArb, (body) => {
        const packet = seal(key, body);
        for (let cut = 0; cut < packet.length; cut++) {
          expect(unseal(key, packet.subarray(0, cut))).toEqual({ ok: false, reason: cut <= SEAL_BYTES ? 'short' : 'seal' });
        }
      }),
      { numRuns: 30 },
    );
  });

  it('refuses a packet with bytes added after the seal', () => {
    const key = Buffer.alloc(MIN_KEY_BYTES, 3);
    const packet = seal(key, Buffer.from('message'));
    expect(unseal(key, Buffer.concat([packet, Buffer.alloc(1)]))).toEqual({ ok: false, reason: 'seal' });
  });

  it('refuses a packet that is all seal and no message as short', () => {
    const key = Buffer.alloc(MIN_KEY_BYTES, 4);
    expect(unseal(key, seal(key, Buffer.alloc(0)))).toEqual({ ok: false, reason: 'short' });
  });

  it.each([0, 1, MIN_KEY_BYTES - 1])('refuses to seal with a key of %i bytes', (length) => {
    expect(() => seal(Buffer.alloc(length, 9), Buffer.from('message'))).toThrow(RangeError);
  });

  it(`seals with a key of exactly ${MIN_KEY_BYTES} bytes`, () => {
    const key = Buffer.alloc(MIN_KEY_BYTES, 9);
    expect(unseal(key, seal(key, Buffer.from('message'))).ok).toBe(true);
  });
});
