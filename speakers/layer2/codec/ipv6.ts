// The IPv6 fixed header (RFC 8200 section 3), the ICMPv6 checksum over its pseudo-header
// (RFC 4443 section 2.3, RFC 8200 section 8.1), and the multicast addresses NDP uses.
import { Buffer } from 'node:buffer';
import { formatMac } from './ethernet.js';
import { Layer2DecodeError } from './errors.js';
import { formatIpv6, parseIpv6 } from '../../common/ip-text.js';

/** Length of the IPv6 fixed header (RFC 8200 section 3). */
export const IPV6_HEADER_LENGTH = 40;
/** Next Header value of ICMPv6 (RFC 4443 section 1). */
export const NEXT_HEADER_ICMPV6 = 58;
/** The link-local all-nodes multicast address (RFC 4291 section 2.7.1). */
export const ALL_NODES_ADDRESS = 'ff02::1';
/** The unspecified address (RFC 4291 section 2.5.2). */
export const UNSPECIFIED_ADDRESS = '::';

/** The fields of an IPv6 fixed header except Version and Payload Length (RFC 8200 section 3). */
export interface Ipv6Header {
  /** Traffic Class, 0-255. */
  readonly trafficClass: number;
  /** Flow Label, 0-0xfffff. */
  readonly flowLabel: number;
  /** Next Header: the protocol of the payload. */
  readonly nextHeader: number;
  /** Hop Limit, 0-255. */
  readonly hopLimit: number;
  /** Source address, RFC 5952 text. */
  readonly source: string;
  /** Destination address, RFC 5952 text. */
  readonly destination: string;
}

/** An IPv6 packet: the fixed header and the payload that follows it. */
export interface Ipv6Packet extends Ipv6Header {
  /** The bytes after the fixed header, exactly Payload Length of them. */
  readonly payload: Buffer;
}

/** Encodes an IPv6 packet: fixed header with Version 6 and Payload Length, then the payload (RFC 8200 section 3). */
export function encodeIpv6(packet: Ipv6Packet): Buffer {
  checkRange('traffic class', packet.trafficClass, 0xff);
  checkRange('flow label', packet.flowLabel, 0xfffff);
  checkRange('next header', packet.nextHeader, 0xff);
  checkRange('hop limit', packet.hopLimit, 0xff);
  const out = Buffer.alloc(IPV6_HEADER_LENGTH + packet.payload.length);
  // Version (4 bits) | Traffic Class (8) | Flow Label (20); >>> 0 keeps it unsigned.
  out.writeUInt32BE(((6 << 28) | (packet.trafficClass << 20) | packet.flowLabel) >>> 0, 0);
  out.writeUInt16BE(packet.payload.length, 4);
  out.writeUInt8(packet.nextHeader, 6);
  out.writeUInt8(packet.hopLimit, 7);
  parseIpv6(packet.source).copy(out, 8);
  parseIpv6(packet.destination).copy(out, 24);
  packet.payload.copy(out, IPV6_HEADER_LENGTH);
  return out;
}

/** Decodes an IPv6 packet (RFC 8200 section 3); bytes beyond Payload Length (link padding) are ignored. */
export function decodeIpv6(buf: Buffer): Ipv6Packet {
  if (buf.length < IPV6_HEADER_LENGTH) {
    throw new Layer2DecodeError('ipv6', 'truncated', `packet of ${buf.length} bytes is shorter than its header`);
  }
  const first = buf.readUInt32BE(0);
  if (first >>> 28 !== 6) throw new Layer2DecodeError('ipv6', 'bad-version', `version ${first >>> 28}`);
  const payloadLength = buf.readUInt16BE(4);
  if (buf.length < IPV6_HEADER_LENGTH + payloadLength) {
    throw new Layer2DecodeError(
      'ipv6',
      'truncated',
      `payload length ${payloadLength} exceeds the ${buf.length - IPV6_HEADER_LENGTH} bytes present`,
    );
  }
  return {
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    nextHeader: buf.readUInt8(6),
    hopLimit: buf.readUInt8(7),
    source: formatIpv6(buf.subarray(8, 24)),
    destination: formatIpv6(buf.subarray(24, 40)),
    payload: Buffer.from(buf.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength)),
  };
}

/**
 * The value for the Checksum field (bytes 2-3) of an ICMPv6 message: the one's complement of
 * the one's complement sum over the pseudo-header (RFC 8200 section 8.1) and the message with
 * its checksum field taken as zero (RFC 4443 section 2.3).
 */
export function icmpv6Checksum(source: string, destination: string, message: Buffer): number {
  const sum = pseudoHeaderSum(source, destination, message.length) + sum16(message) - checksumFieldValue(message);
  return ~fold(sum) & 0xffff;
}

/** Whether an ICMPv6 message's checksum verifies: the sum over pseudo-header and message, field included, is all ones (RFC 4443 section 2.3). */
export function verifyIcmpv6Checksum(source: string, destination: string, message: Buffer): boolean {
  return fold(pseudoHeaderSum(source, destination, message.length) + sum16(message)) === 0xffff;
}

/** Whether an IPv6 address is multicast: its first octet is 0xff (RFC 4291 section 2.7). */
export function isMulticastIpv6(address: string): boolean {
  return parseIpv6(address)[0] === 0xff;
}

/** Whether an IPv6 address is the unspecified address :: (RFC 4291 section 2.5.2). */
export function isUnspecifiedIpv6(address: string): boolean {
  return parseIpv6(address).every((byte) => byte === 0);
}

/** The solicited-node multicast address of an address: ff02::1:ff00:0/104 plus its low 24 bits (RFC 4291 section 2.7.1). */
export function solicitedNodeAddress(address: string): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUInt16BE(0xff02, 0);
  bytes[11] = 0x01;
  bytes[12] = 0xff;
  parseIpv6(address).copy(bytes, 13, 13, 16);
  return formatIpv6(bytes);
}

/** Whether an address is a solicited-node multicast address, ff02::1:ffxx:xxxx (RFC 4291 section 2.7.1). */
export function isSolicitedNodeAddress(address: string): boolean {
  const bytes = parseIpv6(address);
  const prefix = Buffer.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff]);
  return bytes.subarray(0, 13).equals(prefix);
}

/** The Ethernet MAC of an IPv6 multicast address: 33:33 followed by its last four octets (RFC 2464 section 7). */
export function ipv6MulticastMac(address: string): string {
  const bytes = parseIpv6(address);
  if (bytes[0] !== 0xff) throw new RangeError(`${address} is not a multicast address`);
  return formatMac(Buffer.concat([Buffer.from([0x33, 0x33]), bytes.subarray(12, 16)]));
}

function pseudoHeaderSum(source: string, destination: string, length: number): number {
  // RFC 8200 8.1: source, destination, 32-bit upper-layer length, 24 zero bits, next header.
  const pseudo = Buffer.alloc(40);
  parseIpv6(source).copy(pseudo, 0);
  parseIpv6(destination).copy(pseudo, 16);
  return sum16(pseudo) + (length >>> 16) + (length & 0xffff) + NEXT_HEADER_ICMPV6;
}

function checksumFieldValue(message: Buffer): number {
  return ((message[2] ?? 0) << 8) | (message[3] ?? 0);
}

// Sum of the buffer as big-endian 16-bit words, an odd last byte padded with zero. A JS
// number holds the unfolded sum exactly for any buffer shorter than 2^37 bytes.
function sum16(buf: Buffer): number {
  let sum = 0;
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) sum += buf.readUInt16BE(i);
  if (even < buf.length) sum += (buf[even] ?? 0) << 8;
  return sum;
}

function fold(sum: number): number {
  let folded = sum;
  while (folded > 0xffff) folded = (folded % 0x10000) + Math.floor(folded / 0x10000);
  return folded;
}

function checkRange(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${what} must be 0-${max}, not ${value}`);
}
