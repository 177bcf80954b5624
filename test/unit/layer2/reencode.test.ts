// Whatever a layer-2 decoder accepts, its encoder accepts and round-trips; anything else is
// refused with a Layer2DecodeError. Checked at every level: Ethernet, ARP, IPv6, NDP message,
// NDP packet and frame, and the combined ARP/NDP frame decoder.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeArp, decodeArpFrame, encodeArp, encodeArpFrame } from '../../../speakers/layer2/codec/arp.js';
import { decodeEthernet, encodeEthernet } from '../../../speakers/layer2/codec/ethernet.js';
import { Layer2DecodeError } from '../../../speakers/layer2/codec/errors.js';
import { decodeIpv6, encodeIpv6, icmpv6Checksum } from '../../../speakers/layer2/codec/ipv6.js';
import { decodeLayer2Frame, encodeLayer2Frame } from '../../../speakers/layer2/codec/layer2-frame.js';
import { decodeNdpFrame, decodeNdpMessage, decodeNdpPacket, encodeNdpFrame, encodeNdpMessage, encodeNdpPacket } from '../../../speakers/layer2/codec/ndp.js';
import { formatIpv6 } from '../../../speakers/common/ip-text.js';
import { applyEdits, arpFrameArb, byteEditsArb, ndpFrameArb } from '../../helpers/layer2-arbitraries.js';

/** Which part of a frame a decoder reads: the whole frame, what follows the Ethernet header, or the ICMPv6 message. */
type Level = 'frame' | 'packet' | 'message';

/** A decoder, the encoder that must undo it, and the level it reads. */
interface Codec {
  readonly name: string;
  readonly level: Level;
  decode(b: Buffer): unknown;
  encode(v: unknown): Buffer;
}

const codecs: readonly Codec[] = [
  { name: 'Ethernet', level: 'frame', decode: decodeEthernet, encode: (v) => encodeEthernet(v as Parameters<typeof encodeEthernet>[0]) },
  { name: 'ARP packet', level: 'packet', decode: decodeArp, encode: (v) => encodeArp(v as Parameters<typeof encodeArp>[0]) },
  { name: 'ARP frame', level: 'frame', decode: decodeArpFrame, encode: (v) => encodeArpFrame(v as Parameters<typeof encodeArpFrame>[0]) },
  { name: 'IPv6 packet', level: 'packet', decode: decodeIpv6, encode: (v) => encodeIpv6(v as Parameters<typeof encodeIpv6>[0]) },
  { name: 'NDP message', level: 'message', decode: decodeNdpMessage, encode: (v) => encodeNdpMessage(v as Parameters<typeof encodeNdpMessage>[0]) },
  { name: 'NDP packet', level: 'packet', decode: decodeNdpPacket, encode: (v) => encodeNdpPacket(v as Parameters<typeof encodeNdpPacket>[0]) },
  { name: 'NDP frame', level: 'frame', decode: decodeNdpFrame, encode: (v) => encodeNdpFrame(v as Parameters<typeof encodeNdpFrame>[0]) },
  { name: 'ARP or NDP frame', level: 'frame', decode: decodeLayer2Frame, encode: (v) => encodeLayer2Frame(v as Parameters<typeof encodeLayer2Frame>[0]) },
];

/** Decodes; if accepted, checks encode, decode again and encode again give the same value and bytes. */
function reencodes(codec: Codec, bytes: Buffer): boolean {
  let value: unknown;
  try {
    value = codec.decode(bytes);
  } catch (e) {
    if (e instanceof Layer2DecodeError) return false;
    throw e;
  }
  const again = codec.encode(value);
  const value2 = codec.decode(again);
  expect(value2).toEqual(value);
  expect(codec.encode(value2).toString('hex')).toBe(again.toString('hex'));
  return true;
}

/** Restores a valid ICMPv6 checksum after edits, so that they reach the NDP checks behind it. */
function fixChecksum(frame: Buffer): Buffer {
  const ip = frame.length >= 14 && frame.readUInt16BE(12) === 0x8100 ? 18 : 14;
  if (frame.length < ip + 44) return frame;
  const b = Buffer.from(frame);
  const icmp = b.subarray(ip + 40, ip + 40 + b.readUInt16BE(ip + 4)); // padding after Payload Length is not summed
  if (icmp.length < 4) return frame;
  icmp.writeUInt16BE(icmpv6Checksum(formatIpv6(b.subarray(ip + 8, ip + 24)), formatIpv6(b.subarray(ip + 24, ip + 40)), icmp), 2);
  return b;
}

/** Valid ARP and NDP frames with a byte or two changed, some cut short or padded, some with the checksum repaired. */
const editedFrameArb = fc
  .tuple(fc.oneof(arpFrameArb.map((f) => encodeArpFrame(f)), ndpFrameArb.map((f) => encodeNdpFrame(f))), byteEditsArb, fc.nat({ max: 12 }), fc.boolean())
  .map(([frame, edits, trim, fix]) => {
    const edited = applyEdits(frame, edits.slice(0, 1 + (edits.length % 2)));
    const sized = trim <= 8 ? Buffer.concat([edited, Buffer.alloc(trim)]) : edited.subarray(0, edited.length - trim);
    return fix ? fixChecksum(sized) : sized;
  });

/** The part of an edited frame that a decoder of `level` reads. */
function inputsFor(level: Level): fc.Arbitrary<Buffer> {
  return editedFrameArb.map((frame) => {
    const ethernet = frame.length >= 14 && frame.readUInt16BE(12) === 0x8100 ? 18 : 14;
    if (level === 'frame') return frame;
    if (level === 'packet') return frame.subarray(ethernet);
    // A raw ICMPv6 socket hands over the message without link padding: up to Payload Length.
    const length = frame.length >= ethernet + 6 ? frame.readUInt16BE(ethernet + 4) : 0;
    return frame.subarray(ethernet + 40, ethernet + 40 + length);
  });
}

describe.each(codecs)('$name: whatever decodes re-encodes and round-trips', (codec) => {
  it('for random bytes, which are otherwise refused only with a Layer2DecodeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (raw) => void reencodes(codec, Buffer.from(raw))), { numRuns: 1000 });
  });

  it('for valid frames with bytes changed, cut or padded', () => {
    let accepted = 0;
    fc.assert(
      fc.property(inputsFor(codec.level), (bytes) => {
        if (reencodes(codec, bytes)) accepted += 1;
      }),
      { numRuns: 1500 },
    );
    // Enough inputs get through every check for the property to say something.
    expect(accepted).toBeGreaterThan(100);
  });
});
