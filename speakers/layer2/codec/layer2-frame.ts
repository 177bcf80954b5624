// One entry point for a link-layer socket that receives both ARP and NDP: decode the Ethernet
// header once and hand the payload to the ARP (RFC 826) or NDP (RFC 4861) decoder.
import type { Buffer } from 'node:buffer';
import { decodeArp, encodeArpFrame } from './arp.js';
import type { ArpFrame } from './arp.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, decodeEthernet } from './ethernet.js';
import type { EthernetEncodeOptions } from './ethernet.js';
import { Layer2DecodeError } from './errors.js';
import { decodeNdpPacket, encodeNdpFrame } from './ndp.js';
import type { NdpFrame } from './ndp.js';

/** A frame a layer-2 speaker sends or receives, tagged by protocol. */
export type Layer2Frame =
  | { readonly kind: 'arp'; readonly frame: ArpFrame }
  | { readonly kind: 'ndp'; readonly frame: NdpFrame };

/** Decodes an Ethernet frame carrying ARP (RFC 826) or an IPv6 NS/NA (RFC 4861), whichever its EtherType says. */
export function decodeLayer2Frame(buf: Buffer): Layer2Frame {
  const { destination, source, vlan, etherType, payload } = decodeEthernet(buf);
  const ethernet = vlan ? { destination, source, vlan } : { destination, source };
  if (etherType === ETHERTYPE_ARP) return { kind: 'arp', frame: { ethernet, arp: decodeArp(payload) } };
  if (etherType === ETHERTYPE_IPV6) return { kind: 'ndp', frame: { ethernet, packet: decodeNdpPacket(payload) } };
  throw new Layer2DecodeError('ethernet', 'wrong-ethertype', `EtherType 0x${etherType.toString(16)} is neither ARP nor IPv6`);
}

/** Encodes an ARP or NDP frame (RFC 826, RFC 4861). */
export function encodeLayer2Frame(frame: Layer2Frame, options: EthernetEncodeOptions = {}): Buffer {
  return frame.kind === 'arp' ? encodeArpFrame(frame.frame, options) : encodeNdpFrame(frame.frame, options);
}
