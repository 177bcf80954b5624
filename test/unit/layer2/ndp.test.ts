import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeIpv6, icmpv6Checksum } from '../../../speakers/layer2/codec/ipv6.js';
import {
  decodeNdpFrame,
  decodeNdpMessage,
  decodeNdpPacket,
  encodeNdpFrame,
  encodeNdpMessage,
  encodeNdpPacket,
  neighborAdvertisementFor,
  unsolicitedNeighborAdvertisement,
} from '../../../speakers/layer2/codec/ndp.js';
import type { NdpFrame, NdpMessage, NdpPacket, NeighborSolicitation } from '../../../speakers/layer2/codec/ndp.js';
import {
  applyEdits,
  byteEditsArb,
  expectDecodesOrRefuses,
  expectRefusal,
  ndpFrameArb,
  ndpMessageArb,
  ndpPacketArb,
} from '../../helpers/layer2-arbitraries.js';

const VIP = '2001:db8::100';
const MAC = '02:00:00:00:00:0a';
const PEER_MAC = '02:00:00:00:00:0b';

const solicitation: NeighborSolicitation = { type: 'neighbor-solicitation', target: VIP, sourceLinkLayerAddress: PEER_MAC };

const VIP_BYTES = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00];

/** An IPv6 packet around an ICMPv6 body, with the checksum fixed up, for hand-made bad messages. */
function packetAround(body: Buffer, source = '2001:db8::2', destination = 'ff02::1:ff00:100', hopLimit = 255): Buffer {
  const payload = Buffer.from(body);
  payload.writeUInt16BE(icmpv6Checksum(source, destination, payload), 2);
  return encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: 58, hopLimit, source, destination, payload });
}

describe('Neighbor Solicitation and Advertisement messages (RFC 4861 4.3, 4.4, 4.6.1)', () => {
  it('writes a solicitation field by field, checksum left zero for the kernel', () => {
    expect(encodeNdpMessage(solicitation)).toEqual(
      Buffer.from([
        ...[0x87], // type 135: Neighbor Solicitation
        ...[0x00], // code 0
        ...[0x00, 0x00], // checksum: filled in by a raw socket's kernel
        ...[0x00, 0x00, 0x00, 0x00], // reserved
        ...VIP_BYTES, // target address
        ...[0x01, 0x01], // option 1 (source link-layer address), length 1 × 8 octets
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0b], // the solicitor's MAC
      ]),
    );
  });

  it('writes an advertisement’s R, S and O flags in the top bits of the fifth byte', () => {
    const advertisement: NdpMessage = {
      type: 'neighbor-advertisement',
      router: true,
      solicited: false,
      override: true,
      target: VIP,
      targetLinkLayerAddress: MAC,
    };
    expect(encodeNdpMessage(advertisement)).toEqual(
      Buffer.from([
        ...[0x88, 0x00, 0x00, 0x00], // type 136: Neighbor Advertisement, code 0, checksum
        ...[0xa0, 0x00, 0x00, 0x00], // R=1 S=0 O=1, 29 reserved bits
        ...VIP_BYTES, // target address
        ...[0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // option 2 (target link-layer address), our MAC
      ]),
    );
  });

  it('keeps options it does not interpret, and refuses to hide a link-layer option among them', () => {
    const nonce = { type: 14, data: Buffer.from('fad3f3c01edd', 'hex') };
    const withNonce: NdpMessage = { type: 'neighbor-solicitation', target: VIP, otherOptions: [nonce] };
    expect(decodeNdpMessage(encodeNdpMessage(withNonce))).toEqual(withNonce);
    expect(() => encodeNdpMessage({ ...withNonce, otherOptions: [{ type: 1, data: Buffer.alloc(6) }] })).toThrow(RangeError);
    expect(() => encodeNdpMessage({ ...withNonce, otherOptions: [{ type: 14, data: Buffer.alloc(5) }] })).toThrow(RangeError);
  });

  it.each([
    ['an ICMPv6 echo request', 0, 128, 'unsupported-message'],
    ['a code other than 0', 1, 1, 'bad-code'],
    ['a multicast target', 8, 0xff, 'multicast-target'],
    ['an option of length 0', 25, 0, 'bad-option'],
    ['a link-layer option longer than the message', 25, 2, 'truncated'],
  ] as const)('refuses %s', (_what, offset, value, reason) => {
    const bytes = encodeNdpMessage(solicitation);
    bytes[offset] = value;
    expectRefusal(() => decodeNdpMessage(bytes), reason);
  });

  it('refuses messages shorter than 24 octets, stray option bytes and a repeated link-layer option', () => {
    const bytes = encodeNdpMessage(solicitation);
    expectRefusal(() => decodeNdpMessage(bytes.subarray(0, 23)), 'bad-length');
    expectRefusal(() => decodeNdpMessage(bytes.subarray(0, 3)), 'truncated');
    expectRefusal(() => decodeNdpMessage(bytes.subarray(0, 25)), 'truncated');
    expectRefusal(() => decodeNdpMessage(Buffer.concat([bytes, bytes.subarray(24)])), 'bad-option');
    const long = Buffer.concat([bytes.subarray(0, 24), Buffer.from([1, 2]), Buffer.alloc(14)]);
    expectRefusal(() => decodeNdpMessage(long), 'bad-option'); // a 16-octet source link-layer option
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(ndpMessageArb, (message) => {
        expect(decodeNdpMessage(encodeNdpMessage(message))).toEqual(message);
      }),
    );
  });
});

describe('NDP in IPv6 packets', () => {
  const packet: NdpPacket = {
    source: '2001:db8::2',
    destination: 'ff02::1:ff00:100',
    hopLimit: 255,
    trafficClass: 0,
    flowLabel: 0,
    message: solicitation,
  };

  it('fills in the checksum and reports the hop limit it was sent with', () => {
    const bytes = encodeNdpPacket(packet);
    expect(bytes.readUInt16BE(42)).toBe(icmpv6Checksum(packet.source, packet.destination, bytes.subarray(40)));
    expect(decodeNdpPacket(encodeNdpPacket({ ...packet, hopLimit: 64 })).hopLimit).toBe(64);
  });

  it('refuses a wrong checksum and a next header other than ICMPv6', () => {
    const bytes = encodeNdpPacket(packet);
    expectRefusal(() => decodeNdpPacket(applyEdits(bytes, [{ at: 42, value: bytes[42]! ^ 1 }])), 'bad-checksum');
    expectRefusal(() => decodeNdpPacket(applyEdits(bytes, [{ at: 6, value: 0 }])), 'unsupported-protocol');
  });

  it('refuses a solicitation from :: unless it goes to a solicited-node group without a link-layer option (7.1.1)', () => {
    const dad: NdpPacket = { ...packet, source: '::', message: { type: 'neighbor-solicitation', target: VIP } };
    expect(decodeNdpPacket(encodeNdpPacket(dad))).toEqual(dad);
    expectRefusal(() => decodeNdpPacket(encodeNdpPacket({ ...dad, destination: VIP })), 'bad-destination');
    expectRefusal(() => decodeNdpPacket(encodeNdpPacket({ ...dad, message: solicitation })), 'bad-option');
  });

  it('refuses a solicited advertisement sent to a multicast address (7.1.2)', () => {
    const na = encodeNdpMessage({ type: 'neighbor-advertisement', router: false, solicited: true, override: true, target: VIP });
    expectRefusal(() => decodeNdpPacket(packetAround(na, VIP, 'ff02::1')), 'bad-destination');
    expect(decodeNdpPacket(packetAround(na, VIP, '2001:db8::2')).message).toMatchObject({ solicited: true });
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(ndpPacketArb, (original) => {
        expect(decodeNdpPacket(encodeNdpPacket(original))).toEqual(original);
      }),
    );
  });
});

describe('NDP frames a layer-2 speaker sends', () => {
  it('announces a VIP with an unsolicited advertisement to all nodes, hop limit 255, O=1, S=0 (7.2.6)', () => {
    const bytes = encodeNdpFrame(unsolicitedNeighborAdvertisement(VIP, MAC));
    const body = bytes.subarray(54);
    expect(bytes.subarray(0, 54)).toEqual(
      Buffer.from([
        ...[0x33, 0x33, 0x00, 0x00, 0x00, 0x01], // Ethernet destination: all-nodes multicast MAC
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // Ethernet source: our MAC
        ...[0x86, 0xdd], // EtherType: IPv6
        ...[0x60, 0x00, 0x00, 0x00], // version 6, traffic class 0, flow label 0
        ...[0x00, 0x20], // payload length 32
        ...[0x3a, 0xff], // next header ICMPv6, hop limit 255
        ...VIP_BYTES, // source: the VIP itself
        ...[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], // destination ff02::1
      ]),
    );
    expect(body).toEqual(
      Buffer.from([
        ...[0x88, 0x00], // Neighbor Advertisement, code 0
        ...[body[2]!, body[3]!], // checksum, checked below
        ...[0x20, 0x00, 0x00, 0x00], // R=0 S=0 O=1
        ...VIP_BYTES, // target: the VIP
        ...[0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // target link-layer address: our MAC
      ]),
    );
    expect(decodeNdpFrame(bytes).packet.message).toMatchObject({ type: 'neighbor-advertisement', override: true });
  });

  const ns: NdpFrame = {
    ethernet: { destination: '33:33:ff:00:01:00', source: PEER_MAC },
    packet: { source: '2001:db8::2', destination: 'ff02::1:ff00:100', hopLimit: 255, trafficClass: 0, flowLabel: 0, message: solicitation },
  };

  it('answers a solicitation with a solicited advertisement unicast to the solicitor (7.2.4)', () => {
    const answer = neighborAdvertisementFor(ns, MAC);
    expect(answer).toEqual({
      ethernet: { destination: PEER_MAC, source: MAC },
      packet: {
        source: VIP,
        destination: '2001:db8::2',
        hopLimit: 255,
        trafficClass: 0,
        flowLabel: 0,
        message: { type: 'neighbor-advertisement', router: false, solicited: true, override: true, target: VIP, targetLinkLayerAddress: MAC },
      },
    });
    expect(decodeNdpFrame(encodeNdpFrame(answer))).toEqual(answer);
  });

  it('answers duplicate address detection to all nodes with S=0 (7.2.4)', () => {
    const dad: NdpFrame = { ...ns, packet: { ...ns.packet, source: '::', message: { type: 'neighbor-solicitation', target: VIP } } };
    const answer = neighborAdvertisementFor(dad, MAC);
    expect(answer.ethernet.destination).toBe('33:33:00:00:00:01');
    expect(answer.packet.destination).toBe('ff02::1');
    expect(answer.packet.message).toMatchObject({ solicited: false, override: true });
    expect(() => neighborAdvertisementFor(answer, MAC)).toThrow(RangeError);
  });

  it('decodes what it encodes, and refuses random, edited or cut frames only with a Layer2DecodeError', () => {
    fc.assert(
      fc.property(ndpFrameArb, (frame) => {
        expect(decodeNdpFrame(encodeNdpFrame(frame))).toEqual(frame);
      }),
    );
    fc.assert(
      fc.property(ndpFrameArb, byteEditsArb, fc.nat(), (frame, edits, cut) => {
        const bytes = applyEdits(encodeNdpFrame(frame), edits);
        expectDecodesOrRefuses(() => decodeNdpFrame(bytes));
        expectDecodesOrRefuses(() => decodeNdpFrame(bytes.subarray(0, cut % bytes.length)));
        expectDecodesOrRefuses(() => decodeNdpMessage(bytes.subarray(54 + (frame.ethernet.vlan ? 4 : 0))));
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        expectDecodesOrRefuses(() => decodeNdpFrame(Buffer.from(bytes)));
        expectDecodesOrRefuses(() => decodeNdpPacket(Buffer.from(bytes)));
        expectDecodesOrRefuses(() => decodeNdpMessage(Buffer.from(bytes)));
      }),
    );
  });
});
