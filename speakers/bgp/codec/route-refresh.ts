import { Buffer } from 'node:buffer';
import { BgpDecodeError, BgpEncodeError, ErrorCode, RouteRefreshError } from './errors.js';
import { MessageType, frameMessage } from './header.js';

/** A ROUTE-REFRESH message (RFC 2918 section 3; subtypes from RFC 7313 section 3.2). */
export interface RouteRefreshMessage {
  /** Discriminant. */
  readonly type: 'route-refresh';
  /** Address Family Identifier to refresh. */
  readonly afi: number;
  /** Subsequent Address Family Identifier to refresh. */
  readonly safi: number;
  /** 0 normal request, 1 Begin-of-RIB-Refresh, 2 End-of-RIB-Refresh (RFC 7313); the reserved octet of RFC 2918. */
  readonly subtype: number;
}

/** Decodes a ROUTE-REFRESH body; any length other than 4 is error 7/1 with the message as data (RFC 7313 section 5). */
export function decodeRouteRefreshBody(body: Buffer, whole: Buffer): RouteRefreshMessage {
  if (body.length !== 4) {
    throw new BgpDecodeError(ErrorCode.RouteRefreshMessage, RouteRefreshError.InvalidMessageLength, `ROUTE-REFRESH body of ${body.length} octets, expected 4`, whole);
  }
  return { type: 'route-refresh', afi: body.readUInt16BE(0), safi: body[3] ?? 0, subtype: body[2] ?? 0 };
}

/** Encodes a ROUTE-REFRESH message, header included (RFC 2918 section 3). */
export function encodeRouteRefresh(msg: RouteRefreshMessage): Buffer {
  const ok = (n: number, max: number): boolean => Number.isInteger(n) && n >= 0 && n <= max;
  if (!ok(msg.afi, 0xffff) || !ok(msg.safi, 0xff) || !ok(msg.subtype, 0xff)) {
    throw new BgpEncodeError(`bad ROUTE-REFRESH ${msg.afi}/${msg.subtype}/${msg.safi}`);
  }
  const body = Buffer.alloc(4);
  body.writeUInt16BE(msg.afi, 0);
  body[2] = msg.subtype;
  body[3] = msg.safi;
  return frameMessage(MessageType.RouteRefresh, body);
}
