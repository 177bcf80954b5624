// The peer-channel codec (ADR 0017): the wire layout byte by byte, round trips of every message
// type, refusal of what cannot be encoded, and decoding that fails only with PeerDecodeError.
// There is no other implementation of this protocol to capture bytes from, so the fixtures are
// written from the layout documented at the top of speakers/peer/codec.ts.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePeerMessage,
  encodePeerMessage,
  MAX_DECLARATIONS,
  MAX_NAME_BYTES,
  NEVER,
  PeerDecodeError,
  type PeerDecodeReason,
  type PeerMessage,
} from '../../../speakers/peer/codec.js';
import { hex } from '../bgp/hex.js';
import { abandonArb, ackArb, declarationArb, declareArb, messageArb, pingArb } from './arbitraries.js';

const reasons: readonly PeerDecodeReason[] = ['truncated', 'version', 'type', 'name', 'trailing', 'count'];

/** The error decoding `bytes` throws; fails the test if it decodes or throws anything else. */
function decodeError(bytes: Buffer): PeerDecodeError {
  try {
    decodePeerMessage(bytes);
  } catch (error) {
    if (error instanceof PeerDecodeError) return error;
    throw error;
  }
  throw new Error(`decoded without error: ${bytes.toString('hex')}`);
}

/**
 * Decodes bytes that may be anything: either a PeerDecodeError with a known reason, or a
 * message that encodes back to exactly these bytes. Anything else fails the test.
 */
function decodesOrRefuses(bytes: Buffer): 'decoded' | PeerDecodeReason {
  let m: PeerMessage;
  try {
    m = decodePeerMessage(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(PeerDecodeError);
    const reason = (error as PeerDecodeError).reason;
    expect(reasons).toContain(reason);
    return reason;
  }
  expect(encodePeerMessage(m).toString('hex')).toBe(bytes.toString('hex'));
  return 'decoded';
}

const golden: readonly { name: string; message: PeerMessage; bytes: Buffer }[] = [
  {
    name: 'ping',
    message: { type: 'ping', from: 'node-a', incarnation: 0x0123456789abcdefn, seq: 7, epoch: 3, apiOkAgeMs: 120 },
    bytes: hex(
      '01', // version 1
      '01', // type 1 ping
      '06', // name length 6
      '6e6f64652d61', // sender "node-a"
      '0123456789abcdef', // incarnation
      '00000007', // sequence 7
      '00000003', // epoch 3
      '00000078', // API probe succeeded 120 ms ago
    ),
  },
  {
    name: 'ack',
    message: { type: 'ack', from: 'node-b', incarnation: 0xfedcba9876543210n, seq: 0x01020304, forIncarnation: 0x0123456789abcdefn, forSeq: 7, accepted: true, deadThrough: 0, apiOkAgeMs: NEVER },
    bytes: hex(
      '01', // version 1
      '02', // type 2 ack
      '06', // name length 6
      '6e6f64652d62', // sender "node-b"
      'fedcba9876543210', // incarnation (high bit set: unsigned)
      '01020304', // sequence
      '0123456789abcdef', // the pinger's incarnation being answered
      '00000007', // the ping's sequence 7
      '01', // accepted
      '00000000', // dead through epoch 0: nothing declared
      'ffffffff', // API probe: never succeeded
    ),
  },
  {
    name: 'ack refusing a declared epoch',
    message: { type: 'ack', from: 'b', incarnation: 1n, seq: 9, forIncarnation: 2n, forSeq: 0xffffffff, accepted: false, deadThrough: 4, apiOkAgeMs: 0 },
    bytes: hex(
      '01', // version 1
      '02', // type 2 ack
      '01', // name length 1
      '62', // sender "b"
      '0000000000000001', // incarnation 1
      '00000009', // sequence 9
      '0000000000000002', // the pinger's incarnation 2
      'ffffffff', // the ping's sequence, the largest
      '00', // not accepted
      '00000004', // the pinger's epochs through 4 are dead to the sender
      '00000000', // API probe succeeded 0 ms ago
    ),
  },
  {
    name: 'declare',
    message: {
      type: 'declare',
      from: 'node-c',
      incarnation: 1n,
      seq: 42,
      declarations: [
        { subject: 'node-a', epoch: 3 },
        { subject: 'ñ', epoch: 0x10000 },
      ],
    },
    bytes: hex(
      '01', // version 1
      '03', // type 3 declare
      '06', // name length 6
      '6e6f64652d63', // sender "node-c"
      '0000000000000001', // incarnation 1
      '0000002a', // sequence 42
      '02', // 2 declarations
      '06', // subject length 6
      '6e6f64652d61', // subject "node-a"
      '00000003', // dead through epoch 3
      '02', // subject length 2 (UTF-8 bytes, not characters)
      'c3b1', // subject "ñ"
      '00010000', // dead through epoch 65536
    ),
  },
  {
    name: 'declare with no declarations',
    message: { type: 'declare', from: 'n', incarnation: 0n, seq: 0, declarations: [] },
    bytes: hex(
      '01', // version 1
      '03', // type 3 declare
      '01', // name length 1
      '6e', // sender "n"
      '0000000000000000', // incarnation 0
      '00000000', // sequence 0
      '00', // 0 declarations
    ),
  },
  {
    name: 'abandon',
    message: { type: 'abandon', from: 'node-a', incarnation: 0x0123456789abcdefn, seq: 8, epoch: 3 },
    bytes: hex(
      '01', // version 1
      '04', // type 4 abandon
      '06', // name length 6
      '6e6f64652d61', // sender "node-a"
      '0123456789abcdef', // incarnation
      '00000008', // sequence 8
      '00000003', // epochs through 3 abandoned
    ),
  },
];

describe('peer messages on the wire (ADR 0017)', () => {
  it.each(golden.map((g) => [g.name, g.message, g.bytes] as const))('encodes a %s field by field', (_name, message, bytes) => {
    expect(encodePeerMessage(message).toString('hex')).toBe(bytes.toString('hex'));
  });

  it.each(golden.map((g) => [g.name, g.message, g.bytes] as const))('decodes a %s from its bytes', (_name, message, bytes) => {
    expect(decodePeerMessage(bytes)).toEqual(message);
  });

  it('encodes a name of 253 bytes, the longest a node name can be', () => {
    const from = 'a'.repeat(MAX_NAME_BYTES);
    const bytes = encodePeerMessage({ type: 'abandon', from, incarnation: 0n, seq: 1, epoch: 1 });
    expect(bytes[2]).toBe(0xfd);
    expect(bytes.length).toBe(3 + MAX_NAME_BYTES + 12 + 4);
    expect(decodePeerMessage(bytes)).toMatchObject({ from });
  });
});

describe('every message survives a round trip', () => {
  it.each([
    ['ping', pingArb],
    ['ack', ackArb],
    ['declare', declareArb],
    ['abandon', abandonArb],
  ] as const)('%s', (_type, arb: fc.Arbitrary<PeerMessage>) => {
    fc.assert(fc.property(arb, (m) => void expect(decodePeerMessage(encodePeerMessage(m))).toEqual(m)), { numRuns: 300 });
  });

  it('with exactly 64 declarations', () => {
    fc.assert(
      fc.property(declareArb, fc.array(declarationArb, { minLength: MAX_DECLARATIONS, maxLength: MAX_DECLARATIONS }), (m, declarations) => {
        const full = { ...m, declarations };
        expect(encodePeerMessage(full)[3 + Buffer.byteLength(m.from) + 12]).toBe(MAX_DECLARATIONS);
        expect(decodePeerMessage(encodePeerMessage(full))).toEqual(full);
      }),
      { numRuns: 50 },
    );
  });
});

describe('encoding refuses what the wire cannot carry, with a RangeError', () => {
  const ping = golden[0]!.message;
  const declare = { type: 'declare', from: 'b', incarnation: 1n, seq: 1, declarations: [] } as const;

  it.each([
    ['an empty sender name', { ...ping, from: '' }],
    ['a sender name of 254 bytes', { ...ping, from: 'a'.repeat(MAX_NAME_BYTES + 1) }],
    ['a sender name of 64 four-byte characters (256 bytes)', { ...ping, from: '😀'.repeat(64) }],
    ['an empty subject', { ...declare, declarations: [{ subject: '', epoch: 1 }] }],
    ['a subject of 254 bytes', { ...declare, declarations: [{ subject: 'é'.repeat(127), epoch: 1 }] }],
    ['65 declarations', { ...declare, declarations: Array.from({ length: MAX_DECLARATIONS + 1 }, (_, i) => ({ subject: `n${i}`, epoch: 1 })) }],
    ['a negative sequence', { ...ping, seq: -1 }],
    ['a sequence of 2^32', { ...ping, seq: 2 ** 32 }],
    ['a fractional epoch', { ...ping, epoch: 1.5 }],
    ['a NaN API age', { ...ping, apiOkAgeMs: Number.NaN }],
    ['an infinite API age', { ...ping, apiOkAgeMs: Number.POSITIVE_INFINITY }],
    ['an ack for a sequence of 2^32', { ...golden[1]!.message, forSeq: 2 ** 32 }],
    ['an ack dead through -1', { ...golden[1]!.message, deadThrough: -1 }],
    ['an ack with an API age of 2^32', { ...golden[1]!.message, apiOkAgeMs: 2 ** 32 }],
    ['a declaration of epoch 2^32', { ...declare, declarations: [{ subject: 'a', epoch: 2 ** 32 }] }],
    ['an abandon of epoch -1', { ...golden[5]!.message, epoch: -1 }],
  ] as [string, PeerMessage][])('%s', (_why, message) => {
    expect(() => encodePeerMessage(message)).toThrow(RangeError);
  });

  it('refuses any value outside 0..2^32-1 in any 32-bit field', () => {
    const bad = fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }), fc.double({ noInteger: true }));
    const fields = ['seq', 'epoch', 'apiOkAgeMs'] as const;
    fc.assert(
      fc.property(pingArb, fc.constantFrom(...fields), bad, (m, field, value) => {
        expect(() => encodePeerMessage({ ...m, [field]: value })).toThrow(RangeError);
      }),
    );
  });
});

describe('decoding refuses malformed messages with a reason', () => {
  const ping = golden[0]!.bytes;
  const ack = golden[1]!.bytes;
  const declare = golden[3]!.bytes;
  // Offsets after the 21-byte header of a 6-byte sender name.
  const acceptedAt = 21 + 8 + 4;
  const countAt = 21;

  it.each([
    ['an empty buffer', Buffer.alloc(0), 'truncated'],
    ['version 2', Buffer.concat([hex('02'), ping.subarray(1)]), 'version'],
    ['version 0', Buffer.concat([hex('00'), ping.subarray(1)]), 'version'],
    ['type 0', Buffer.concat([hex('0100'), ping.subarray(2)]), 'type'],
    ['type 5', Buffer.concat([hex('0105'), ping.subarray(2)]), 'type'],
    ['an empty sender name', hex('010100', '0123456789abcdef', '00000007', '00000003', '00000078'), 'name'],
    ['a sender name that is not UTF-8', hex('010102', 'c328', '0123456789abcdef', '00000007', '00000003', '00000078'), 'name'],
    ['a sender name with a surrogate encoded in UTF-8', hex('010103', 'eda080', '0123456789abcdef', '00000007', '00000003', '00000078'), 'name'],
    ['a name length past the end', hex('010140', '6e6f6465'), 'truncated'],
    ['an ack whose accepted flag is 2', Buffer.concat([ack.subarray(0, acceptedAt), hex('02'), ack.subarray(acceptedAt + 1)]), 'type'],
    ['a declare counting 65', hex('010301', '63', '0000000000000001', '00000001', '41'), 'count'],
    ['a declare counting 3 with two', Buffer.concat([declare.subarray(0, countAt), hex('03'), declare.subarray(countAt + 1)]), 'truncated'],
    ['a declaration with an empty subject', hex('010301', '63', '0000000000000001', '00000001', '01', '00', '00000001'), 'name'],
    ['a ping followed by a byte', Buffer.concat([ping, hex('00')]), 'trailing'],
    ['a declare followed by a partial declaration', Buffer.concat([declare, hex('01')]), 'trailing'],
  ] as const)('%s', (_why, bytes, reason) => {
    const e = decodeError(bytes);
    expect(e.reason).toBe(reason);
    expect(e.message).toMatch(/^peer message: /);
  });

  it('reports every cut of a valid message as truncated', () => {
    for (const g of golden) for (let cut = 0; cut < g.bytes.length; cut++) expect(decodeError(g.bytes.subarray(0, cut)).reason).toBe('truncated');
    fc.assert(
      fc.property(messageArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (m, where) => {
        const bytes = encodePeerMessage(m);
        expect(decodeError(bytes.subarray(0, Math.floor(where * bytes.length))).reason).toBe('truncated');
      }),
      { numRuns: 500 },
    );
  });
});

describe('decoding any bytes only ever gives a message or a PeerDecodeError', () => {
  it('for every single-byte change of each fixture', () => {
    const seen = new Set<string>();
    for (const g of golden) {
      for (let at = 0; at < g.bytes.length; at++) {
        for (let value = 0; value < 256; value++) {
          const b = Buffer.from(g.bytes);
          b[at] = value;
          seen.add(decodesOrRefuses(b));
        }
      }
    }
    // The changes reach every check the decoder makes.
    expect([...seen].sort()).toEqual(['count', 'decoded', 'name', 'trailing', 'truncated', 'type', 'version']);
  });

  it('for random bytes, half of them starting like a message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.boolean(), fc.integer({ min: 1, max: 4 }), (raw, likely, type) => {
        const b = Buffer.from(raw);
        if (likely && b.length >= 3) b.set([1, type, Math.min(b[2]!, 12)]);
        decodesOrRefuses(b);
      }),
      { numRuns: 5000 },
    );
  });

  it('for random messages cut, changed at one byte or extended', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.nat({ max: 255 }), fc.integer({ min: -8, max: 4 }), (m, at, value, extra) => {
        const b = encodePeerMessage(m);
        b[at % b.length] = value;
        const sized = extra >= 0 ? Buffer.concat([b, Buffer.alloc(extra, value)]) : b.subarray(0, b.length + extra);
        seen.add(decodesOrRefuses(sized));
      }),
      { numRuns: 3000 },
    );
    expect(seen).toContain('decoded');
    expect(seen).toContain('truncated');
    expect(seen).toContain('trailing');
  });
});
