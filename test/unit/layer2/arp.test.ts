import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arpReplyTo,
  decodeArp,
  decodeArpFrame,
  encodeArp,
  encodeArpFrame,
  gratuitousArpReply,
  gratuitousArpRequest,
} from '../../../speakers/layer2/codec/arp.js';
import type { ArpPacket } from '../../../speakers/layer2/codec/arp.js';
import {
  applyEdits,
  arpFrameArb,
  arpPacketArb,
  byteEditsArb,
  expectDecodesOrRefuses,
  expectRefusal,
} from '../../helpers/layer2-arbitraries.js';

const VIP = '192.0.2.100';
const MAC = '02:00:00:00:00:0a';

const request: ArpPacket = {
  operation: 'request',
  senderMac: '02:00:00:00:00:0b',
  senderIp: '192.0.2.2',
  targetMac: '00:00:00:00:00:00',
  targetIp: VIP,
};

describe('ARP packets (RFC 826)', () => {
  it('writes a request field by field', () => {
    expect(encodeArp(request)).toEqual(
      Buffer.from([
        ...[0x00, 0x01], // ar$hrd: Ethernet
        ...[0x08, 0x00], // ar$pro: IPv4
        ...[0x06], // ar$hln: 6
        ...[0x04], // ar$pln: 4
        ...[0x00, 0x01], // ar$op: request
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0b], // ar$sha
        ...[192, 0, 2, 2], // ar$spa
        ...[0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // ar$tha: unknown
        ...[192, 0, 2, 100], // ar$tpa
      ]),
    );
  });

  it('ignores Ethernet padding after the 28 bytes', () => {
    expect(decodeArp(Buffer.concat([encodeArp(request), Buffer.alloc(18)]))).toEqual(request);
  });

  it('refuses other hardware, other protocols, other operations and short packets', () => {
    const bytes = encodeArp(request);
    const edit = (offset: number, value: number): Buffer => applyEdits(bytes, [{ at: offset, value }]);
    expectRefusal(() => decodeArp(edit(1, 6)), 'unsupported-hardware'); // IEEE 802 networks
    expectRefusal(() => decodeArp(edit(4, 8)), 'unsupported-hardware'); // hln 8
    expectRefusal(() => decodeArp(edit(2, 0x86)), 'unsupported-protocol'); // pro 0x8600
    expectRefusal(() => decodeArp(edit(5, 16)), 'unsupported-protocol'); // pln 16
    expectRefusal(() => decodeArp(edit(7, 3)), 'unsupported-operation'); // RARP request
    expectRefusal(() => decodeArp(bytes.subarray(0, 27)), 'truncated');
    expectRefusal(() => decodeArp(bytes.subarray(0, 7)), 'truncated');
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(arpPacketArb, (packet) => {
        expect(decodeArp(encodeArp(packet))).toEqual(packet);
      }),
    );
    fc.assert(
      fc.property(arpFrameArb, fc.boolean(), (frame, padToMinimum) => {
        expect(decodeArpFrame(encodeArpFrame(frame, { padToMinimum }))).toEqual(frame);
      }),
    );
  });

  it('only ever refuses random, edited or cut frames with a Layer2DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expectDecodesOrRefuses(() => decodeArpFrame(Buffer.from(bytes)));
        expectDecodesOrRefuses(() => decodeArp(Buffer.from(bytes)));
      }),
    );
    fc.assert(
      fc.property(arpFrameArb, byteEditsArb, fc.nat(), (frame, edits, cut) => {
        const bytes = applyEdits(encodeArpFrame(frame), edits);
        expectDecodesOrRefuses(() => decodeArpFrame(bytes));
        expectDecodesOrRefuses(() => decodeArpFrame(bytes.subarray(0, cut % bytes.length)));
      }),
    );
  });
});

describe('frames a layer-2 speaker sends', () => {
  it('announces a VIP with a broadcast request whose sender and target IP are the VIP', () => {
    expect(encodeArpFrame(gratuitousArpRequest(VIP, MAC))).toEqual(
      Buffer.from([
        ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // Ethernet destination: broadcast
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // Ethernet source: our MAC
        ...[0x08, 0x06], // EtherType: ARP
        ...[0x00, 0x01, 0x08, 0x00, 0x06, 0x04], // Ethernet, IPv4, hln 6, pln 4
        ...[0x00, 0x01], // request
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // sender MAC: ours
        ...[192, 0, 2, 100], // sender IP: the VIP
        ...[0x00, 0x00, 0x00, 0x00, 0x00, 0x00], // target MAC: zero (RFC 5227 announcement)
        ...[192, 0, 2, 100], // target IP: the VIP again
      ]),
    );
  });

  it('announces a VIP with a broadcast reply whose target MAC is its sender MAC', () => {
    expect(encodeArpFrame(gratuitousArpReply(VIP, MAC))).toEqual(
      Buffer.from([
        ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // Ethernet destination: broadcast
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // Ethernet source: our MAC
        ...[0x08, 0x06], // EtherType: ARP
        ...[0x00, 0x01, 0x08, 0x00, 0x06, 0x04], // Ethernet, IPv4, hln 6, pln 4
        ...[0x00, 0x02], // reply
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // sender MAC: ours
        ...[192, 0, 2, 100], // sender IP: the VIP
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // target MAC: ours again, or Linux ignores it within locktime
        ...[192, 0, 2, 100], // target IP: the VIP
      ]),
    );
  });

  it('answers a request for the VIP with a unicast reply to the asker, on the asker’s VLAN', () => {
    const asked = { ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: request.senderMac, vlan: { priority: 0, dropEligible: false, id: 20 } }, arp: request };
    expect(arpReplyTo(asked, MAC)).toEqual({
      ethernet: { destination: request.senderMac, source: MAC, vlan: { priority: 0, dropEligible: false, id: 20 } },
      arp: { operation: 'reply', senderMac: MAC, senderIp: VIP, targetMac: request.senderMac, targetIp: request.senderIp },
    });
  });
});
