// Neighbor Solicitation and Neighbor Advertisement (RFC 4861 sections 4.3, 4.4) with their
// link-layer address options (4.6.1), at three levels: the ICMPv6 message alone (for a raw
// ICMPv6 socket, where the kernel writes the IPv6 header and checksum), the IPv6 packet, and
// the Ethernet frame. Decoders apply the validity checks of RFC 4861 sections 7.1.1 and 7.1.2
// that their level can see; the hop limit is reported, not judged, so callers decide.
import { Buffer } from 'node:buffer';
import { ETHERTYPE_IPV6, decodeEthernetOf, encodeEthernetWith, formatMac, parseMac } from './ethernet.js';
import type { EthernetEncodeOptions, EthernetHeader } from './ethernet.js';
import { Layer2DecodeError } from './errors.js';
import { formatIpv6, parseIpv6 } from '../../common/ip-text.js';
import {
  ALL_NODES_ADDRESS,
  NEXT_HEADER_ICMPV6,
  decodeIpv6,
  encodeIpv6,
  icmpv6Checksum,
  ipv6MulticastMac,
  isMulticastIpv6,
  isSolicitedNodeAddress,
  isUnspecifiedIpv6,
  verifyIcmpv6Checksum,
} from './ipv6.js';

/** ICMPv6 type of a Neighbor Solicitation (RFC 4861 section 4.3). */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
/** ICMPv6 type of a Neighbor Advertisement (RFC 4861 section 4.4). */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** Option type of the Source Link-Layer Address option (RFC 4861 section 4.6.1). */
export const NDP_OPTION_SOURCE_LINK_LAYER_ADDRESS = 1;
/** Option type of the Target Link-Layer Address option (RFC 4861 section 4.6.1). */
export const NDP_OPTION_TARGET_LINK_LAYER_ADDRESS = 2;
/** The hop limit every NS and NA is sent with, and without which it must be dropped (RFC 4861 sections 7.1.1, 7.1.2). */
export const NDP_HOP_LIMIT = 255;

const MESSAGE_HEADER_LENGTH = 24; // type, code, checksum, flags/reserved, target address
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;

/** An NDP option this codec does not interpret, kept so that decoding loses nothing (RFC 4861 section 4.6). */
export interface NdpOption {
  /** Option type, 0-255. */
  readonly type: number;
  /** The bytes after Type and Length: 8 × Length − 2 of them, so 6, 14, 22, ... */
  readonly data: Buffer;
}

/** A Neighbor Solicitation (RFC 4861 section 4.3). */
export interface NeighborSolicitation {
  /** Tag of the union. */
  readonly type: 'neighbor-solicitation';
  /** The address whose link-layer address is asked for. */
  readonly target: string;
  /** The Source Link-Layer Address option, when present. */
  readonly sourceLinkLayerAddress?: string;
  /** Other options in the order they came, when there are any (e.g. the RFC 7527 nonce of DAD). */
  readonly otherOptions?: readonly NdpOption[];
}

/** A Neighbor Advertisement (RFC 4861 section 4.4). */
export interface NeighborAdvertisement {
  /** Tag of the union. */
  readonly type: 'neighbor-advertisement';
  /** R: the sender is a router. */
  readonly router: boolean;
  /** S: sent in response to a Neighbor Solicitation. */
  readonly solicited: boolean;
  /** O: the advertisement should override an existing cache entry. */
  readonly override: boolean;
  /** The address whose link-layer address is advertised. */
  readonly target: string;
  /** The Target Link-Layer Address option, when present. */
  readonly targetLinkLayerAddress?: string;
  /** Other options in the order they came, when there are any. */
  readonly otherOptions?: readonly NdpOption[];
}

/** The NDP messages this codec speaks, tagged by `type`. */
export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

/** An NS or NA in its IPv6 packet (Next Header 58), with the header fields a receiver must check. */
export interface NdpPacket {
  /** IPv6 source address. */
  readonly source: string;
  /** IPv6 destination address. */
  readonly destination: string;
  /** IPv6 hop limit; RFC 4861 7.1 says to drop NS/NA unless it is 255. */
  readonly hopLimit: number;
  /** IPv6 traffic class. */
  readonly trafficClass: number;
  /** IPv6 flow label. */
  readonly flowLabel: number;
  /** The ICMPv6 message. */
  readonly message: NdpMessage;
}

/** An NS or NA packet in its Ethernet frame (EtherType 0x86dd). */
export interface NdpFrame {
  /** The Ethernet addressing of the frame. */
  readonly ethernet: EthernetHeader;
  /** The IPv6 packet it carries. */
  readonly packet: NdpPacket;
}

/** The IPv6 addresses over which the ICMPv6 checksum is computed (RFC 8200 section 8.1). */
export interface ChecksumAddresses {
  /** IPv6 source address. */
  readonly source: string;
  /** IPv6 destination address. */
  readonly destination: string;
}

/**
 * Encodes an NS or NA as an ICMPv6 message (RFC 4861 sections 4.3, 4.4, 4.6.1); with addresses
 * the checksum is filled in, without them it is left zero for a raw socket's kernel to fill.
 * It serialises what it is given: the section 7.1 rules are the decoder's to enforce.
 */
export function encodeNdpMessage(message: NdpMessage, addresses?: ChecksumAddresses): Buffer {
  const isSolicitation = message.type === 'neighbor-solicitation';
  const linkLayerType = isSolicitation ? NDP_OPTION_SOURCE_LINK_LAYER_ADDRESS : NDP_OPTION_TARGET_LINK_LAYER_ADDRESS;
  const linkLayerAddress = isSolicitation ? message.sourceLinkLayerAddress : message.targetLinkLayerAddress;
  const options: Buffer[] = [];
  if (linkLayerAddress !== undefined) options.push(encodeOption(linkLayerType, parseMac(linkLayerAddress)));
  for (const option of message.otherOptions ?? []) {
    if (option.type === linkLayerType) {
      throw new RangeError(`option ${linkLayerType} of a ${message.type} belongs in its link-layer address field`);
    }
    options.push(encodeOption(option.type, option.data));
  }
  const header = Buffer.alloc(MESSAGE_HEADER_LENGTH);
  header.writeUInt8(isSolicitation ? ICMPV6_NEIGHBOR_SOLICITATION : ICMPV6_NEIGHBOR_ADVERTISEMENT, 0);
  // Byte 1 is the code (0); bytes 2-3 the checksum; bytes 4-7 flags and reserved bits (zero in an NS).
  if (!isSolicitation) {
    const flags =
      (message.router ? FLAG_ROUTER : 0) | (message.solicited ? FLAG_SOLICITED : 0) | (message.override ? FLAG_OVERRIDE : 0);
    header.writeUInt8(flags, 4);
  }
  parseIpv6(message.target).copy(header, 8);
  const out = Buffer.concat([header, ...options]);
  if (addresses) out.writeUInt16BE(icmpv6Checksum(addresses.source, addresses.destination, out), 2);
  return out;
}

/**
 * Decodes an ICMPv6 NS or NA message and applies the checks of RFC 4861 sections 7.1.1 and
 * 7.1.2 that need no IPv6 header: code 0, length of 24 or more, target not multicast, no option
 * of length 0. It does not verify the checksum (a raw ICMPv6 socket's kernel already has).
 */
export function decodeNdpMessage(body: Buffer): NdpMessage {
  if (body.length < 4) {
    throw new Layer2DecodeError('icmpv6', 'truncated', `message of ${body.length} bytes is shorter than its header`);
  }
  const type = body.readUInt8(0);
  const code = body.readUInt8(1);
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) {
    throw new Layer2DecodeError('icmpv6', 'unsupported-message', `ICMPv6 type ${type}`);
  }
  if (code !== 0) throw new Layer2DecodeError('icmpv6', 'bad-code', `code ${code}`);
  if (body.length < MESSAGE_HEADER_LENGTH) {
    throw new Layer2DecodeError('icmpv6', 'bad-length', `message of ${body.length} bytes is shorter than 24`);
  }
  const target = body.subarray(8, 24);
  if (target[0] === 0xff) {
    throw new Layer2DecodeError('icmpv6', 'multicast-target', `target ${formatIpv6(target)} is multicast`);
  }
  const isSolicitation = type === ICMPV6_NEIGHBOR_SOLICITATION;
  const { linkLayerAddress, otherOptions } = decodeOptions(
    body.subarray(MESSAGE_HEADER_LENGTH),
    isSolicitation ? NDP_OPTION_SOURCE_LINK_LAYER_ADDRESS : NDP_OPTION_TARGET_LINK_LAYER_ADDRESS,
  );
  const rest = {
    target: formatIpv6(target),
    ...(otherOptions.length > 0 ? { otherOptions } : {}),
  };
  if (isSolicitation) {
    return {
      type: 'neighbor-solicitation',
      ...rest,
      ...(linkLayerAddress !== undefined ? { sourceLinkLayerAddress: linkLayerAddress } : {}),
    };
  }
  const flags = body.readUInt8(4);
  return {
    type: 'neighbor-advertisement',
    router: (flags & FLAG_ROUTER) !== 0,
    solicited: (flags & FLAG_SOLICITED) !== 0,
    override: (flags & FLAG_OVERRIDE) !== 0,
    ...rest,
    ...(linkLayerAddress !== undefined ? { targetLinkLayerAddress: linkLayerAddress } : {}),
  };
}

/** Encodes an NS or NA in an IPv6 packet with Next Header 58 and a correct checksum (RFC 4861 sections 4.3, 4.4). */
export function encodeNdpPacket(packet: NdpPacket): Buffer {
  const { source, destination, hopLimit, trafficClass, flowLabel } = packet;
  const payload = encodeNdpMessage(packet.message, { source, destination });
  return encodeIpv6({ trafficClass, flowLabel, nextHeader: NEXT_HEADER_ICMPV6, hopLimit, source, destination, payload });
}

/**
 * Decodes an IPv6 packet carrying an NS or NA, verifying the checksum (RFC 4443 section 2.3)
 * and all checks of RFC 4861 sections 7.1.1 and 7.1.2 except the hop limit, which it reports.
 */
export function decodeNdpPacket(buf: Buffer): NdpPacket {
  const ip = decodeIpv6(buf);
  if (ip.nextHeader !== NEXT_HEADER_ICMPV6) {
    throw new Layer2DecodeError('ipv6', 'unsupported-protocol', `next header ${ip.nextHeader} is not ICMPv6`);
  }
  if (ip.payload.length >= 4 && !verifyIcmpv6Checksum(ip.source, ip.destination, ip.payload)) {
    throw new Layer2DecodeError('icmpv6', 'bad-checksum', `checksum 0x${ip.payload.readUInt16BE(2).toString(16)} does not verify`);
  }
  const message = decodeNdpMessage(ip.payload);
  if (message.type === 'neighbor-solicitation' && isUnspecifiedIpv6(ip.source)) {
    // RFC 4861 7.1.1: a solicitation from :: (duplicate address detection) goes to a
    // solicited-node group and carries no source link-layer address.
    if (!isSolicitedNodeAddress(ip.destination)) {
      throw new Layer2DecodeError('icmpv6', 'bad-destination', `NS from :: sent to ${ip.destination}`);
    }
    if (message.sourceLinkLayerAddress !== undefined) {
      throw new Layer2DecodeError('icmpv6', 'bad-option', 'NS from :: carries a source link-layer address');
    }
  }
  if (message.type === 'neighbor-advertisement' && message.solicited && isMulticastIpv6(ip.destination)) {
    throw new Layer2DecodeError('icmpv6', 'bad-destination', `solicited NA sent to multicast ${ip.destination}`);
  }
  const { source, destination, hopLimit, trafficClass, flowLabel } = ip;
  return { source, destination, hopLimit, trafficClass, flowLabel, message };
}

/** Encodes an NS or NA packet in an Ethernet frame with EtherType 0x86dd (RFC 2464 section 3). */
export function encodeNdpFrame(frame: NdpFrame, options: EthernetEncodeOptions = {}): Buffer {
  return encodeEthernetWith(frame.ethernet, ETHERTYPE_IPV6, encodeNdpPacket(frame.packet), options);
}

/** Decodes an Ethernet frame that must carry an IPv6 NS or NA, with the checks of {@link decodeNdpPacket}. */
export function decodeNdpFrame(buf: Buffer): NdpFrame {
  const { header, payload } = decodeEthernetOf(buf, ETHERTYPE_IPV6);
  return { ethernet: header, packet: decodeNdpPacket(payload) };
}

/**
 * The unsolicited Neighbor Advertisement that announces `address` at `mac` (RFC 4861 section
 * 7.2.6): to all-nodes ff02::1, hop limit 255, Override set, Solicited clear, with a Target
 * Link-Layer Address option. The IPv6 source defaults to the address itself.
 */
export function unsolicitedNeighborAdvertisement(address: string, mac: string, source: string = address): NdpFrame {
  return {
    ethernet: { destination: ipv6MulticastMac(ALL_NODES_ADDRESS), source: mac },
    packet: {
      source,
      destination: ALL_NODES_ADDRESS,
      hopLimit: NDP_HOP_LIMIT,
      trafficClass: 0,
      flowLabel: 0,
      message: {
        type: 'neighbor-advertisement',
        router: false,
        solicited: false,
        override: true,
        target: address,
        targetLinkLayerAddress: mac,
      },
    },
  };
}

/**
 * The advertisement answering a solicitation for an address that `mac` owns (RFC 4861 section
 * 7.2.4): Override set, sent from the target address with a Target Link-Layer Address option;
 * to the solicitor with Solicited set, or, if it solicited from ::, to all-nodes with Solicited
 * clear. The Ethernet destination is the solicitor's link-layer option, else its frame source.
 */
export function neighborAdvertisementFor(solicitation: NdpFrame, mac: string): NdpFrame {
  const ns = solicitation.packet.message;
  if (ns.type !== 'neighbor-solicitation') throw new RangeError(`cannot answer a ${ns.type}`);
  const fromUnspecified = isUnspecifiedIpv6(solicitation.packet.source);
  const destination = fromUnspecified ? ALL_NODES_ADDRESS : solicitation.packet.source;
  const ethernetDestination = fromUnspecified
    ? ipv6MulticastMac(ALL_NODES_ADDRESS)
    : (ns.sourceLinkLayerAddress ?? solicitation.ethernet.source);
  const { vlan } = solicitation.ethernet;
  return {
    ethernet: vlan
      ? { destination: ethernetDestination, source: mac, vlan }
      : { destination: ethernetDestination, source: mac },
    packet: {
      source: ns.target,
      destination,
      hopLimit: NDP_HOP_LIMIT,
      trafficClass: 0,
      flowLabel: 0,
      message: {
        type: 'neighbor-advertisement',
        router: false,
        solicited: !fromUnspecified,
        override: true,
        target: ns.target,
        targetLinkLayerAddress: mac,
      },
    },
  };
}

function encodeOption(type: number, data: Buffer): Buffer {
  const length = data.length + 2;
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError(`option type must be 0-255, not ${type}`);
  if (length % 8 !== 0 || length > 255 * 8) {
    throw new RangeError(`option ${type} has ${data.length} data bytes; 8 × n − 2 (n = 1-255) are needed`);
  }
  return Buffer.concat([Buffer.from([type, length / 8]), data]);
}

// RFC 4861 4.6: options are type, length in units of 8 octets, data. Link-layer address
// options on Ethernet are exactly 8 octets (RFC 2464 section 6).
function decodeOptions(
  buf: Buffer,
  linkLayerType: number,
): { linkLayerAddress: string | undefined; otherOptions: NdpOption[] } {
  let linkLayerAddress: string | undefined;
  const otherOptions: NdpOption[] = [];
  for (let offset = 0; offset < buf.length; ) {
    if (buf.length - offset < 2) {
      throw new Layer2DecodeError('icmpv6', 'truncated', `${buf.length - offset} stray byte after the options`);
    }
    const type = buf.readUInt8(offset);
    const length = buf.readUInt8(offset + 1) * 8;
    if (length === 0) throw new Layer2DecodeError('icmpv6', 'bad-option', `option ${type} has length 0`);
    if (offset + length > buf.length) {
      throw new Layer2DecodeError('icmpv6', 'truncated', `option ${type} of ${length} bytes overruns the message`);
    }
    const data = buf.subarray(offset + 2, offset + length);
    if (type === linkLayerType) {
      if (length !== 8) {
        throw new Layer2DecodeError('icmpv6', 'bad-option', `link-layer address option of ${length} bytes, not 8`);
      }
      if (linkLayerAddress !== undefined) {
        throw new Layer2DecodeError('icmpv6', 'bad-option', `link-layer address option ${type} appears twice`);
      }
      linkLayerAddress = formatMac(data);
    } else {
      otherOptions.push({ type, data: Buffer.from(data) });
    }
    offset += length;
  }
  return { linkLayerAddress, otherOptions };
}
