import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeArpFrame } from '../../../speakers/layer2/codec/arp.js';
import { encodeEthernet } from '../../../speakers/layer2/codec/ethernet.js';
import { decodeLayer2Frame, encodeLayer2Frame } from '../../../speakers/layer2/codec/layer2-frame.js';
import { encodeNdpFrame } from '../../../speakers/layer2/codec/ndp.js';
import { arpFrameArb, expectDecodesOrRefuses, expectRefusal, ndpFrameArb } from '../../helpers/layer2-arbitraries.js';

describe('one decoder for a socket that receives ARP and NDP', () => {
  it('tells ARP from NDP by EtherType, tagged or not', () => {
    fc.assert(
      fc.property(arpFrameArb, ndpFrameArb, (arp, ndp) => {
        expect(decodeLayer2Frame(encodeArpFrame(arp))).toEqual({ kind: 'arp', frame: arp });
        expect(decodeLayer2Frame(encodeNdpFrame(ndp))).toEqual({ kind: 'ndp', frame: ndp });
        expect(encodeLayer2Frame({ kind: 'arp', frame: arp })).toEqual(encodeArpFrame(arp));
        expect(encodeLayer2Frame({ kind: 'ndp', frame: ndp }, { padToMinimum: true })).toEqual(encodeNdpFrame(ndp, { padToMinimum: true }));
      }),
    );
  });

  it('refuses IPv4 and other EtherTypes', () => {
    const ipv4 = encodeEthernet({ destination: '02:00:00:00:00:0a', source: '02:00:00:00:00:0b', etherType: 0x0800, payload: Buffer.alloc(46) });
    expectRefusal(() => decodeLayer2Frame(ipv4), 'wrong-ethertype');
  });

  it('only ever refuses random bytes with a Layer2DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(0x0806, 0x86dd, 0x8100), (bytes, etherType) => {
        const frame = Buffer.from(bytes);
        if (frame.length >= 14) frame.writeUInt16BE(etherType, 12);
        expectDecodesOrRefuses(() => decodeLayer2Frame(frame));
      }),
    );
  });
});
