import { Buffer } from 'node:buffer';
import { AttributeType, decodeAttributes, encodeAttributes, type AttributeProblem, type PathAttributes } from './attributes.js';
import { BgpDecodeError, ErrorCode, UpdateError } from './errors.js';
import { MessageType, frameMessage } from './header.js';
import type { CodecOptions } from './options.js';
import { Afi, Safi, decodePrefixes, encodePrefixes, type Prefix } from './prefix.js';
import { Reader } from './reader.js';

/** An UPDATE message (RFC 4271 section 4.3) with its RFC 7606 error outcome. */
export interface UpdateMessage {
  /** Discriminant. */
  readonly type: 'update';
  /** IPv4 prefixes withdrawn in the Withdrawn Routes field. */
  readonly withdrawn: readonly Prefix[];
  /** Path attributes; MP_REACH/MP_UNREACH carry the IPv6 routes (RFC 4760). */
  readonly attributes: PathAttributes;
  /** IPv4 prefixes announced in the NLRI field. */
  readonly nlri: readonly Prefix[];
  /** Set on decode when RFC 7606 "treat-as-withdraw" applies: every prefix announced here must be withdrawn instead. */
  readonly treatAsWithdraw?: true;
  /** Set on decode when attribute errors were handled without a session reset (RFC 7606 section 2). */
  readonly problems?: readonly AttributeProblem[];
}

/** An address family given as AFI and SAFI (RFC 4760 section 3). */
export interface AfiSafi {
  /** Address Family Identifier. */
  readonly afi: number;
  /** Subsequent Address Family Identifier. */
  readonly safi: number;
}

function networkError(why: string): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.UpdateMessage, UpdateError.InvalidNetworkField, why);
}

function listError(why: string): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.UpdateMessage, UpdateError.MalformedAttributeList, why);
}

/** Builds the End-of-RIB marker for a family: an empty UPDATE for IPv4 unicast, else an empty MP_UNREACH_NLRI (RFC 4724 section 2). */
export function endOfRib(family: AfiSafi): UpdateMessage {
  if (family.afi === Afi.IPv4 && family.safi === Safi.Unicast) return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: family.afi, safi: family.safi, withdrawn: [] } }, nlri: [] };
}

/** Returns the family an UPDATE is the End-of-RIB marker for, or undefined if it is not one (RFC 4724 section 2). */
export function endOfRibFamily(msg: UpdateMessage): AfiSafi | undefined {
  if (msg.withdrawn.length > 0 || msg.nlri.length > 0 || msg.treatAsWithdraw || (msg.problems?.length ?? 0) > 0) return undefined;
  const keys = Object.keys(msg.attributes).filter((k) => msg.attributes[k as keyof PathAttributes] !== undefined);
  if (keys.length === 0) return { afi: Afi.IPv4, safi: Safi.Unicast };
  const mp = msg.attributes.mpUnreach;
  if (keys.length === 1 && mp && mp.withdrawn.length === 0) return { afi: mp.afi, safi: mp.safi };
  return undefined;
}

/**
 * Decodes an UPDATE body (bytes after the header). Length and NLRI errors throw (session
 * reset); attribute errors RFC 7606 lets survive are reported in the result (RFC 4271 6.3, RFC 7606).
 */
export function decodeUpdateBody(body: Buffer, opts: CodecOptions): UpdateMessage {
  const r = new Reader(body, () => listError('UPDATE lengths exceed the message'));
  const withdrawnLength = r.u16();
  if (withdrawnLength + 4 > body.length) throw listError(`withdrawn routes length ${withdrawnLength} exceeds the message`);
  const withdrawn = decodePrefixes(r.sub(withdrawnLength), 'ipv4', (why) => networkError(`withdrawn routes: ${why}`));
  const attributesLength = r.u16();
  if (attributesLength > r.remaining) throw listError(`total path attribute length ${attributesLength} exceeds the message`);
  const decoded = decodeAttributes(r.bytes(attributesLength), opts);
  const nlri = decodePrefixes(r, 'ipv4', (why) => networkError(`NLRI: ${why}`));
  const problems = [...decoded.problems];
  const a = decoded.attributes;
  // RFC 7606 3(d): missing well-known mandatory attributes are treat-as-withdraw when routes are announced.
  const failed = new Set(problems.map((p) => p.typeCode));
  const announces = nlri.length > 0 || (a.mpReach?.nlri.length ?? 0) > 0;
  if (announces) {
    const need: [number, unknown][] = [
      [AttributeType.Origin, a.origin],
      [AttributeType.AsPath, a.asPath],
    ];
    if (nlri.length > 0) need.push([AttributeType.NextHop, a.nextHop]);
    for (const [code, present] of need) {
      if (present === undefined && !failed.has(code)) {
        problems.push({ typeCode: code, action: 'treat-as-withdraw', reason: `missing well-known attribute ${code}` });
      }
    }
  }
  let msg: UpdateMessage = { type: 'update', withdrawn, attributes: a, nlri };
  if (problems.some((p) => p.action === 'treat-as-withdraw')) msg = { ...msg, treatAsWithdraw: true };
  if (problems.length > 0) msg = { ...msg, problems };
  return msg;
}

/** Encodes an UPDATE, header included; the decode-only fields treatAsWithdraw and problems are ignored (RFC 4271 section 4.3). */
export function encodeUpdate(msg: UpdateMessage, opts: CodecOptions): Buffer {
  const withdrawn = encodePrefixes(msg.withdrawn, 'ipv4');
  const attributes = encodeAttributes(msg.attributes, opts);
  const nlri = encodePrefixes(msg.nlri, 'ipv4');
  const body = Buffer.alloc(4 + withdrawn.length + attributes.length + nlri.length);
  body.writeUInt16BE(Math.min(withdrawn.length, 0xffff), 0);
  withdrawn.copy(body, 2);
  body.writeUInt16BE(Math.min(attributes.length, 0xffff), 2 + withdrawn.length);
  attributes.copy(body, 4 + withdrawn.length);
  nlri.copy(body, 4 + withdrawn.length + attributes.length);
  return frameMessage(MessageType.Update, body, opts.maxMessageLength);
}
