import { Buffer, isUtf8 } from 'node:buffer';
import { BgpEncodeError, CeaseSubcode, ErrorCode } from './errors.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType, frameMessage } from './header.js';

/** Longest shutdown communication in octets (RFC 9003 section 2). */
export const MAX_SHUTDOWN_MESSAGE_OCTETS = 255;

/** A NOTIFICATION message (RFC 4271 section 4.5). */
export interface NotificationMessage {
  /** Discriminant. */
  readonly type: 'notification';
  /** Error code (RFC 4271 section 4.5). */
  readonly code: number;
  /** Error subcode (RFC 4271 section 4.5). */
  readonly subcode: number;
  /** Data field as sent; for a shutdown communication, the length octet and the UTF-8 text. */
  readonly data: Buffer;
  /**
   * Shutdown communication of a Cease with subcode 2 or 4 (RFC 9003 section 2): set on decode
   * when the data holds a valid one; on encode it replaces `data`.
   */
  readonly shutdownMessage?: string;
}

/** True for the Cease subcodes that may carry a shutdown communication (RFC 9003 section 2). */
export function carriesShutdownMessage(code: number, subcode: number): boolean {
  return code === ErrorCode.Cease && (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset);
}

/** Encodes a shutdown communication as a length octet then UTF-8 text of at most 255 octets (RFC 9003 section 2). */
export function encodeShutdownMessage(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8');
  if (utf8.length > MAX_SHUTDOWN_MESSAGE_OCTETS) {
    throw new BgpEncodeError(`shutdown communication of ${utf8.length} octets exceeds ${MAX_SHUTDOWN_MESSAGE_OCTETS}`);
  }
  return Buffer.concat([Buffer.of(utf8.length), utf8]);
}

/** Builds a Cease NOTIFICATION with a shutdown communication (RFC 8203 as updated by RFC 9003 section 2). */
export function shutdownNotification(subcode: 2 | 4, text: string): NotificationMessage {
  return { type: 'notification', code: ErrorCode.Cease, subcode, data: encodeShutdownMessage(text), shutdownMessage: text };
}

/** Decodes a NOTIFICATION body; malformed shutdown text is left in `data` only (RFC 4271 4.5, RFC 9003 section 3). */
export function decodeNotificationBody(body: Buffer): NotificationMessage {
  const code = body[0] ?? 0;
  const subcode = body[1] ?? 0;
  const data = Buffer.from(body.subarray(2));
  const msg: NotificationMessage = { type: 'notification', code, subcode, data };
  if (carriesShutdownMessage(code, subcode) && data.length > 0) {
    const len = data[0] ?? 0;
    const text = data.subarray(1, 1 + len);
    if (len + 1 === data.length && isUtf8(text)) return { ...msg, shutdownMessage: text.toString('utf8') };
  }
  return msg;
}

/**
 * Encodes a NOTIFICATION, header included, within `maxLength` octets: 4096, or up to 65535 once
 * Extended Messages are negotiated (RFC 4271 section 4.5, RFC 8654 section 4, RFC 9003 section 2).
 * Data that would not fit, such as a whole oversized message quoted back, is cut to fit, so that
 * the error can still be sent before the session closes.
 */
export function encodeNotification(msg: NotificationMessage, maxLength = MAX_MESSAGE_LENGTH): Buffer {
  for (const [n, what] of [[msg.code, 'code'], [msg.subcode, 'subcode']] as const) {
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new BgpEncodeError(`NOTIFICATION ${what} ${n} out of range`);
  }
  const data = msg.shutdownMessage !== undefined ? encodeShutdownMessage(msg.shutdownMessage) : msg.data;
  const room = Math.max(0, maxLength - HEADER_LENGTH - 2);
  return frameMessage(MessageType.Notification, Buffer.concat([Buffer.of(msg.code, msg.subcode), data.subarray(0, room)]), maxLength);
}
