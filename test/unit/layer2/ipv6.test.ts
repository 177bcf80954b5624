import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeIpv6,
  encodeIpv6,
  icmpv6Checksum,
  ipv6MulticastMac,
  isMulticastIpv6,
  isSolicitedNodeAddress,
  isUnspecifiedIpv6,
  solicitedNodeAddress,
  verifyIcmpv6Checksum,
} from '../../../speakers/layer2/codec/ipv6.js';
import type { Ipv6Packet } from '../../../speakers/layer2/codec/ipv6.js';
import { expectDecodesOrRefuses, expectRefusal, ipv6Arb } from '../../helpers/layer2-arbitraries.js';

const packet: Ipv6Packet = {
  trafficClass: 0xb8,
  flowLabel: 0xeb7a0,
  nextHeader: 58,
  hopLimit: 255,
  source: 'fe80::ff:fe00:a',
  destination: 'ff02::1',
  payload: Buffer.from([1, 2, 3]),
};

describe('IPv6 fixed header (RFC 8200 section 3)', () => {
  it('writes version, traffic class, flow label, payload length, next header, hop limit, addresses', () => {
    expect(encodeIpv6(packet)).toEqual(
      Buffer.from([
        ...[0x6b, 0x8e, 0xb7, 0xa0], // version 6 | traffic class 0xb8 | flow label 0xeb7a0
        ...[0x00, 0x03], // payload length 3
        ...[0x3a], // next header: ICMPv6
        ...[0xff], // hop limit 255
        ...[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 0x0a], // source fe80::ff:fe00:a
        ...[0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01], // destination ff02::1
        ...[1, 2, 3], // payload
      ]),
    );
  });

  it('ignores bytes after Payload Length and refuses fewer', () => {
    const bytes = encodeIpv6(packet);
    expect(decodeIpv6(Buffer.concat([bytes, Buffer.alloc(5)]))).toEqual(packet);
    expectRefusal(() => decodeIpv6(bytes.subarray(0, bytes.length - 1)), 'truncated');
    expectRefusal(() => decodeIpv6(bytes.subarray(0, 39)), 'truncated');
  });

  it('refuses a version other than 6', () => {
    const bytes = encodeIpv6(packet);
    bytes[0] = 0x4b;
    expectRefusal(() => decodeIpv6(bytes), 'bad-version');
  });

  it('decodes what it encodes, and refuses random bytes only with a Layer2DecodeError', () => {
    fc.assert(
      fc.property(
        fc.record({
          trafficClass: fc.integer({ min: 0, max: 255 }),
          flowLabel: fc.integer({ min: 0, max: 0xfffff }),
          nextHeader: fc.integer({ min: 0, max: 255 }),
          hopLimit: fc.integer({ min: 0, max: 255 }),
          source: ipv6Arb,
          destination: ipv6Arb,
          payload: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
        }),
        (original) => {
          expect(decodeIpv6(encodeIpv6(original))).toEqual(original);
        },
      ),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 90 }), (bytes) => {
        expectDecodesOrRefuses(() => decodeIpv6(Buffer.from(bytes)));
      }),
    );
  });
});

describe('ICMPv6 checksum (RFC 4443 section 2.3)', () => {
  // The Neighbor Solicitation the Linux kernel sent in fixture kernel-ns, checksum 0x1c1e.
  const source = '2001:db8::1';
  const destination = 'ff02::1:ff00:2';
  const message = Buffer.from('87001c1e0000000020010db8000000000000000000000002010102000000000a', 'hex');

  it('computes the checksum the kernel computed, whatever is in the field', () => {
    expect(icmpv6Checksum(source, destination, message)).toBe(0x1c1e);
    const zeroed = Buffer.from(message);
    zeroed.writeUInt16BE(0, 2);
    expect(icmpv6Checksum(source, destination, zeroed)).toBe(0x1c1e);
  });

  it('verifies a correct checksum and catches a changed byte or address', () => {
    expect(verifyIcmpv6Checksum(source, destination, message)).toBe(true);
    const changed = Buffer.from(message);
    changed[31] = 0x0b;
    expect(verifyIcmpv6Checksum(source, destination, changed)).toBe(false);
    expect(verifyIcmpv6Checksum('2001:db8::3', destination, message)).toBe(false);
  });

  it('pads an odd-length message with a zero byte', () => {
    const odd = Buffer.from([0x80, 0x00, 0x00, 0x00, 0x01]);
    odd.writeUInt16BE(icmpv6Checksum('::1', '::1', odd), 2);
    expect(verifyIcmpv6Checksum('::1', '::1', odd)).toBe(true);
  });

  it('always verifies what it computes', () => {
    fc.assert(
      fc.property(ipv6Arb, ipv6Arb, fc.uint8Array({ minLength: 4, maxLength: 64 }), (src, dst, bytes) => {
        const body = Buffer.from(bytes);
        body.writeUInt16BE(icmpv6Checksum(src, dst, body), 2);
        expect(verifyIcmpv6Checksum(src, dst, body)).toBe(true);
      }),
    );
  });
});

describe('multicast addresses', () => {
  it.each([
    ['2001:db8::2', 'ff02::1:ff00:2', '33:33:ff:00:00:02'],
    ['fe80::ff:fe00:a', 'ff02::1:ff00:a', '33:33:ff:00:00:0a'],
    ['2001:db8::12:3456:789a', 'ff02::1:ff56:789a', '33:33:ff:56:78:9a'],
  ])('the solicited-node group of %s is %s, on MAC %s (RFC 4291 2.7.1, RFC 2464 7)', (address, group, mac) => {
    expect(solicitedNodeAddress(address)).toBe(group);
    expect(isSolicitedNodeAddress(group)).toBe(true);
    expect(ipv6MulticastMac(group)).toBe(mac);
  });

  it('maps all-nodes to 33:33:00:00:00:01 and refuses a unicast address', () => {
    expect(ipv6MulticastMac('ff02::1')).toBe('33:33:00:00:00:01');
    expect(() => ipv6MulticastMac('2001:db8::1')).toThrow(RangeError);
  });

  it('tells multicast, unspecified and solicited-node addresses apart', () => {
    expect(isMulticastIpv6('ff02::1')).toBe(true);
    expect(isMulticastIpv6('fe80::1')).toBe(false);
    expect(isUnspecifiedIpv6('::')).toBe(true);
    expect(isUnspecifiedIpv6('::1')).toBe(false);
    expect(isSolicitedNodeAddress('ff02::1')).toBe(false);
    expect(isSolicitedNodeAddress('ff02::2:ff00:1')).toBe(false);
  });
});
