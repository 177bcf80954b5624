// The speakers' peer channel (ADR 0017): pings, acks, declarations and abandons between the
// speakers of one cluster, over UDP. A pure codec: the sealing (HMAC) lives in seal.ts.
//
// Every message starts with a common header:
//   version (1) = 1 | type (1) | name length (1) | sender name (UTF-8) |
//   incarnation (8, random per process start) | sequence (4, per packet, increasing)
// followed by the body of its type. Integers are big-endian.
import { Buffer } from 'node:buffer';

/** The protocol version this codec speaks. */
export const PEER_VERSION = 1;
/** The most declarations one message carries; more go in further messages. */
export const MAX_DECLARATIONS = 64;
/** The longest node name (a DNS subdomain, RFC 1123). */
export const MAX_NAME_BYTES = 253;
/** "Never": the value of an age field when the event has not happened. */
export const NEVER = 0xffffffff;

/** What every message carries about its sender. */
export interface PeerHeader {
  /** The sender's node name. */
  readonly from: string;
  /** Random per process start, so a restarted speaker's sequence can start again. */
  readonly incarnation: bigint;
  /** Increases with every packet the sender sends in this incarnation. */
  readonly seq: number;
}

/** H asks a member of its configuration to confirm contact. */
export interface Ping extends PeerHeader {
  readonly type: 'ping';
  /** The sender's epoch (0 before its first accepted Lease write). */
  readonly epoch: number;
  /** Milliseconds since the send time of the sender's last successful API probe, or NEVER. */
  readonly apiOkAgeMs: number;
}

/** The answer to a ping. */
export interface Ack extends PeerHeader {
  readonly type: 'ack';
  /** The pinger's incarnation and sequence being answered. */
  readonly forIncarnation: bigint;
  readonly forSeq: number;
  /** False when the sender has declared the pinger's epoch dead: the ack then confirms nothing. */
  readonly accepted: boolean;
  /** The pinger's highest epoch the sender has declared dead, 0 for none. */
  readonly deadThrough: number;
  /** Milliseconds since the send time of the sender's last successful API probe, or NEVER. */
  readonly apiOkAgeMs: number;
}

/** One declaration: the subject's epochs up to `epoch` are dead to the sender. */
export interface Declaration {
  readonly subject: string;
  readonly epoch: number;
}

/** The sender declares these nodes' epochs dead (it heard nothing from them for T_quiet). */
export interface Declare extends PeerHeader {
  readonly type: 'declare';
  readonly declarations: readonly Declaration[];
}

/** The sender stopped answering for every claim of `epoch` and earlier (a step-down). */
export interface Abandon extends PeerHeader {
  readonly type: 'abandon';
  readonly epoch: number;
}

/** A peer-channel message. */
export type PeerMessage = Ping | Ack | Declare | Abandon;

const typeCodes = { ping: 1, ack: 2, declare: 3, abandon: 4 } as const;
const typeNames = ['', 'ping', 'ack', 'declare', 'abandon'] as const;

/** Why a message could not be decoded. */
export type PeerDecodeReason = 'truncated' | 'version' | 'type' | 'name' | 'trailing' | 'count';

/** A message that cannot be decoded; carries the reason for the drop counters. */
export class PeerDecodeError extends Error {
  constructor(readonly reason: PeerDecodeReason, detail: string) {
    super(`peer message: ${detail}`);
    this.name = 'PeerDecodeError';
  }
}

function nameBytes(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_NAME_BYTES) throw new RangeError(`node name of ${bytes.length} bytes: must be 1 to ${MAX_NAME_BYTES}`);
  return bytes;
}

function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${what} ${value} is not a 32-bit unsigned integer`);
  return value;
}

/** Encodes a message (without its seal). */
export function encodePeerMessage(m: PeerMessage): Buffer {
  const from = nameBytes(m.from);
  const head = Buffer.alloc(3 + from.length + 12);
  head[0] = PEER_VERSION;
  head[1] = typeCodes[m.type];
  head[2] = from.length;
  from.copy(head, 3);
  head.writeBigUInt64BE(BigInt.asUintN(64, m.incarnation), 3 + from.length);
  head.writeUInt32BE(u32(m.seq, 'seq'), 11 + from.length);
  return Buffer.concat([head, encodeBody(m)]);
}

function encodeBody(m: PeerMessage): Buffer {
  switch (m.type) {
    case 'ping': {
      const body = Buffer.alloc(8);
      body.writeUInt32BE(u32(m.epoch, 'epoch'), 0);
      body.writeUInt32BE(u32(m.apiOkAgeMs, 'apiOkAgeMs'), 4);
      return body;
    }
    case 'ack': {
      const body = Buffer.alloc(21);
      body.writeBigUInt64BE(BigInt.asUintN(64, m.forIncarnation), 0);
      body.writeUInt32BE(u32(m.forSeq, 'forSeq'), 8);
      body[12] = m.accepted ? 1 : 0;
      body.writeUInt32BE(u32(m.deadThrough, 'deadThrough'), 13);
      body.writeUInt32BE(u32(m.apiOkAgeMs, 'apiOkAgeMs'), 17);
      return body;
    }
    case 'declare': {
      if (m.declarations.length > MAX_DECLARATIONS) throw new RangeError(`${m.declarations.length} declarations: at most ${MAX_DECLARATIONS} per message`);
      const parts = [Buffer.from([m.declarations.length])];
      for (const d of m.declarations) {
        const subject = nameBytes(d.subject);
        const entry = Buffer.alloc(1 + subject.length + 4);
        entry[0] = subject.length;
        subject.copy(entry, 1);
        entry.writeUInt32BE(u32(d.epoch, 'epoch'), 1 + subject.length);
        parts.push(entry);
      }
      return Buffer.concat(parts);
    }
    case 'abandon': {
      const body = Buffer.alloc(4);
      body.writeUInt32BE(u32(m.epoch, 'epoch'), 0);
      return body;
    }
  }
}

/** Decodes a message (its seal already checked and removed); throws PeerDecodeError. */
export function decodePeerMessage(buf: Buffer): PeerMessage {
  const r = new Reader(buf);
  const version = r.u8();
  if (version !== PEER_VERSION) throw new PeerDecodeError('version', `version ${version}, expected ${PEER_VERSION}`);
  const code = r.u8();
  const type = typeNames[code];
  if (!type) throw new PeerDecodeError('type', `unknown type ${code}`);
  const header: PeerHeader = { from: r.name(), incarnation: r.u64(), seq: r.u32() };
  let message: PeerMessage;
  switch (type) {
    case 'ping':
      message = { ...header, type, epoch: r.u32(), apiOkAgeMs: r.u32() };
      break;
    case 'ack': {
      const forIncarnation = r.u64();
      const forSeq = r.u32();
      const accepted = r.u8();
      if (accepted > 1) throw new PeerDecodeError('type', `accepted flag ${accepted}`);
      message = { ...header, type, forIncarnation, forSeq, accepted: accepted === 1, deadThrough: r.u32(), apiOkAgeMs: r.u32() };
      break;
    }
    case 'declare': {
      const count = r.u8();
      if (count > MAX_DECLARATIONS) throw new PeerDecodeError('count', `${count} declarations, at most ${MAX_DECLARATIONS}`);
      const declarations: Declaration[] = [];
      for (let i = 0; i < count; i++) declarations.push({ subject: r.name(), epoch: r.u32() });
      message = { ...header, type, declarations };
      break;
    }
    case 'abandon':
      message = { ...header, type, epoch: r.u32() };
      break;
  }
  if (r.remaining() !== 0) throw new PeerDecodeError('trailing', `${r.remaining()} bytes after the ${type} message`);
  return message;
}

class Reader {
  #at = 0;
  constructor(private readonly buf: Buffer) {}

  remaining(): number {
    return this.buf.length - this.#at;
  }

  #need(n: number): number {
    if (this.remaining() < n) throw new PeerDecodeError('truncated', `needs ${n} more bytes at offset ${this.#at}, has ${this.remaining()}`);
    const at = this.#at;
    this.#at += n;
    return at;
  }

  u8(): number {
    return this.buf[this.#need(1)]!;
  }

  u32(): number {
    return this.buf.readUInt32BE(this.#need(4));
  }

  u64(): bigint {
    return this.buf.readBigUInt64BE(this.#need(8));
  }

  name(): string {
    const length = this.u8();
    if (length === 0) throw new PeerDecodeError('name', 'empty node name');
    const at = this.#need(length);
    const bytes = this.buf.subarray(at, at + length);
    const text = bytes.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(bytes)) throw new PeerDecodeError('name', 'node name is not valid UTF-8');
    return text;
  }
}
