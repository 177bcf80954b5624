import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  decodeEthernet,
  decodeEthernetOf,
  encodeEthernet,
  formatMac,
  isGroupMac,
  parseMac,
} from '../../../speakers/layer2/codec/ethernet.js';
import type { EthernetFrame } from '../../../speakers/layer2/codec/ethernet.js';
import { ethernetHeaderArb, expectDecodesOrRefuses, expectRefusal } from '../../helpers/layer2-arbitraries.js';

describe('MAC addresses', () => {
  it('parses colon or dash separated hex pairs and formats lower case with colons', () => {
    expect(parseMac('02:00:5E:10:00:0a')).toEqual(Buffer.from([0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a]));
    expect(parseMac('02-00-5e-10-00-0a')).toEqual(Buffer.from([0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a]));
    expect(formatMac(Buffer.from([0x33, 0x33, 0xff, 0x00, 0x00, 0x02]))).toBe('33:33:ff:00:00:02');
  });

  it.each(['', '02:00:5e:10:00', '02:00:5e:10:00:0a:0b', '02:00-5e:10:00:0a', '0200.5e10.000a', '02:00:5e:10:00:0g', '2:0:5e:10:0:a'])(
    'rejects %j',
    (text) => {
      expect(() => parseMac(text)).toThrow(RangeError);
    },
  );

  it('tells group addresses by the I/G bit', () => {
    expect(isGroupMac('ff:ff:ff:ff:ff:ff')).toBe(true);
    expect(isGroupMac('33:33:00:00:00:01')).toBe(true);
    expect(isGroupMac('02:00:00:00:00:0a')).toBe(false);
  });
});

describe('Ethernet II frames', () => {
  const frame: EthernetFrame = {
    destination: 'ff:ff:ff:ff:ff:ff',
    source: '02:00:00:00:00:0a',
    etherType: ETHERTYPE_ARP,
    payload: Buffer.from([0xde, 0xad]),
  };

  it('writes destination, source, EtherType, payload', () => {
    expect(encodeEthernet(frame)).toEqual(
      Buffer.from([
        ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // destination: broadcast
        ...[0x02, 0x00, 0x00, 0x00, 0x00, 0x0a], // source
        ...[0x08, 0x06], // EtherType: ARP
        ...[0xde, 0xad], // payload
      ]),
    );
  });

  it('pads to 60 bytes only when asked, and the padding comes back as payload', () => {
    expect(encodeEthernet(frame)).toHaveLength(16);
    const padded = encodeEthernet(frame, { padToMinimum: true });
    expect(padded).toHaveLength(60);
    expect(padded.subarray(16).every((byte) => byte === 0)).toBe(true);
    expect(decodeEthernet(padded).payload).toEqual(Buffer.concat([frame.payload, Buffer.alloc(44)]));
  });

  it('writes and reads one 802.1Q tag between source and EtherType', () => {
    const tagged = encodeEthernet({ ...frame, vlan: { priority: 5, dropEligible: true, id: 100 } });
    expect(tagged.subarray(12)).toEqual(
      Buffer.from([
        ...[0x81, 0x00], // TPID: 802.1Q
        ...[0xb0, 0x64], // TCI: priority 5 (101), DEI 1, VLAN 100 (0x064)
        ...[0x08, 0x06], // EtherType: ARP
        ...[0xde, 0xad], // payload
      ]),
    );
    expect(decodeEthernet(tagged)).toEqual({ ...frame, vlan: { priority: 5, dropEligible: true, id: 100 } });
  });

  it('refuses to put a VLAN TPID or an 802.3 length in etherType', () => {
    expect(() => encodeEthernet({ ...frame, etherType: 0x8100 })).toThrow(RangeError);
    expect(() => encodeEthernet({ ...frame, etherType: 0x05dc })).toThrow(RangeError);
    expect(() => encodeEthernet({ ...frame, vlan: { priority: 8, dropEligible: false, id: 1 } })).toThrow(RangeError);
  });

  it('refuses frames shorter than the header, 802.3 length frames, and stacked tags', () => {
    const bytes = encodeEthernet(frame);
    expectRefusal(() => decodeEthernet(bytes.subarray(0, 13)), 'truncated');
    const ieee8023 = Buffer.from(bytes);
    ieee8023.writeUInt16BE(46, 12);
    expectRefusal(() => decodeEthernet(ieee8023), 'not-ethernet-ii');
    const tagged = encodeEthernet({ ...frame, vlan: { priority: 0, dropEligible: false, id: 7 } });
    expectRefusal(() => decodeEthernet(tagged.subarray(0, 17)), 'truncated');
    const stacked = Buffer.from(tagged);
    stacked.writeUInt16BE(0x8100, 16);
    expectRefusal(() => decodeEthernet(stacked), 'unsupported-protocol');
  });

  it('checks the EtherType a frame decoder expects', () => {
    expectRefusal(() => decodeEthernetOf(encodeEthernet(frame), ETHERTYPE_IPV6), 'wrong-ethertype');
    expect(decodeEthernetOf(encodeEthernet(frame), ETHERTYPE_ARP)).toEqual({
      header: { destination: frame.destination, source: frame.source },
      payload: frame.payload,
    });
  });

  it('decodes what it encodes', () => {
    fc.assert(
      fc.property(
        ethernetHeaderArb,
        fc.integer({ min: 0x0600, max: 0xffff }).filter((type) => type !== 0x8100 && type !== 0x88a8),
        fc.uint8Array({ maxLength: 100 }),
        (header, etherType, payload) => {
          const original: EthernetFrame = { ...header, etherType, payload: Buffer.from(payload) };
          expect(decodeEthernet(encodeEthernet(original))).toEqual(original);
        },
      ),
    );
  });

  it('only ever refuses random bytes with a Layer2DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        expectDecodesOrRefuses(() => decodeEthernet(Buffer.from(bytes)));
      }),
    );
  });
});
