// The classic libpcap file format, enough to read what tcpdump writes and to write frames
// that tcpdump, tshark and Wireshark read: a 24-byte global header, then per packet a 16-byte
// record header and the captured bytes. Reference: the "PCAP Capture File Format" draft
// (draft-ietf-opsawg-pcap), sections 4 and 5.
import { Buffer } from 'node:buffer';

/** Link type of Ethernet frames without FCS (LINKTYPE_ETHERNET). */
export const LINKTYPE_ETHERNET = 1;

const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
const GLOBAL_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;

/** One captured packet. */
export interface PcapRecord {
  /** Capture time in microseconds since the Unix epoch (nanosecond files are rounded down). */
  readonly timestampMicros: bigint;
  /** The captured bytes (as many as the snapshot length allowed). */
  readonly data: Buffer;
  /** The packet's length on the wire, which is more than data.length if it was cut short. */
  readonly originalLength: number;
}

/** A whole capture file. */
export interface PcapFile {
  /** The link type of every record, e.g. LINKTYPE_ETHERNET. */
  readonly linkType: number;
  /** The snapshot length the capture was taken with. */
  readonly snapLength: number;
  /** The records in file order. */
  readonly records: readonly PcapRecord[];
}

/** Writes frames as a little-endian microsecond pcap file, one record per frame, 1 ms apart from `startMicros`. */
export function encodePcap(
  frames: readonly Buffer[],
  options: { linkType?: number; snapLength?: number; startMicros?: bigint } = {},
): Buffer {
  const snapLength = options.snapLength ?? 262144;
  const header = Buffer.alloc(GLOBAL_HEADER_LENGTH);
  header.writeUInt32LE(MAGIC_MICROSECONDS, 0);
  header.writeUInt16LE(2, 4); // major version
  header.writeUInt16LE(4, 6); // minor version
  // Bytes 8-15: reserved (formerly thiszone and sigfigs), zero.
  header.writeUInt32LE(snapLength, 16);
  header.writeUInt32LE(options.linkType ?? LINKTYPE_ETHERNET, 20);
  const start = options.startMicros ?? 1_700_000_000_000_000n;
  const records = frames.map((frame, i) => {
    const time = start + BigInt(i) * 1000n;
    const record = Buffer.alloc(RECORD_HEADER_LENGTH);
    const captured = Math.min(frame.length, snapLength);
    record.writeUInt32LE(Number(time / 1_000_000n), 0);
    record.writeUInt32LE(Number(time % 1_000_000n), 4);
    record.writeUInt32LE(captured, 8);
    record.writeUInt32LE(frame.length, 12);
    return Buffer.concat([record, frame.subarray(0, captured)]);
  });
  return Buffer.concat([header, ...records]);
}

/** Reads a pcap file in either byte order, with microsecond or nanosecond timestamps; throws Error if malformed. */
export function decodePcap(file: Buffer): PcapFile {
  if (file.length < GLOBAL_HEADER_LENGTH) throw new Error('pcap: file shorter than its global header');
  const magicLE = file.readUInt32LE(0);
  const magicBE = file.readUInt32BE(0);
  const littleEndian = magicLE === MAGIC_MICROSECONDS || magicLE === MAGIC_NANOSECONDS;
  const magic = littleEndian ? magicLE : magicBE;
  if (magic !== MAGIC_MICROSECONDS && magic !== MAGIC_NANOSECONDS) {
    throw new Error(`pcap: unknown magic 0x${magicBE.toString(16)} (pcapng is not supported)`);
  }
  const u32 = (offset: number): number => (littleEndian ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  const nanoseconds = magic === MAGIC_NANOSECONDS;
  const records: PcapRecord[] = [];
  for (let offset = GLOBAL_HEADER_LENGTH; offset < file.length; ) {
    if (file.length - offset < RECORD_HEADER_LENGTH) throw new Error(`pcap: record header cut short at ${offset}`);
    const seconds = BigInt(u32(offset));
    const fraction = BigInt(u32(offset + 4));
    const captured = u32(offset + 8);
    const originalLength = u32(offset + 12);
    const start = offset + RECORD_HEADER_LENGTH;
    if (file.length - start < captured) throw new Error(`pcap: record data cut short at ${start}`);
    records.push({
      timestampMicros: seconds * 1_000_000n + (nanoseconds ? fraction / 1000n : fraction),
      data: Buffer.from(file.subarray(start, start + captured)),
      originalLength,
    });
    offset = start + captured;
  }
  return { linkType: u32(20), snapLength: u32(16), records };
}
