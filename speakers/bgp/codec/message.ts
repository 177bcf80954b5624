import { Buffer } from 'node:buffer';
import { BgpDecodeError, BgpEncodeError, ErrorCode, HeaderError } from './errors.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType, decodeHeader, frameMessage } from './header.js';
import { decodeNotificationBody, encodeNotification, type NotificationMessage } from './notification.js';
import { decodeOpenBody, encodeOpen, type OpenMessage } from './open.js';
import type { CodecOptions } from './options.js';
import { decodeRouteRefreshBody, encodeRouteRefresh, type RouteRefreshMessage } from './route-refresh.js';
import { decodeUpdateBody, encodeUpdate, type UpdateMessage } from './update.js';

/** A KEEPALIVE message: a header and nothing else (RFC 4271 section 4.4). */
export interface KeepaliveMessage {
  /** Discriminant. */
  readonly type: 'keepalive';
}

/** Any BGP-4 message, keyed on `type` (RFC 4271 section 4, RFC 2918 section 3). */
export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/**
 * Encodes one message, header included (RFC 4271 section 4); throws BgpEncodeError on values
 * that do not fit. `opts.maxMessageLength` bounds UPDATE, NOTIFICATION and ROUTE-REFRESH; OPEN
 * and KEEPALIVE are always bounded by 4096 (RFC 8654 section 4).
 */
export function encodeMessage(msg: BgpMessage, opts: CodecOptions = {}): Buffer {
  switch (msg.type) {
    case 'open':
      return encodeOpen(msg);
    case 'update':
      return encodeUpdate(msg, opts);
    case 'notification':
      return encodeNotification(msg, opts.maxMessageLength ?? MAX_MESSAGE_LENGTH);
    case 'keepalive':
      return frameMessage(MessageType.Keepalive, Buffer.alloc(0), MAX_MESSAGE_LENGTH);
    case 'route-refresh':
      return encodeRouteRefresh(msg);
    default:
      throw new BgpEncodeError(`unknown message type ${JSON.stringify((msg as { type?: unknown }).type)}`);
  }
}

/**
 * Decodes exactly one whole message (RFC 4271 section 4); anything malformed throws
 * BgpDecodeError carrying the NOTIFICATION to send (RFC 4271 section 6, RFC 7606).
 */
export function decodeMessage(buf: Uint8Array, opts: CodecOptions = {}): BgpMessage {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const header = decodeHeader(bytes, opts.maxMessageLength ?? MAX_MESSAGE_LENGTH);
  if (header.length !== bytes.length) {
    throw new BgpDecodeError(ErrorCode.MessageHeader, HeaderError.BadMessageLength, `length field ${header.length} but ${bytes.length} octets given`, bytes.subarray(16, 18));
  }
  const body = bytes.subarray(HEADER_LENGTH);
  switch (header.type) {
    case MessageType.Open:
      return decodeOpenBody(body);
    case MessageType.Update:
      return decodeUpdateBody(body, opts);
    case MessageType.Notification:
      return decodeNotificationBody(body);
    case MessageType.Keepalive:
      return { type: 'keepalive' };
    default:
      return decodeRouteRefreshBody(body, Buffer.from(bytes));
  }
}
