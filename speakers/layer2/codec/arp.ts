// ARP for Ethernet and IPv4 (RFC 826): the 28-byte packet, the frame that carries it, and the
// frames a layer-2 speaker sends: both gratuitous forms and the answer to a request.
import { Buffer } from 'node:buffer';
import {
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ZERO_MAC,
  decodeEthernetOf,
  encodeEthernetWith,
  formatMac,
  parseMac,
} from './ethernet.js';
import type { EthernetEncodeOptions, EthernetHeader } from './ethernet.js';
import { Layer2DecodeError } from './errors.js';
import { formatIpv4, parseIpv4 } from '../../common/ip-text.js';

/** Length of an ARP packet for Ethernet and IPv4 (RFC 826 packet format, hln 6, pln 4). */
export const ARP_PACKET_LENGTH = 28;
/** ARP hardware type of Ethernet (RFC 826 ar$hrd, IANA "Hardware Types" 1). */
export const ARP_HARDWARE_ETHERNET = 1;
/** ARP opcode of a request (RFC 826 ares_op$REQUEST). */
export const ARP_OP_REQUEST = 1;
/** ARP opcode of a reply (RFC 826 ares_op$REPLY). */
export const ARP_OP_REPLY = 2;

/** The two ARP operations of RFC 826; anything else is refused on decode. */
export type ArpOperation = 'request' | 'reply';

/** An ARP packet for Ethernet/IPv4 (RFC 826), tagged by its operation. */
export interface ArpPacket {
  /** Request (op 1) or reply (op 2). */
  readonly operation: ArpOperation;
  /** Sender hardware address (ar$sha). */
  readonly senderMac: string;
  /** Sender protocol address (ar$spa), dotted quad. */
  readonly senderIp: string;
  /** Target hardware address (ar$tha); ignored in requests (RFC 5227 sets it to zero). */
  readonly targetMac: string;
  /** Target protocol address (ar$tpa), dotted quad. */
  readonly targetIp: string;
}

/** An ARP packet in its Ethernet frame (EtherType 0x0806). */
export interface ArpFrame {
  /** The Ethernet addressing of the frame. */
  readonly ethernet: EthernetHeader;
  /** The ARP packet it carries. */
  readonly arp: ArpPacket;
}

/** Encodes an ARP packet for Ethernet/IPv4 into its 28 bytes (RFC 826 packet format). */
export function encodeArp(packet: ArpPacket): Buffer {
  const out = Buffer.alloc(ARP_PACKET_LENGTH);
  out.writeUInt16BE(ARP_HARDWARE_ETHERNET, 0); // ar$hrd
  out.writeUInt16BE(ETHERTYPE_IPV4, 2); // ar$pro
  out.writeUInt8(6, 4); // ar$hln
  out.writeUInt8(4, 5); // ar$pln
  out.writeUInt16BE(packet.operation === 'request' ? ARP_OP_REQUEST : ARP_OP_REPLY, 6); // ar$op
  parseMac(packet.senderMac).copy(out, 8);
  parseIpv4(packet.senderIp).copy(out, 14);
  parseMac(packet.targetMac).copy(out, 18);
  parseIpv4(packet.targetIp).copy(out, 24);
  return out;
}

/** Decodes an Ethernet/IPv4 ARP packet (RFC 826), ignoring bytes after its 28 (Ethernet padding). */
export function decodeArp(buf: Buffer): ArpPacket {
  if (buf.length < 8) {
    throw new Layer2DecodeError('arp', 'truncated', `packet of ${buf.length} bytes is shorter than its fixed header`);
  }
  const hardware = buf.readUInt16BE(0);
  const protocol = buf.readUInt16BE(2);
  const hardwareLength = buf.readUInt8(4);
  const protocolLength = buf.readUInt8(5);
  const op = buf.readUInt16BE(6);
  if (hardware !== ARP_HARDWARE_ETHERNET || hardwareLength !== 6) {
    throw new Layer2DecodeError('arp', 'unsupported-hardware', `hardware type ${hardware} length ${hardwareLength}`);
  }
  if (protocol !== ETHERTYPE_IPV4 || protocolLength !== 4) {
    throw new Layer2DecodeError('arp', 'unsupported-protocol', `protocol type 0x${protocol.toString(16)} length ${protocolLength}`);
  }
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) {
    throw new Layer2DecodeError('arp', 'unsupported-operation', `operation ${op}`);
  }
  if (buf.length < ARP_PACKET_LENGTH) {
    throw new Layer2DecodeError('arp', 'truncated', `packet of ${buf.length} bytes is shorter than ${ARP_PACKET_LENGTH}`);
  }
  return {
    operation: op === ARP_OP_REQUEST ? 'request' : 'reply',
    senderMac: formatMac(buf.subarray(8, 14)),
    senderIp: formatIpv4(buf.subarray(14, 18)),
    targetMac: formatMac(buf.subarray(18, 24)),
    targetIp: formatIpv4(buf.subarray(24, 28)),
  };
}

/** Encodes an ARP packet in an Ethernet frame with EtherType 0x0806 (RFC 826). */
export function encodeArpFrame(frame: ArpFrame, options: EthernetEncodeOptions = {}): Buffer {
  return encodeEthernetWith(frame.ethernet, ETHERTYPE_ARP, encodeArp(frame.arp), options);
}

/** Decodes an Ethernet frame that must carry ARP (RFC 826); trailing padding is ignored. */
export function decodeArpFrame(buf: Buffer): ArpFrame {
  const { header, payload } = decodeEthernetOf(buf, ETHERTYPE_ARP);
  return { ethernet: header, arp: decodeArp(payload) };
}

/**
 * The request form of gratuitous ARP: a broadcast request with sender IP = target IP = the
 * address (RFC 5227 section 3 "ARP Announcement"), which Linux applies to existing entries at once.
 */
export function gratuitousArpRequest(address: string, mac: string): ArpFrame {
  return {
    ethernet: { destination: BROADCAST_MAC, source: mac },
    arp: { operation: 'request', senderMac: mac, senderIp: address, targetMac: ZERO_MAC, targetIp: address },
  };
}

/**
 * The reply form of gratuitous ARP: a broadcast reply with sender IP = target IP = the address
 * and target MAC = sender MAC (RFC 826; Linux ignores other unsolicited replies within locktime).
 */
export function gratuitousArpReply(address: string, mac: string): ArpFrame {
  return {
    ethernet: { destination: BROADCAST_MAC, source: mac },
    arp: { operation: 'reply', senderMac: mac, senderIp: address, targetMac: mac, targetIp: address },
  };
}

/**
 * The unicast reply that says `mac` has the address a request asked for (RFC 826 "swap the
 * sender and target fields"), keeping the request's VLAN tag.
 */
export function arpReplyTo(request: ArpFrame, mac: string): ArpFrame {
  const { vlan } = request.ethernet;
  const destination = request.arp.senderMac;
  return {
    ethernet: vlan ? { destination, source: mac, vlan } : { destination, source: mac },
    arp: {
      operation: 'reply',
      senderMac: mac,
      senderIp: request.arp.targetIp,
      targetMac: request.arp.senderMac,
      targetIp: request.arp.senderIp,
    },
  };
}
