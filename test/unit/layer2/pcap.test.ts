// The pcap helper writes the files tshark checks and reads what tcpdump captured.
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LINKTYPE_ETHERNET, decodePcap, encodePcap } from '../../../lab/pcap.js';

describe('pcap files', () => {
  it('writes the little-endian microsecond global header and one record header per frame', () => {
    const file = encodePcap([Buffer.from([0xaa, 0xbb])], { startMicros: 1_700_000_000_000_005n, snapLength: 65535 });
    expect(file).toEqual(
      Buffer.from([
        ...[0xd4, 0xc3, 0xb2, 0xa1], // magic 0xa1b2c3d4, little-endian, microseconds
        ...[0x02, 0x00, 0x04, 0x00], // version 2.4
        ...[0, 0, 0, 0, 0, 0, 0, 0], // reserved
        ...[0xff, 0xff, 0x00, 0x00], // snapshot length 65535
        ...[0x01, 0x00, 0x00, 0x00], // link type 1: Ethernet
        ...[0x00, 0xf1, 0x53, 0x65], // seconds 1700000000
        ...[0x05, 0x00, 0x00, 0x00], // microseconds 5
        ...[0x02, 0x00, 0x00, 0x00], // captured length 2
        ...[0x02, 0x00, 0x00, 0x00], // original length 2
        ...[0xaa, 0xbb],
      ]),
    );
  });

  it('reads back what it writes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 5 }), (frames) => {
        const buffers = frames.map((frame) => Buffer.from(frame));
        const file = decodePcap(encodePcap(buffers));
        expect(file.linkType).toBe(LINKTYPE_ETHERNET);
        expect(file.records.map((record) => record.data)).toEqual(buffers);
        expect(file.records.map((record) => record.originalLength)).toEqual(buffers.map((b) => b.length));
      }),
    );
  });

  it('reads big-endian nanosecond files and refuses pcapng', () => {
    const file = Buffer.from([
      ...[0xa1, 0xb2, 0x3c, 0x4d], // magic 0xa1b23c4d, big-endian, nanoseconds
      ...[0x00, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01],
      ...[0x00, 0x00, 0x00, 0x02], // seconds 2
      ...[0x00, 0x00, 0x07, 0xd0], // nanoseconds 2000
      ...[0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03], // captured 1 of 3
      ...[0x42],
    ]);
    expect(decodePcap(file)).toEqual({
      linkType: 1,
      snapLength: 256,
      records: [{ timestampMicros: 2_000_002n, data: Buffer.from([0x42]), originalLength: 3 }],
    });
    expect(() => decodePcap(Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff', 'hex'))).toThrow(/pcapng/);
    expect(() => decodePcap(file.subarray(0, file.length - 1))).toThrow(/cut short/);
  });
});
