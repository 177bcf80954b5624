import { Buffer } from 'node:buffer';
import { decodeCapabilities, encodeCapability, type Capability } from './capabilities.js';
import { BgpDecodeError, BgpEncodeError, ErrorCode, OpenError } from './errors.js';
import { MAX_MESSAGE_LENGTH, MessageType, frameMessage } from './header.js';
import { formatIpv4, tryParseIpv4 } from '../../common/ip-text.js';
import { Reader } from './reader.js';

/** The only BGP version there is (RFC 4271 section 4.2). */
export const BGP_VERSION = 4;

/** The 2-octet stand-in for a 4-octet ASN in My Autonomous System and AS_PATH (RFC 6793 section 9). */
export const AS_TRANS = 23456;

/** Optional parameter type that carries capabilities (RFC 5492 section 4). */
const PARAM_CAPABILITIES = 2;
/** Marks the extended optional parameters length format (RFC 9072 section 2). */
const PARAM_EXTENDED = 255;

/** An OPEN message; the version is always 4 (RFC 4271 section 4.2). */
export interface OpenMessage {
  /** Discriminant. */
  readonly type: 'open';
  /** My Autonomous System field: the 2-octet ASN, or AS_TRANS for a larger one (RFC 6793 section 3). */
  readonly myAs: number;
  /** Proposed hold time in seconds: 0 or at least 3. */
  readonly holdTime: number;
  /** BGP Identifier as a dotted quad, non-zero (RFC 6286 section 2.1). */
  readonly bgpId: string;
  /** Capabilities in the order received (RFC 5492 section 4). */
  readonly capabilities: readonly Capability[];
  /** Put each capability in its own optional parameter, as FRR and GoBGP do, instead of all in one (RFC 5492 section 4). */
  readonly onePerParameter?: boolean;
}

/** Returns the My Autonomous System field for an ASN: itself, or AS_TRANS if above 65535 (RFC 6793 section 3). */
export function myAsField(asn: number): number {
  return asn > 0xffff ? AS_TRANS : asn;
}

/** Returns the speaker's real ASN: the 4-octet AS capability if sent, else My Autonomous System (RFC 6793 section 3). */
export function openAsn(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.kind === 'four-octet-as') return c.asn;
  return open.myAs;
}

function openError(subcode: number, why: string, data?: Uint8Array): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.OpenMessage, subcode, why, data);
}

/** Decodes an OPEN body, i.e. the bytes after the header (RFC 4271 section 4.2, RFC 9072 section 2). */
export function decodeOpenBody(body: Buffer): OpenMessage {
  const r = new Reader(body, () => openError(OpenError.Unspecific, 'OPEN message is truncated'));
  const version = r.u8();
  if (version !== BGP_VERSION) {
    throw openError(OpenError.UnsupportedVersionNumber, `unsupported BGP version ${version}`, Buffer.of(0, BGP_VERSION));
  }
  const myAs = r.u16();
  const holdTime = r.u16();
  if (holdTime === 1 || holdTime === 2) throw openError(OpenError.UnacceptableHoldTime, `hold time ${holdTime} is below 3`);
  const idBytes = r.bytes(4);
  if (idBytes.readUInt32BE(0) === 0) throw openError(OpenError.BadBgpIdentifier, 'BGP Identifier is zero');
  let optLen = r.u8();
  let extended = false;
  if (optLen === PARAM_EXTENDED && r.remaining >= 3 && r.peek() === PARAM_EXTENDED) {
    r.u8();
    optLen = r.u16();
    extended = true;
  }
  if (optLen !== r.remaining) {
    throw openError(OpenError.Unspecific, `optional parameters length ${optLen} but ${r.remaining} octets follow`);
  }
  const capabilities: Capability[] = [];
  let params = 0;
  let allSingle = true;
  while (r.remaining > 0) {
    const type = r.u8();
    const len = extended ? r.u16() : r.u8();
    const value = r.bytes(len);
    if (type !== PARAM_CAPABILITIES) {
      throw openError(OpenError.UnsupportedOptionalParameter, `unsupported optional parameter ${type}`);
    }
    const caps = decodeCapabilities(value);
    params += 1;
    if (caps.length !== 1) allSingle = false;
    capabilities.push(...caps);
  }
  const open: OpenMessage = { type: 'open', myAs, holdTime, bgpId: formatIpv4(idBytes), capabilities };
  return params > 1 && allSingle ? { ...open, onePerParameter: true } : open;
}

/** Encodes an OPEN message, header included, within 4096 octets whatever was negotiated (RFC 4271 4.2, RFC 5492 4, RFC 9072, RFC 8654 4). */
export function encodeOpen(msg: OpenMessage): Buffer {
  if (!Number.isInteger(msg.myAs) || msg.myAs < 0 || msg.myAs > 0xffff) {
    throw new BgpEncodeError(`My Autonomous System ${msg.myAs} does not fit 2 octets; use AS_TRANS (RFC 6793)`);
  }
  if (!Number.isInteger(msg.holdTime) || msg.holdTime < 0 || msg.holdTime > 0xffff || msg.holdTime === 1 || msg.holdTime === 2) {
    throw new BgpEncodeError(`hold time ${msg.holdTime} must be 0 or 3..65535`);
  }
  const id = tryParseIpv4(msg.bgpId);
  if (!id || id.readUInt32BE(0) === 0) throw new BgpEncodeError(`BGP Identifier ${msg.bgpId} is not a non-zero IPv4 address`);
  const encoded = msg.capabilities.map(encodeCapability);
  const groups = msg.onePerParameter ? encoded.map((c) => [c]) : encoded.length > 0 ? [encoded] : [];
  const values = groups.map((g) => Buffer.concat(g));
  const plainLength = values.reduce((n, v) => n + 2 + v.length, 0);
  const extended = plainLength > 255 || values.some((v) => v.length > 255);
  const params = values.map((v) => {
    const head = extended ? Buffer.alloc(3) : Buffer.alloc(2);
    head[0] = PARAM_CAPABILITIES;
    if (extended) head.writeUInt16BE(v.length, 1);
    else head[1] = v.length;
    return Buffer.concat([head, v]);
  });
  const paramBytes = Buffer.concat(params);
  const fixed = Buffer.alloc(extended ? 13 : 10);
  fixed[0] = BGP_VERSION;
  fixed.writeUInt16BE(msg.myAs, 1);
  fixed.writeUInt16BE(msg.holdTime, 3);
  id.copy(fixed, 5);
  if (extended) {
    fixed[9] = PARAM_EXTENDED;
    fixed[10] = PARAM_EXTENDED;
    fixed.writeUInt16BE(paramBytes.length, 11);
  } else {
    fixed[9] = paramBytes.length;
  }
  return frameMessage(MessageType.Open, Buffer.concat([fixed, paramBytes]), MAX_MESSAGE_LENGTH);
}
