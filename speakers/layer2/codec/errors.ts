// The one error type the layer-2 decoders throw. Each reason names the rule the bytes broke,
// so a caller can count drops by cause without parsing messages.

/** The protocol whose rules a frame broke. */
export type Layer2Protocol = 'ethernet' | 'arp' | 'ipv6' | 'icmpv6';

/** Why a layer-2 decoder refused its input. */
export type Layer2DecodeReason =
  /** Fewer bytes than a header, a length field or an option needs. */
  | 'truncated'
  /** The EtherType field is below 0x0600, so it is an IEEE 802.3 length, not an Ethernet II type. */
  | 'not-ethernet-ii'
  /** A frame decoder was handed a frame of another EtherType. */
  | 'wrong-ethertype'
  /** ARP hardware type/length is not Ethernet (RFC 826: hrd 1, hln 6). */
  | 'unsupported-hardware'
  /** ARP protocol is not IPv4, an IPv6 next header is not ICMPv6, or VLAN tags are stacked. */
  | 'unsupported-protocol'
  /** ARP operation is neither request (1) nor reply (2). */
  | 'unsupported-operation'
  /** The IPv6 version field is not 6 (RFC 8200 section 3). */
  | 'bad-version'
  /** The ICMPv6 type is neither Neighbor Solicitation (135) nor Neighbor Advertisement (136). */
  | 'unsupported-message'
  /** The ICMPv6 code is not 0 (RFC 4861 sections 7.1.1 and 7.1.2). */
  | 'bad-code'
  /** The ICMPv6 message is shorter than 24 octets (RFC 4861 sections 7.1.1 and 7.1.2). */
  | 'bad-length'
  /** The ICMPv6 checksum does not verify (RFC 4443 section 2.3). */
  | 'bad-checksum'
  /** The Target Address is a multicast address (RFC 4861 sections 7.1.1 and 7.1.2). */
  | 'multicast-target'
  /** An option has length 0, a link-layer option is not 8 octets or repeats, or breaks 7.1.1. */
  | 'bad-option'
  /** The IPv6 destination is not allowed for this message (RFC 4861 sections 7.1.1 and 7.1.2). */
  | 'bad-destination';

/** The only error a layer-2 decoder throws: the input broke a rule of the named protocol. */
export class Layer2DecodeError extends Error {
  /** Always `Layer2DecodeError`, so logs name the type. */
  override readonly name = 'Layer2DecodeError';

  /**
   * @param protocol the protocol whose rule was broken
   * @param reason the rule that was broken
   * @param detail a human-readable description of the offending bytes
   */
  constructor(
    readonly protocol: Layer2Protocol,
    readonly reason: Layer2DecodeReason,
    detail: string,
  ) {
    super(`${protocol}: ${detail}`);
  }
}
