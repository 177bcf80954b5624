import { Buffer } from 'node:buffer';
import { decodeAsPath, encodeAsPath, type AsPathSegment } from './as-path.js';
import { BgpDecodeError, BgpEncodeError, ErrorCode, UpdateError } from './errors.js';
import { formatIpv4 } from '../../common/ip-text.js';
import { reconcileTwoOctetAs, sameTwoOctetAs, splitForTwoOctetAs, standsFor, withoutConfederation, type Aggregator, type TwoOctetAsAttributes } from './four-octet-as.js';
import { familyAddressBytes } from './ip.js';
import { decodeMpReach, decodeMpUnreach, encodeMpReach, encodeMpUnreach, type MpReachNlri, type MpUnreachNlri } from './mp-nlri.js';
import { AS_TRANS } from './open.js';
import type { CodecOptions } from './options.js';
import { Reader } from './reader.js';

/** Path attribute type codes handled here (RFC 4271 5, RFC 1997, RFC 4760, RFC 6793, RFC 8092). */
export const AttributeType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunity: 32,
} as const;

/** Attribute flag bits (RFC 4271 section 4.3). */
export const AttributeFlag = { Optional: 0x80, Transitive: 0x40, Partial: 0x20, ExtendedLength: 0x10 } as const;

/** ORIGIN values (RFC 4271 section 5.1.1). */
export type Origin = 'igp' | 'egp' | 'incomplete';
const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];

/** A path attribute this codec does not interpret, kept as received (RFC 4271 section 5). */
export interface RawAttribute {
  /** Attribute flags octet; the Extended Length bit is recomputed on encoding. */
  readonly flags: number;
  /** Attribute type code. */
  readonly typeCode: number;
  /** Attribute value. */
  readonly value: Buffer;
}

/** The path attributes of an UPDATE, one field per known attribute (RFC 4271 section 5). */
export interface PathAttributes {
  /** ORIGIN (RFC 4271 section 5.1.1). */
  readonly origin?: Origin;
  /** AS_PATH with 4-octet ASNs, merged with AS4_PATH from 2-octet peers (RFC 4271 5.1.2, RFC 6793 4.2.3). */
  readonly asPath?: readonly AsPathSegment[];
  /** NEXT_HOP for the IPv4 NLRI field (RFC 4271 section 5.1.3). */
  readonly nextHop?: string;
  /** MULTI_EXIT_DISC (RFC 4271 section 5.1.4). */
  readonly med?: number;
  /** LOCAL_PREF, iBGP only (RFC 4271 section 5.1.5). */
  readonly localPref?: number;
  /** ATOMIC_AGGREGATE is present (RFC 4271 section 5.1.6). */
  readonly atomicAggregate?: true;
  /** AGGREGATOR with a 4-octet ASN (RFC 4271 section 5.1.7, RFC 6793 section 4.2.3). */
  readonly aggregator?: Aggregator;
  /** COMMUNITIES, each as a uint32 (high 16 bits ASN, low 16 bits value) (RFC 1997). */
  readonly communities?: readonly number[];
  /** LARGE_COMMUNITY values as [global administrator, local data 1, local data 2] (RFC 8092 section 3). */
  readonly largeCommunities?: readonly (readonly [number, number, number])[];
  /** MP_REACH_NLRI for IPv4/IPv6 unicast (RFC 4760 section 3). */
  readonly mpReach?: MpReachNlri;
  /** MP_UNREACH_NLRI (RFC 4760 section 4). */
  readonly mpUnreach?: MpUnreachNlri;
  /** Other attributes, including MP_* for other address families, in the order received; encoded in that order too. */
  readonly unknown?: readonly RawAttribute[];
  /**
   * AS_PATH, AS4_PATH, AGGREGATOR and AS4_AGGREGATOR as a 2-octet AS peer sent them, set on
   * decode only when asPath and aggregator alone would not encode back to them; while they still
   * stand for asPath and aggregator, encoding for a 2-octet AS peer writes them unchanged (RFC 6793 4.2.3).
   */
  readonly twoOctetAs?: TwoOctetAsAttributes;
}

/** How an attribute error was handled instead of resetting the session (RFC 7606 section 2). */
export interface AttributeProblem {
  /** Type code of the attribute concerned. */
  readonly typeCode: number;
  /** "treat-as-withdraw": the UPDATE's routes count as withdrawn; "attribute-discard": only this attribute is dropped. */
  readonly action: 'treat-as-withdraw' | 'attribute-discard';
  /** What was wrong, for logs. */
  readonly reason: string;
}

/** The outcome of reading the path attributes field (RFC 7606 sections 2-4). */
export interface DecodedAttributes {
  /** Attributes that were read and kept. */
  readonly attributes: PathAttributes;
  /** Errors handled by treat-as-withdraw or attribute discard, in the order found. */
  readonly problems: readonly AttributeProblem[];
}

/** Internal signal from an attribute parser; always caught in decodeAttributes. */
class Malformed extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function u32List(value: Buffer, unit: number, what: string): number[] {
  if (value.length === 0 || value.length % unit !== 0) throw new Malformed(`${what} length ${value.length} is not a non-zero multiple of ${unit}`);
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(value.readUInt32BE(i));
  return out;
}

function fixed(value: Buffer, len: number, what: string): void {
  if (value.length !== len) throw new Malformed(`${what} length ${value.length}, expected ${len}`);
}

function aggregator(value: Buffer, asSize: 2 | 4): Aggregator {
  fixed(value, asSize + 4, 'AGGREGATOR');
  return { asn: asSize === 4 ? value.readUInt32BE(0) : value.readUInt16BE(0), address: formatIpv4(value.subarray(asSize)) };
}

/** What one attribute parser reads and fills in. */
interface ParseContext {
  readonly attrs: { -readonly [K in keyof PathAttributes]: PathAttributes[K] };
  readonly opts: CodecOptions;
  /** The peer has 4-octet AS numbers (RFC 6793). */
  readonly four: boolean;
  readonly problems: AttributeProblem[];
  /** Kept as unknown: an MP attribute of an address family we do not decode. */
  keepRaw(): void;
  /** A 2-octet AS peer's AS4_PATH and AS4_AGGREGATOR, reconciled at the end (RFC 6793 4.2.3). */
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
}

/** A known attribute: the Optional and Transitive flags it must carry, what a malformed one costs (RFC 7606), and its parser. */
interface KnownAttribute {
  readonly flags: number;
  readonly onError: AttributeProblem['action'] | 'session-reset';
  /** Reads the value into the context; throws Malformed for a value that breaks the attribute's rules. */
  readonly parse: (value: Buffer, whole: Buffer, c: ParseContext) => void;
}

const KNOWN: Readonly<Record<number, KnownAttribute>> = {
  [AttributeType.Origin]: {
    flags: 0x40, onError: 'treat-as-withdraw', // 7606 7.1
    parse: (value, _, c) => {
      fixed(value, 1, 'ORIGIN');
      const origin = ORIGINS[value[0] ?? 0xff];
      if (!origin) throw new Malformed(`undefined ORIGIN ${value[0]}`);
      c.attrs.origin = origin;
    },
  },
  [AttributeType.AsPath]: {
    flags: 0x40, onError: 'treat-as-withdraw', // 7606 7.2
    parse: (value, _, c) => {
      const path = decodeAsPath(value, c.four ? 4 : 2);
      if (typeof path === 'string') throw new Malformed(path);
      c.attrs.asPath = path;
    },
  },
  [AttributeType.NextHop]: {
    flags: 0x40, onError: 'treat-as-withdraw', // 7606 7.3
    parse: (value, _, c) => {
      fixed(value, 4, 'NEXT_HOP');
      c.attrs.nextHop = formatIpv4(value);
    },
  },
  [AttributeType.MultiExitDisc]: {
    flags: 0x80, onError: 'treat-as-withdraw', // 7606 7.4
    parse: (value, _, c) => {
      fixed(value, 4, 'MULTI_EXIT_DISC');
      c.attrs.med = value.readUInt32BE(0);
    },
  },
  [AttributeType.LocalPref]: {
    flags: 0x40, onError: 'treat-as-withdraw', // 7606 7.5
    parse: (value, _, c) => {
      fixed(value, 4, 'LOCAL_PREF');
      if (c.opts.external) c.problems.push({ typeCode: AttributeType.LocalPref, action: 'attribute-discard', reason: 'LOCAL_PREF from an external peer' });
      else c.attrs.localPref = value.readUInt32BE(0);
    },
  },
  [AttributeType.AtomicAggregate]: {
    flags: 0x40, onError: 'attribute-discard', // 7606 7.6
    parse: (value, _, c) => {
      fixed(value, 0, 'ATOMIC_AGGREGATE');
      c.attrs.atomicAggregate = true;
    },
  },
  [AttributeType.Aggregator]: {
    flags: 0xc0, onError: 'attribute-discard', // 7606 7.7
    parse: (value, _, c) => void (c.attrs.aggregator = aggregator(value, c.four ? 4 : 2)),
  },
  [AttributeType.Communities]: {
    flags: 0xc0, onError: 'treat-as-withdraw', // 7606 7.8
    parse: (value, _, c) => void (c.attrs.communities = u32List(value, 4, 'COMMUNITIES')),
  },
  [AttributeType.MpReachNlri]: {
    flags: 0x80, onError: 'session-reset', // 7606 7.11, RFC 4760 7
    parse: (value, whole, c) => {
      const mp = decodeMpReach(value, whole);
      if (mp) c.attrs.mpReach = mp;
      else c.keepRaw();
    },
  },
  [AttributeType.MpUnreachNlri]: {
    flags: 0x80, onError: 'session-reset',
    parse: (value, whole, c) => {
      const mp = decodeMpUnreach(value, whole);
      if (mp) c.attrs.mpUnreach = mp;
      else c.keepRaw();
    },
  },
  [AttributeType.As4Path]: {
    flags: 0xc0, onError: 'attribute-discard', // RFC 6793 section 6
    parse: (value, _, c) => {
      if (c.four) throw new Malformed('AS4_PATH from a 4-octet AS speaker');
      const path = decodeAsPath(value, 4);
      if (typeof path === 'string') throw new Malformed(`AS4_PATH: ${path}`);
      c.as4Path = withoutConfederation(path); // RFC 6793 section 6: discard confederation segments
    },
  },
  [AttributeType.As4Aggregator]: {
    flags: 0xc0, onError: 'attribute-discard',
    parse: (value, _, c) => {
      if (c.four) throw new Malformed('AS4_AGGREGATOR from a 4-octet AS speaker');
      c.as4Aggregator = aggregator(value, 4);
    },
  },
  [AttributeType.LargeCommunity]: {
    flags: 0xc0, onError: 'treat-as-withdraw', // RFC 8092 section 6
    parse: (value, _, c) => {
      const words = u32List(value, 12, 'LARGE_COMMUNITY');
      const list: [number, number, number][] = [];
      for (let i = 0; i + 2 < words.length; i += 3) list.push([words[i] ?? 0, words[i + 1] ?? 0, words[i + 2] ?? 0]);
      c.attrs.largeCommunities = list;
    },
  },
};

/**
 * Reads the path attributes field. Errors the RFCs allow to survive are returned as problems
 * (RFC 7606 sections 3-4 and 7); session-reset errors throw BgpDecodeError with code 3.
 */
export function decodeAttributes(field: Buffer, opts: CodecOptions): DecodedAttributes {
  const unknown: RawAttribute[] = [];
  const problems: AttributeProblem[] = [];
  const seen = new Set<number>();
  const r = new Reader(field, () => new BgpDecodeError(ErrorCode.UpdateMessage, UpdateError.MalformedAttributeList, 'attribute list overrun'));
  let raw: RawAttribute | undefined;
  const c: ParseContext = { attrs: {}, opts, four: opts.fourOctetAs ?? true, problems, keepRaw: () => {
    if (raw !== undefined) unknown.push(raw);
  } };
  while (r.remaining > 0) {
    const start = field.length - r.remaining;
    const flags = r.u8();
    const ext = (flags & AttributeFlag.ExtendedLength) !== 0;
    if (r.remaining < (ext ? 3 : 2)) {
      problems.push({ typeCode: 0, action: 'treat-as-withdraw', reason: 'attribute header runs past the attributes field' }); // 7606 4
      break;
    }
    const typeCode = r.u8();
    const len = ext ? r.u16() : r.u8();
    const mp = typeCode === AttributeType.MpReachNlri || typeCode === AttributeType.MpUnreachNlri;
    if (len > r.remaining) {
      if (mp) throw new BgpDecodeError(ErrorCode.UpdateMessage, UpdateError.MalformedAttributeList, `attribute ${typeCode} overruns the attributes field`);
      problems.push({ typeCode, action: 'treat-as-withdraw', reason: `attribute ${typeCode} of length ${len} overruns the attributes field` });
      break;
    }
    const value = r.bytes(len);
    const whole = Buffer.from(field.subarray(start, start + (ext ? 4 : 3) + len));
    if (seen.has(typeCode)) {
      if (mp) throw new BgpDecodeError(ErrorCode.UpdateMessage, UpdateError.MalformedAttributeList, `attribute ${typeCode} appears twice`); // 7606 3(g)
      problems.push({ typeCode, action: 'attribute-discard', reason: `repeated attribute ${typeCode}` });
      continue;
    }
    seen.add(typeCode);
    raw = { flags: flags & 0xe0, typeCode, value };
    const known = KNOWN[typeCode];
    if (!known) {
      if ((flags & AttributeFlag.Optional) === 0) {
        throw new BgpDecodeError(ErrorCode.UpdateMessage, UpdateError.UnrecognizedWellKnownAttribute, `unrecognized well-known attribute ${typeCode}`, whole);
      }
      unknown.push(raw);
      continue;
    }
    try {
      if ((flags & 0xc0) !== known.flags) throw new Malformed(`attribute ${typeCode} has flags 0x${flags.toString(16)}`); // 7606 3(c)
      known.parse(value, whole, c);
    } catch (e) {
      if (!(e instanceof Malformed)) throw e;
      if (known.onError === 'session-reset') throw new BgpDecodeError(ErrorCode.UpdateMessage, UpdateError.OptionalAttributeError, e.reason, whole);
      problems.push({ typeCode, action: known.onError, reason: e.reason });
    }
  }
  if (!c.four) reconcile(c.attrs, c.as4Path, c.as4Aggregator);
  if (unknown.length > 0) c.attrs.unknown = unknown;
  return { attributes: c.attrs, problems };
}

/** Replaces what a 2-octet AS peer sent by what it stands for, keeping the sent form when it cannot be rebuilt (RFC 6793 4.2.3). */
function reconcile(attrs: { -readonly [K in keyof PathAttributes]: PathAttributes[K] }, as4Path?: AsPathSegment[], as4Aggregator?: Aggregator): void {
  const sent: { -readonly [K in keyof TwoOctetAsAttributes]: TwoOctetAsAttributes[K] } = {};
  if (attrs.asPath) sent.asPath = attrs.asPath;
  if (as4Path) sent.as4Path = as4Path;
  if (attrs.aggregator) sent.aggregator = attrs.aggregator;
  if (as4Aggregator) sent.as4Aggregator = as4Aggregator;
  const real = reconcileTwoOctetAs(sent);
  delete attrs.asPath;
  delete attrs.aggregator;
  if (real.asPath) attrs.asPath = real.asPath;
  if (real.aggregator) attrs.aggregator = real.aggregator;
  if (!sameTwoOctetAs(splitForTwoOctetAs(real), sent)) attrs.twoOctetAs = sent;
}

function attribute(flags: number, typeCode: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new BgpEncodeError(`attribute ${typeCode} value of ${value.length} octets is too long`);
  const ext = value.length > 255;
  const head = Buffer.alloc(ext ? 4 : 3);
  head[0] = (flags & 0xe0) | (ext ? AttributeFlag.ExtendedLength : 0);
  head[1] = typeCode;
  if (ext) head.writeUInt16BE(value.length, 2);
  else head[2] = value.length;
  return Buffer.concat([head, value]);
}

function u32(n: number, what: string): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new BgpEncodeError(`${what} ${n} is not a uint32`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function aggregatorValue(a: Aggregator, asSize: 2 | 4): Buffer {
  const asn = asSize === 4 ? u32(a.asn, 'AGGREGATOR ASN') : Buffer.of(...u32(a.asn > 0xffff ? AS_TRANS : a.asn, 'ASN').subarray(2));
  return Buffer.concat([asn, familyAddressBytes('ipv4', a.address)]);
}

/** The AS attributes to write: 4-octet as they are, or split for a 2-octet AS peer unless the received form still applies (RFC 6793 4.2.2). */
function asAttributes(a: PathAttributes, four: boolean): TwoOctetAsAttributes {
  if (four) return { ...(a.asPath ? { asPath: a.asPath } : {}), ...(a.aggregator ? { aggregator: a.aggregator } : {}) };
  return a.twoOctetAs && standsFor(a.twoOctetAs, a) ? a.twoOctetAs : splitForTwoOctetAs(a);
}

/**
 * Encodes path attributes: MP_REACH/MP_UNREACH first (RFC 7606 section 5.1), then the known
 * ones by ascending type code (RFC 4271 section 5), then unknown ones in the order received;
 * AS4_PATH/AS4_AGGREGATOR added for 2-octet peers (RFC 6793 4.2.2).
 */
export function encodeAttributes(a: PathAttributes, opts: CodecOptions): Buffer {
  const four = opts.fourOctetAs ?? true;
  const as = asAttributes(a, four);
  const list: [number, Buffer][] = [];
  if (a.origin !== undefined) list.push([1, attribute(0x40, 1, Buffer.of(ORIGINS.indexOf(a.origin)))]);
  if (as.asPath !== undefined) list.push([2, attribute(0x40, 2, encodeAsPath(as.asPath, four ? 4 : 2))]);
  if (as.as4Path !== undefined) list.push([17, attribute(0xc0, 17, encodeAsPath(as.as4Path, 4))]);
  if (a.nextHop !== undefined) list.push([3, attribute(0x40, 3, familyAddressBytes('ipv4', a.nextHop))]);
  if (a.med !== undefined) list.push([4, attribute(0x80, 4, u32(a.med, 'MULTI_EXIT_DISC'))]);
  if (a.localPref !== undefined) list.push([5, attribute(0x40, 5, u32(a.localPref, 'LOCAL_PREF'))]);
  if (a.atomicAggregate) list.push([6, attribute(0x40, 6, Buffer.alloc(0))]);
  if (as.aggregator !== undefined) list.push([7, attribute(0xc0, 7, aggregatorValue(as.aggregator, four ? 4 : 2))]);
  if (as.as4Aggregator !== undefined) list.push([18, attribute(0xc0, 18, aggregatorValue(as.as4Aggregator, 4))]);
  if (a.communities !== undefined) list.push([8, attribute(0xc0, 8, Buffer.concat(a.communities.map((c) => u32(c, 'community'))))]);
  if (a.largeCommunities !== undefined) {
    list.push([32, attribute(0xc0, 32, Buffer.concat(a.largeCommunities.flatMap((lc) => lc.map((n) => u32(n, 'large community')))))]);
  }
  list.sort((x, y) => x[0] - y[0]);
  const first: Buffer[] = [];
  if (a.mpReach !== undefined) first.push(attribute(0x80, 14, encodeMpReach(a.mpReach)));
  if (a.mpUnreach !== undefined) first.push(attribute(0x80, 15, encodeMpUnreach(a.mpUnreach)));
  // Attributes this codec does not interpret are passed on as they came (RFC 4271 section 5).
  const unknown = (a.unknown ?? []).map((raw) => {
    if (raw.typeCode < 0 || raw.typeCode > 255 || !Number.isInteger(raw.typeCode)) throw new BgpEncodeError(`bad attribute type ${raw.typeCode}`);
    return attribute(raw.flags, raw.typeCode, Buffer.from(raw.value));
  });
  return Buffer.concat([...first, ...list.map(([, b]) => b), ...unknown]);
}
