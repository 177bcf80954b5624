import { Buffer } from 'node:buffer';
import { BgpDecodeError, BgpEncodeError, ErrorCode, HeaderError } from './errors.js';

/** Length of the fixed message header: marker, length and type (RFC 4271 section 4.1). */
export const HEADER_LENGTH = 19;

/** Largest message without the Extended Message capability (RFC 4271 section 4.1). */
export const MAX_MESSAGE_LENGTH = 4096;

/** Largest message once Extended Messages are negotiated (RFC 8654 section 4). */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

/** Message type codes (RFC 4271 section 4.1; ROUTE-REFRESH from RFC 2918 section 3). */
export const MessageType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;

/** Smallest valid length of each message type, header included (RFC 4271 sections 4.2-4.5, RFC 2918 3). */
const MIN_LENGTH: Readonly<Record<number, number>> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 19 };

/** The decoded fixed header of one message (RFC 4271 section 4.1). */
export interface Header {
  /** Total message length in octets, header included. */
  readonly length: number;
  /** Message type code, one of MessageType. */
  readonly type: number;
}

/** Prepends the header (all-ones marker, length, type) to a message body (RFC 4271 section 4.1). */
export function frameMessage(type: number, body: Uint8Array, maxLength = MAX_MESSAGE_LENGTH): Buffer {
  const length = HEADER_LENGTH + body.length;
  if (length > maxLength) throw new BgpEncodeError(`message of ${length} octets exceeds ${maxLength}`);
  const out = Buffer.alloc(length);
  out.fill(0xff, 0, 16);
  out.writeUInt16BE(length, 16);
  out[18] = type;
  out.set(body, HEADER_LENGTH);
  return out;
}

/**
 * Checks the first 19 bytes of `buf` as a message header: marker (1/1), length within
 * 19..maxLength, the type's minimum and, for OPEN, 4096 (1/2, data = the length field), known
 * type (1/3, data = the type octet), per RFC 4271 section 6.1 and RFC 8654 section 6.
 */
export function decodeHeader(buf: Uint8Array, maxLength = MAX_MESSAGE_LENGTH): Header {
  if (buf.length < HEADER_LENGTH) {
    throw new BgpDecodeError(ErrorCode.MessageHeader, HeaderError.BadMessageLength, `only ${buf.length} octets, less than a header`);
  }
  for (let i = 0; i < 16; i += 1) {
    if (buf[i] !== 0xff) {
      throw new BgpDecodeError(ErrorCode.MessageHeader, HeaderError.ConnectionNotSynchronized, 'marker is not all ones');
    }
  }
  const length = ((buf[16] ?? 0) << 8) | (buf[17] ?? 0);
  const type = buf[18] ?? 0;
  const lengthField = Buffer.from(buf.subarray(16, 18));
  if (length < HEADER_LENGTH || length > maxLength) {
    throw new BgpDecodeError(ErrorCode.MessageHeader, HeaderError.BadMessageLength, `length ${length} outside 19..${maxLength}`, lengthField);
  }
  const min = MIN_LENGTH[type];
  if (min === undefined) {
    throw new BgpDecodeError(ErrorCode.MessageHeader, HeaderError.BadMessageType, `unknown message type ${type}`, Buffer.of(type));
  }
  if (length < min || (type === MessageType.Keepalive && length !== HEADER_LENGTH)) {
    throw new BgpDecodeError(ErrorCode.MessageHeader, HeaderError.BadMessageLength, `length ${length} invalid for message type ${type}`, lengthField);
  }
  // RFC 8654 sections 4 and 6: Extended Messages never apply to OPEN (nor KEEPALIVE, fixed at 19).
  if (type === MessageType.Open && length > MAX_MESSAGE_LENGTH) {
    throw new BgpDecodeError(ErrorCode.MessageHeader, HeaderError.BadMessageLength, `OPEN of ${length} octets exceeds ${MAX_MESSAGE_LENGTH}`, lengthField);
  }
  return { length, type };
}
