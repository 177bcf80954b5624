// Requests as Linux clients send them, for the responder's tests: ARP requests (RFC 826) and
// Neighbor Solicitations (RFC 4861 4.3) with every field a test may want to spoil.
import type { Buffer } from 'node:buffer';
import { encodeArpFrame } from '../../speakers/layer2/codec/arp.js';
import type { ArpFrame } from '../../speakers/layer2/codec/arp.js';
import { ipv6MulticastMac, solicitedNodeAddress } from '../../speakers/layer2/codec/ipv6.js';
import { encodeNdpFrame } from '../../speakers/layer2/codec/ndp.js';
import type { NdpFrame } from '../../speakers/layer2/codec/ndp.js';

/** The MAC the helpers' requests come from unless told otherwise. */
export const CLIENT_MAC = '02:00:00:00:00:c1';

/** A broadcast ARP request for targetIp. */
export function arpRequest(targetIp: string, senderIp = '192.0.2.9', senderMac = CLIENT_MAC): Buffer {
  const frame: ArpFrame = {
    ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: senderMac },
    arp: { operation: 'request', senderMac, senderIp, targetMac: '00:00:00:00:00:00', targetIp },
  };
  return encodeArpFrame(frame);
}

/** A Neighbor Solicitation for target to its solicited-node group (with a source link-layer option unless from ::). */
export function neighborSolicitation(target: string, options: { hopLimit?: number; source?: string; senderMac?: string } = {}): Buffer {
  const source = options.source ?? '2001:db8::9';
  const senderMac = options.senderMac ?? CLIENT_MAC;
  const group = solicitedNodeAddress(target);
  const frame: NdpFrame = {
    ethernet: { destination: ipv6MulticastMac(group), source: senderMac },
    packet: {
      source,
      destination: group,
      hopLimit: options.hopLimit ?? 255,
      trafficClass: 0,
      flowLabel: 0,
      message: { type: 'neighbor-solicitation', target, ...(source !== '::' ? { sourceLinkLayerAddress: senderMac } : {}) },
    },
  };
  return encodeNdpFrame(frame);
}
