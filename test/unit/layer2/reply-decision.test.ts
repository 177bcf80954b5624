import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeArpFrame, encodeArpFrame, gratuitousArpRequest } from '../../../speakers/layer2/codec/arp.js';
import { encodeLayer2Frame } from '../../../speakers/layer2/codec/layer2-frame.js';
import { decodeNdpFrame, encodeNdpFrame, unsolicitedNeighborAdvertisement } from '../../../speakers/layer2/codec/ndp.js';
import { packetType } from '../../../speakers/layer2/packet-type.js';
import { decideReply } from '../../../speakers/layer2/reply-decision.js';
import type { ReplyDecision } from '../../../speakers/layer2/reply-decision.js';
import { layer2Fixture } from '../../fixtures/layer2/load-fixtures.js';
import { CLIENT_MAC, arpRequest, neighborSolicitation } from '../../helpers/layer2-requests.js';

const MAC = '02:00:00:00:00:0a';
const VIP4 = '192.0.2.100';
const VIP6 = '2001:db8::100';
const context = { mac: MAC, owns: (a: string) => a === VIP4 || a === VIP6 };

function replyOf(decision: ReplyDecision) {
  if (decision.action !== 'reply') throw new Error(`expected a reply, got ${JSON.stringify(decision)}`);
  return { ...decision, bytes: encodeLayer2Frame(decision.frame) };
}

describe('decideReply: ARP', () => {
  it('answers a request for an owned VIP with a unicast reply carrying our MAC (RFC 826)', () => {
    const reply = replyOf(decideReply(arpRequest(VIP4), context));
    expect(reply.vip).toBe(VIP4);
    expect(reply.requester).toBe(CLIENT_MAC);
    expect(decodeArpFrame(reply.bytes)).toEqual({
      ethernet: { destination: CLIENT_MAC, source: MAC },
      arp: { operation: 'reply', senderMac: MAC, senderIp: VIP4, targetMac: CLIENT_MAC, targetIp: '192.0.2.9' },
    });
  });

  it('does not answer for addresses it does not own', () => {
    expect(decideReply(arpRequest('192.0.2.101'), context)).toEqual({ action: 'ignore', reason: 'not-owned' });
    expect(decideReply(arpRequest(VIP4), { mac: MAC, owns: () => false })).toEqual({ action: 'ignore', reason: 'not-owned' });
  });

  it('answers an RFC 5227 probe (sender 0.0.0.0) to defend the VIP', () => {
    const reply = replyOf(decideReply(arpRequest(VIP4, '0.0.0.0'), context));
    expect(decodeArpFrame(reply.bytes).arp).toMatchObject({ senderIp: VIP4, senderMac: MAC, targetIp: '0.0.0.0', targetMac: CLIENT_MAC });
  });

  it('treats another host announcing our VIP as a conflict, not a question (RFC 5227 section 2.4)', () => {
    const frame = encodeArpFrame(gratuitousArpRequest(VIP4, '02:00:00:00:00:0b'));
    expect(decideReply(frame, context)).toEqual({ action: 'conflict', vip: VIP4, mac: '02:00:00:00:00:0b' });
    expect(decideReply(frame, { mac: MAC, owns: () => false })).toEqual({ action: 'ignore', reason: 'not-owned' });
  });

  it('does not answer a request the kernel says was for another host (a promiscuous port)', () => {
    expect(decideReply(arpRequest(VIP4), context, packetType.broadcast).action).toBe('reply');
    expect(decideReply(arpRequest(VIP4), context, packetType.otherHost)).toEqual({ action: 'ignore', reason: 'not-for-us' });
  });

  it('ignores replies, its own frames and requesters with a group MAC', () => {
    const reply = decodeArpFrame(arpRequest(VIP4));
    const asReply = encodeArpFrame({ ...reply, arp: { ...reply.arp, operation: 'reply' } });
    expect(decideReply(asReply, context)).toEqual({ action: 'ignore', reason: 'not-a-request' });
    expect(decideReply(arpRequest(VIP4, '192.0.2.1', MAC), context)).toEqual({ action: 'ignore', reason: 'own-frame' });
    const groupSender = encodeArpFrame({ ...reply, arp: { ...reply.arp, senderMac: '01:00:5e:00:00:01' } });
    expect(decideReply(groupSender, context)).toEqual({ action: 'ignore', reason: 'bad-requester' });
  });

  it('keeps the VLAN tag of a tagged request', () => {
    const request = decodeArpFrame(arpRequest(VIP4));
    const tagged = encodeArpFrame({ ...request, ethernet: { ...request.ethernet, vlan: { priority: 0, dropEligible: false, id: 42 } } });
    expect(decodeArpFrame(replyOf(decideReply(tagged, context)).bytes).ethernet.vlan?.id).toBe(42);
  });
});

describe('decideReply: Neighbor Solicitation', () => {
  it('answers with a unicast NA, Solicited=1, Override=1, hop limit 255, from the VIP (RFC 4861 7.2.4)', () => {
    const reply = replyOf(decideReply(neighborSolicitation(VIP6), context));
    const { ethernet, packet } = decodeNdpFrame(reply.bytes);
    expect(ethernet).toEqual({ destination: CLIENT_MAC, source: MAC });
    expect(packet).toMatchObject({ source: VIP6, destination: '2001:db8::9', hopLimit: 255 });
    expect(packet.message).toEqual({
      type: 'neighbor-advertisement',
      router: false,
      solicited: true,
      override: true,
      target: VIP6,
      targetLinkLayerAddress: MAC,
    });
  });

  it('answers a solicitation from :: (duplicate address detection) to ff02::1 with Solicited=0', () => {
    const reply = replyOf(decideReply(neighborSolicitation(VIP6, { source: '::' }), context));
    const { ethernet, packet } = decodeNdpFrame(reply.bytes);
    expect(ethernet.destination).toBe('33:33:00:00:00:01');
    expect(packet.destination).toBe('ff02::1');
    expect(packet.message).toMatchObject({ solicited: false, override: true, targetLinkLayerAddress: MAC });
  });

  it('drops a solicitation whose hop limit is not 255 (RFC 4861 7.1.1)', () => {
    for (const hopLimit of [64, 254, 1]) {
      expect(decideReply(neighborSolicitation(VIP6, { hopLimit }), context)).toEqual({ action: 'ignore', reason: 'hop-limit' });
    }
  });

  it('does not answer for addresses it does not own, nor advertisements', () => {
    expect(decideReply(neighborSolicitation('2001:db8::101'), context)).toEqual({ action: 'ignore', reason: 'not-owned' });
    const na = encodeNdpFrame(unsolicitedNeighborAdvertisement('2001:db8::101', '02:00:00:00:00:0b'));
    expect(decideReply(na, context)).toEqual({ action: 'ignore', reason: 'not-a-request' });
  });

  it('calls an advertisement of our VIP from another MAC a conflict, unless it came from off-link (hop limit below 255)', () => {
    const na = unsolicitedNeighborAdvertisement(VIP6, '02:00:00:00:00:0b');
    expect(decideReply(encodeNdpFrame(na), context)).toEqual({ action: 'conflict', vip: VIP6, mac: '02:00:00:00:00:0b' });
    const offLink = encodeNdpFrame({ ...na, packet: { ...na.packet, hopLimit: 64 } });
    expect(decideReply(offLink, context)).toEqual({ action: 'ignore', reason: 'hop-limit' });
  });

  it('answers the solicitation the Linux kernel really sent (fixture kernel-ns) when it owns the target', () => {
    const ns = layer2Fixture('kernel-ns').bytes;
    expect(decideReply(ns, { mac: '02:00:00:00:00:0b', owns: () => false })).toEqual({ action: 'ignore', reason: 'not-owned' });
    const reply = replyOf(decideReply(ns, { mac: '02:00:00:00:00:0b', owns: (a) => a === '2001:db8::2' }));
    expect(decodeNdpFrame(reply.bytes).ethernet.destination).toBe('02:00:00:00:00:0a');
  });
});

describe('decideReply: malformed input', () => {
  it('calls every truncation of a valid request malformed, never throws', () => {
    for (const frame of [arpRequest(VIP4), neighborSolicitation(VIP6)]) {
      const reasons = new Set<string>();
      for (let length = 0; length < frame.length; length++) {
        const decision = decideReply(frame.subarray(0, length), context);
        expect(decision.action).toBe('malformed');
        if (decision.action === 'malformed') reasons.add(decision.error.reason);
      }
      expect(reasons.has('truncated')).toBe(true);
    }
  });

  it('reports a corrupted NS checksum as malformed, not as an answerable request', () => {
    const frame = Buffer.from(neighborSolicitation(VIP6));
    frame.writeUInt8(frame.readUInt8(14 + 40 + 2) ^ 0xff, 14 + 40 + 2);
    const decision = decideReply(frame, context);
    expect(decision.action === 'malformed' && decision.error.reason).toBe('bad-checksum');
  });

  it('never throws on random bytes, nor on random edits of a valid request', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(['malformed', 'ignore', 'reply', 'conflict']).toContain(decideReply(Buffer.from(bytes), context).action);
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(arpRequest(VIP4), neighborSolicitation(VIP6)), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 4 }), (frame, edits) => {
        const edited = Buffer.from(frame);
        for (const [at, value] of edits) edited[at % edited.length] = value;
        expect(['malformed', 'ignore', 'reply', 'conflict']).toContain(decideReply(edited, context).action);
      }),
    );
  });
});
