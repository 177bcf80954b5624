// fast-check generators for layer-2 values, and assertions about layer-2 decode errors,
// shared by the layer-2 codec tests.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { ArpFrame, ArpPacket } from '../../speakers/layer2/codec/arp.js';
import type { EthernetHeader, VlanTag } from '../../speakers/layer2/codec/ethernet.js';
import { formatMac } from '../../speakers/layer2/codec/ethernet.js';
import { Layer2DecodeError } from '../../speakers/layer2/codec/errors.js';
import type { Layer2DecodeReason } from '../../speakers/layer2/codec/errors.js';
import { formatIpv4, formatIpv6 } from '../../speakers/common/ip-text.js';
import { isMulticastIpv6, isUnspecifiedIpv6, solicitedNodeAddress } from '../../speakers/layer2/codec/ipv6.js';
import type { NdpFrame, NdpMessage, NdpOption, NdpPacket } from '../../speakers/layer2/codec/ndp.js';

/** Any MAC address, as canonical text. */
export const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((bytes) => formatMac(bytes));

/** Any IPv4 address, as dotted quad. */
export const ipv4Arb = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => formatIpv4(bytes));

/** 16 address bytes with many zero groups, so that "::" compression is exercised. */
export const ipv6BytesArb = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => {
    const bytes = Buffer.alloc(16);
    groups.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
    return bytes;
  });

/** Any IPv6 address, as RFC 5952 text. */
export const ipv6Arb = ipv6BytesArb.map((bytes) => formatIpv6(bytes));

/** Any IPv6 address that is not multicast, as RFC 5952 text. */
export const nonMulticastIpv6Arb = ipv6BytesArb.filter((bytes) => bytes[0] !== 0xff).map((bytes) => formatIpv6(bytes));

/** Any 802.1Q tag. */
export const vlanArb: fc.Arbitrary<VlanTag> = fc.record({
  priority: fc.integer({ min: 0, max: 7 }),
  dropEligible: fc.boolean(),
  id: fc.integer({ min: 0, max: 4095 }),
});

/** Any Ethernet header, tagged or not. */
export const ethernetHeaderArb: fc.Arbitrary<EthernetHeader> = fc.record(
  { destination: macArb, source: macArb, vlan: vlanArb },
  { requiredKeys: ['destination', 'source'] },
);

/** Any Ethernet/IPv4 ARP packet. */
export const arpPacketArb: fc.Arbitrary<ArpPacket> = fc.record({
  operation: fc.constantFrom('request' as const, 'reply' as const),
  senderMac: macArb,
  senderIp: ipv4Arb,
  targetMac: macArb,
  targetIp: ipv4Arb,
});

/** Any ARP frame. */
export const arpFrameArb: fc.Arbitrary<ArpFrame> = fc.record({ ethernet: ethernetHeaderArb, arp: arpPacketArb });

/** An NDP option other than `excludedType`, with a valid length. */
export function ndpOptionArb(excludedType: number): fc.Arbitrary<NdpOption> {
  return fc.record({
    type: fc.integer({ min: 0, max: 255 }).filter((type) => type !== excludedType),
    data: fc
      .integer({ min: 0, max: 3 })
      .chain((units) => fc.uint8Array({ minLength: units * 8 + 6, maxLength: units * 8 + 6 }))
      .map((bytes) => Buffer.from(bytes)),
  });
}

/** Any NS or NA that passes the checks RFC 4861 7.1 makes without the IPv6 header. */
export const ndpMessageArb: fc.Arbitrary<NdpMessage> = fc.oneof(
  fc.record(
    {
      type: fc.constant('neighbor-solicitation' as const),
      target: nonMulticastIpv6Arb,
      sourceLinkLayerAddress: macArb,
      otherOptions: fc.array(ndpOptionArb(1), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ['type', 'target'] },
  ),
  fc.record(
    {
      type: fc.constant('neighbor-advertisement' as const),
      router: fc.boolean(),
      solicited: fc.boolean(),
      override: fc.boolean(),
      target: nonMulticastIpv6Arb,
      targetLinkLayerAddress: macArb,
      otherOptions: fc.array(ndpOptionArb(2), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ['type', 'router', 'solicited', 'override', 'target'] },
  ),
);

/** Any NS or NA packet that passes every check of RFC 4861 7.1 but the hop limit. */
export const ndpPacketArb: fc.Arbitrary<NdpPacket> = fc
  .record({
    source: fc.oneof(ipv6Arb, fc.constant('::')),
    destination: fc.oneof(ipv6Arb, fc.constant('ff02::1')),
    hopLimit: fc.oneof(fc.constant(255), fc.integer({ min: 0, max: 255 })),
    trafficClass: fc.integer({ min: 0, max: 255 }),
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    message: ndpMessageArb,
  })
  .map((packet): NdpPacket => {
    const { message } = packet;
    if (message.type === 'neighbor-solicitation' && isUnspecifiedIpv6(packet.source)) {
      // Duplicate address detection: to the target's solicited-node group, no link-layer option.
      const { type, target, otherOptions } = message;
      const dad = otherOptions ? { type, target, otherOptions } : { type, target };
      return { ...packet, destination: solicitedNodeAddress(target), message: dad };
    }
    if (message.type === 'neighbor-advertisement' && isMulticastIpv6(packet.destination)) {
      return { ...packet, message: { ...message, solicited: false } };
    }
    return packet;
  });

/** Any NS or NA frame that passes every check of RFC 4861 7.1 but the hop limit. */
export const ndpFrameArb: fc.Arbitrary<NdpFrame> = fc.record({ ethernet: ethernetHeaderArb, packet: ndpPacketArb });

/** Random changes to bytes: each entry overwrites one position (taken modulo the length). */
export const byteEditsArb = fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
  minLength: 1,
  maxLength: 4,
});

/** A copy of `bytes` with the edits applied. */
export function applyEdits(bytes: Buffer, edits: readonly { at: number; value: number }[]): Buffer {
  const copy = Buffer.from(bytes);
  for (const { at, value } of edits) if (copy.length > 0) copy[at % copy.length] = value;
  return copy;
}

/** Runs a decoder and returns the Layer2DecodeError it throws; fails the test if it throws nothing or anything else. */
export function decodeErrorOf(decode: () => unknown): Layer2DecodeError {
  try {
    decode();
  } catch (error) {
    if (error instanceof Layer2DecodeError) return error;
    throw error;
  }
  throw new Error('expected a Layer2DecodeError, but decoding succeeded');
}

/** Asserts that a decoder refuses its input with the given reason. */
export function expectRefusal(decode: () => unknown, reason: Layer2DecodeReason): void {
  expect(decodeErrorOf(decode).reason).toBe(reason);
}

/** Asserts that a decoder either returns or throws a Layer2DecodeError, never anything else. */
export function expectDecodesOrRefuses(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    expect(error).toBeInstanceOf(Layer2DecodeError);
  }
}
