// Ethernet II frames (IEEE 802.3 clause 3 with an EtherType, RFC 894) with at most one
// IEEE 802.1Q VLAN tag, and MAC addresses as canonical text ("02:00:5e:00:00:0a").
// The frame check sequence is not part of the bytes: sockets and pcap files omit it.
import { Buffer } from 'node:buffer';
import { Layer2DecodeError } from './errors.js';

/** EtherType of IPv4 (RFC 894). */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of ARP (RFC 826). */
export const ETHERTYPE_ARP = 0x0806;
/** EtherType (TPID) of an IEEE 802.1Q VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** EtherType (TPID) of an IEEE 802.1ad service tag, which this codec does not decode. */
export const ETHERTYPE_QINQ = 0x88a8;
/** EtherType of IPv6 (RFC 2464 section 3). */
export const ETHERTYPE_IPV6 = 0x86dd;

/** The Ethernet broadcast address. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
/** The all-zero MAC address, used where RFC 5227 says a hardware address field is ignored. */
export const ZERO_MAC = '00:00:00:00:00:00';

/** Length of an untagged Ethernet II header: destination, source, EtherType. */
export const ETHERNET_HEADER_LENGTH = 14;
/** The shortest valid frame without its 4-byte FCS (IEEE 802.3 minimum frame of 64 octets). */
export const MIN_FRAME_LENGTH = 60;

const MAC_TEXT = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/;

/** An IEEE 802.1Q tag: priority code point, drop-eligible indicator and VLAN identifier. */
export interface VlanTag {
  /** Priority code point, 0-7 (IEEE 802.1p). */
  readonly priority: number;
  /** Drop-eligible indicator (formerly CFI). */
  readonly dropEligible: boolean;
  /** VLAN identifier, 0-4095 (0 means priority-tagged only). */
  readonly id: number;
}

/** The addressing part of an Ethernet II header, shared by the ARP and NDP frame types. */
export interface EthernetHeader {
  /** Destination MAC address in canonical text form. */
  readonly destination: string;
  /** Source MAC address in canonical text form. */
  readonly source: string;
  /** The 802.1Q tag, present only on tagged frames. */
  readonly vlan?: VlanTag;
}

/** A whole Ethernet II frame: header, EtherType of the payload, and the payload. */
export interface EthernetFrame extends EthernetHeader {
  /** EtherType of the payload (0x0600-0xffff, never the VLAN TPID). */
  readonly etherType: number;
  /** Payload bytes; on decode they include any padding after the inner protocol's data. */
  readonly payload: Buffer;
}

/** Options for encoding an Ethernet frame. */
export interface EthernetEncodeOptions {
  /** Pad with zero bytes to 60 octets (64 with FCS), as a NIC would; default false. */
  readonly padToMinimum?: boolean;
}

/** Parses a MAC address written as six hex pairs separated by ':' or '-'; throws RangeError otherwise. */
export function parseMac(text: string): Buffer {
  if (!MAC_TEXT.test(text)) throw new RangeError(`not a MAC address: ${JSON.stringify(text)}`);
  return Buffer.from(text.replace(/[:-]/g, ''), 'hex');
}

/** Formats 6 bytes as a MAC address: lower-case hex pairs separated by ':'. */
export function formatMac(bytes: Uint8Array): string {
  if (bytes.length !== 6) throw new RangeError(`a MAC address has 6 bytes, not ${bytes.length}`);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/** Whether a MAC address is a group (multicast or broadcast) address: the I/G bit of its first octet. */
export function isGroupMac(mac: string): boolean {
  return ((parseMac(mac)[0] ?? 0) & 1) === 1;
}

/** Encodes an Ethernet II frame, with its 802.1Q tag if it has one. */
export function encodeEthernet(frame: EthernetFrame, options: EthernetEncodeOptions = {}): Buffer {
  if (!Number.isInteger(frame.etherType) || frame.etherType < 0x0600 || frame.etherType > 0xffff) {
    throw new RangeError(`EtherType must be 0x0600-0xffff, not ${frame.etherType}`);
  }
  if (frame.etherType === ETHERTYPE_VLAN || frame.etherType === ETHERTYPE_QINQ) {
    throw new RangeError('a VLAN tag belongs in the vlan field, not in etherType');
  }
  const tagLength = frame.vlan ? 4 : 0;
  const headerLength = ETHERNET_HEADER_LENGTH + tagLength;
  const length = headerLength + frame.payload.length;
  const out = Buffer.alloc(options.padToMinimum ? Math.max(length, MIN_FRAME_LENGTH) : length);
  parseMac(frame.destination).copy(out, 0);
  parseMac(frame.source).copy(out, 6);
  if (frame.vlan) {
    out.writeUInt16BE(ETHERTYPE_VLAN, 12);
    out.writeUInt16BE(encodeTagControl(frame.vlan), 14);
  }
  out.writeUInt16BE(frame.etherType, 12 + tagLength);
  frame.payload.copy(out, headerLength);
  return out;
}

/** Decodes an Ethernet II frame (FCS already stripped); the payload is a copy, padding included. */
export function decodeEthernet(buf: Buffer): EthernetFrame {
  if (buf.length < ETHERNET_HEADER_LENGTH) {
    throw new Layer2DecodeError('ethernet', 'truncated', `frame of ${buf.length} bytes is shorter than its header`);
  }
  const destination = formatMac(buf.subarray(0, 6));
  const source = formatMac(buf.subarray(6, 12));
  let etherType = buf.readUInt16BE(12);
  let offset = ETHERNET_HEADER_LENGTH;
  let vlan: VlanTag | undefined;
  if (etherType === ETHERTYPE_VLAN) {
    if (buf.length < ETHERNET_HEADER_LENGTH + 4) {
      throw new Layer2DecodeError('ethernet', 'truncated', `tagged frame of ${buf.length} bytes is shorter than its header`);
    }
    vlan = decodeTagControl(buf.readUInt16BE(14));
    etherType = buf.readUInt16BE(16);
    offset += 4;
  }
  if (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ) {
    throw new Layer2DecodeError('ethernet', 'unsupported-protocol', `stacked or 802.1ad VLAN tag 0x${hex16(etherType)}`);
  }
  if (etherType < 0x0600) {
    throw new Layer2DecodeError('ethernet', 'not-ethernet-ii', `type/length field ${etherType} is an IEEE 802.3 length`);
  }
  const payload = Buffer.from(buf.subarray(offset));
  return vlan ? { destination, source, vlan, etherType, payload } : { destination, source, etherType, payload };
}

/** Encodes a frame whose header is given separately from its EtherType and payload. */
export function encodeEthernetWith(
  header: EthernetHeader,
  etherType: number,
  payload: Buffer,
  options: EthernetEncodeOptions = {},
): Buffer {
  return encodeEthernet({ ...header, etherType, payload }, options);
}

/** Decodes a frame that must carry the given EtherType, returning its header and payload. */
export function decodeEthernetOf(buf: Buffer, etherType: number): { header: EthernetHeader; payload: Buffer } {
  const frame = decodeEthernet(buf);
  if (frame.etherType !== etherType) {
    throw new Layer2DecodeError(
      'ethernet',
      'wrong-ethertype',
      `EtherType is 0x${hex16(frame.etherType)}, expected 0x${hex16(etherType)}`,
    );
  }
  const { destination, source, vlan } = frame;
  return { header: vlan ? { destination, source, vlan } : { destination, source }, payload: frame.payload };
}

function encodeTagControl(tag: VlanTag): number {
  if (!Number.isInteger(tag.priority) || tag.priority < 0 || tag.priority > 7) {
    throw new RangeError(`VLAN priority must be 0-7, not ${tag.priority}`);
  }
  if (!Number.isInteger(tag.id) || tag.id < 0 || tag.id > 4095) {
    throw new RangeError(`VLAN id must be 0-4095, not ${tag.id}`);
  }
  return (tag.priority << 13) | (tag.dropEligible ? 0x1000 : 0) | tag.id;
}

function decodeTagControl(tci: number): VlanTag {
  return { priority: tci >> 13, dropEligible: (tci & 0x1000) !== 0, id: tci & 0x0fff };
}

function hex16(value: number): string {
  return value.toString(16).padStart(4, '0');
}
