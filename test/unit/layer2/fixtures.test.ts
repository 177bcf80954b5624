// Golden frames: captured from the Linux kernel, arping and ndisc6 (see the notes in each
// test/fixtures/layer2/*.hex file), and frames our own encoder produced and tshark checked.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeArpFrame, gratuitousArpReply, gratuitousArpRequest } from '../../../speakers/layer2/codec/arp.js';
import type { ArpFrame } from '../../../speakers/layer2/codec/arp.js';
import { Layer2DecodeError } from '../../../speakers/layer2/codec/errors.js';
import { decodeLayer2Frame, encodeLayer2Frame } from '../../../speakers/layer2/codec/layer2-frame.js';
import type { Layer2Frame } from '../../../speakers/layer2/codec/layer2-frame.js';
import {
  neighborAdvertisementFor,
  unsolicitedNeighborAdvertisement,
} from '../../../speakers/layer2/codec/ndp.js';
import type { NdpFrame } from '../../../speakers/layer2/codec/ndp.js';
import { layer2Fixture, layer2Fixtures } from '../../fixtures/layer2/load-fixtures.js';
import { encoderFrames } from '../../fixtures/layer2/write-encoder-pcap.js';

const MAC_A = '02:00:00:00:00:0a';
const MAC_B = '02:00:00:00:00:0b';

function decodeFrame(bytes: Buffer): ArpFrame | NdpFrame {
  return decodeLayer2Frame(bytes).frame;
}

function encodeFrame(frame: ArpFrame | NdpFrame): Buffer {
  const tagged: Layer2Frame = 'arp' in frame ? { kind: 'arp', frame } : { kind: 'ndp', frame };
  return encodeLayer2Frame(tagged);
}

const ndpHeader = { hopLimit: 255, trafficClass: 0, flowLabel: 0 };

/** What each captured frame says, written out from the capture notes (and tshark's reading of it). */
const expected: Record<string, ArpFrame | NdpFrame> = {
  'kernel-arp-request': {
    ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A },
    arp: { operation: 'request', senderMac: MAC_A, senderIp: '192.0.2.1', targetMac: '00:00:00:00:00:00', targetIp: '192.0.2.2' },
  },
  'kernel-arp-reply': {
    ethernet: { destination: MAC_A, source: MAC_B },
    arp: { operation: 'reply', senderMac: MAC_B, senderIp: '192.0.2.2', targetMac: MAC_A, targetIp: '192.0.2.1' },
  },
  'arping-gratuitous-request': {
    ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A },
    arp: { operation: 'request', senderMac: MAC_A, senderIp: '192.0.2.1', targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: '192.0.2.1' },
  },
  'arping-gratuitous-reply': {
    ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A },
    arp: { operation: 'reply', senderMac: MAC_A, senderIp: '192.0.2.1', targetMac: MAC_A, targetIp: '192.0.2.1' },
  },
  'kernel-ns': {
    ethernet: { destination: '33:33:ff:00:00:02', source: MAC_A },
    packet: {
      ...ndpHeader,
      source: '2001:db8::1',
      destination: 'ff02::1:ff00:2',
      message: { type: 'neighbor-solicitation', target: '2001:db8::2', sourceLinkLayerAddress: MAC_A },
    },
  },
  'kernel-na-solicited': {
    ethernet: { destination: MAC_A, source: MAC_B },
    packet: {
      ...ndpHeader,
      source: '2001:db8::2',
      destination: '2001:db8::1',
      message: { type: 'neighbor-advertisement', router: false, solicited: true, override: true, target: '2001:db8::2', targetLinkLayerAddress: MAC_B },
    },
  },
  'ndisc6-ns': {
    ethernet: { destination: '33:33:ff:00:00:02', source: MAC_A },
    packet: {
      ...ndpHeader,
      flowLabel: 0xeb7a0,
      source: 'fe80::ff:fe00:a',
      destination: 'ff02::1:ff00:2',
      message: { type: 'neighbor-solicitation', target: '2001:db8::2', sourceLinkLayerAddress: MAC_A },
    },
  },
  'kernel-na-reply-to-ndisc6': {
    ethernet: { destination: MAC_A, source: MAC_B },
    packet: {
      ...ndpHeader,
      source: '2001:db8::2',
      destination: 'fe80::ff:fe00:a',
      message: { type: 'neighbor-advertisement', router: false, solicited: true, override: true, target: '2001:db8::2', targetLinkLayerAddress: MAC_B },
    },
  },
  'kernel-unsolicited-na': {
    ethernet: { destination: '33:33:00:00:00:01', source: MAC_B },
    packet: {
      ...ndpHeader,
      source: '2001:db8::b',
      destination: 'ff02::1',
      message: { type: 'neighbor-advertisement', router: false, solicited: false, override: true, target: '2001:db8::b', targetLinkLayerAddress: MAC_B },
    },
  },
  'kernel-dad-ns': {
    ethernet: { destination: '33:33:ff:00:0d:ad', source: MAC_B },
    packet: {
      ...ndpHeader,
      source: '::',
      destination: 'ff02::1:ff00:dad',
      message: { type: 'neighbor-solicitation', target: '2001:db8::dad', otherOptions: [{ type: 14, data: Buffer.from('fad3f3c01edd', 'hex') }] },
    },
  },
  // Produced by our own encoder (see each file's notes), so the encoder cannot drift unnoticed.
  'vipcast-gratuitous-arp-request': gratuitousArpRequest('192.0.2.100', MAC_A),
  'vipcast-gratuitous-arp-reply': gratuitousArpReply('192.0.2.100', MAC_A),
  'vipcast-unsolicited-na': unsolicitedNeighborAdvertisement('2001:db8::100', MAC_A),
  'vipcast-solicited-na': neighborAdvertisementFor(
    {
      ethernet: { destination: '33:33:ff:00:01:00', source: MAC_B, vlan: { priority: 0, dropEligible: false, id: 20 } },
      packet: { ...ndpHeader, source: '2001:db8::2', destination: 'ff02::1:ff00:100', message: { type: 'neighbor-solicitation', target: '2001:db8::100', sourceLinkLayerAddress: MAC_B } },
    },
    MAC_A,
  ),
};

describe('golden layer-2 frames', () => {
  const fixtures = layer2Fixtures();

  it('has notes on where every fixture came from, and an expectation for each', () => {
    expect(fixtures.map((f) => f.name).sort()).toEqual(Object.keys(expected).sort());
    for (const fixture of fixtures) {
      expect(fixture.notes.join(' '), fixture.name).toMatch(/(Sender|Produced by): .+/);
      expect(fixture.notes.join(' '), fixture.name).toMatch(/2026-\d\d-\d\d/);
    }
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s decodes to what was sent, and encodes back to the same bytes', (name, fixture) => {
    const frame = decodeFrame(fixture.bytes);
    expect(frame).toEqual(expected[name]);
    expect(encodeFrame(frame)).toEqual(fixture.bytes);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s is refused with a Layer2DecodeError when cut short anywhere', (_name, fixture) => {
    for (let length = 0; length < fixture.bytes.length; length++) {
      expect(() => decodeFrame(fixture.bytes.subarray(0, length))).toThrow(Layer2DecodeError);
    }
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s decodes the same with Ethernet padding or a trailer', (name, fixture) => {
    const padded = Buffer.concat([fixture.bytes, Buffer.alloc(Math.max(60 - fixture.bytes.length, 4))]);
    expect(decodeFrame(padded)).toEqual(expected[name]);
  });

  it('pins the frames that were checked with tshark (write-encoder-pcap.ts frames 1-4)', () => {
    const names = ['vipcast-gratuitous-arp-request', 'vipcast-gratuitous-arp-reply', 'vipcast-unsolicited-na', 'vipcast-solicited-na'];
    expect(encoderFrames().slice(0, 4)).toEqual(names.map((name) => layer2Fixture(name).bytes));
  });

  it('captured the gratuitous forms the design needs from a real sender', () => {
    const request = decodeArpFrame(layer2Fixture('arping-gratuitous-request').bytes).arp;
    expect(request.senderIp).toBe(request.targetIp);
    const reply = decodeArpFrame(layer2Fixture('arping-gratuitous-reply').bytes).arp;
    expect([reply.senderIp, reply.senderMac]).toEqual([reply.targetIp, reply.targetMac]);
  });
});
