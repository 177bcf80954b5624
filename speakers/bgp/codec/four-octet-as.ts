// RFC 6793 on a session with a 2-octet AS speaker (an "OLD" speaker): AS_PATH and AGGREGATOR
// carry 2-octet ASNs with AS_TRANS standing in for larger ones, AS4_PATH and AS4_AGGREGATOR
// carry the real ones. The decoder merges them (section 4.2.3); the encoder splits them again
// (section 4.2.2), or writes back what was received when the merge cannot be undone exactly.
import { mergeAs4Path, needsAs4Path, type AsPathSegment } from './as-path.js';
import { AS_TRANS } from './open.js';

/** The AGGREGATOR (or AS4_AGGREGATOR) value: the aggregating speaker's ASN and IPv4 address (RFC 4271 section 5.1.7). */
export interface Aggregator {
  /** ASN of the speaker that formed the aggregate. */
  readonly asn: number;
  /** IPv4 address of that speaker, dotted quad. */
  readonly address: string;
}

/**
 * The four AS attributes exactly as a 2-octet AS peer sent them, before the merge of RFC 6793
 * section 4.2.3; AS4_PATH without the confederation segments that section 6 says to discard.
 */
export interface TwoOctetAsAttributes {
  /** AS_PATH with 2-octet ASNs, AS_TRANS where the sender had no room (RFC 6793 section 4.2.2). */
  readonly asPath?: readonly AsPathSegment[];
  /** AS4_PATH, sequences and sets only (RFC 6793 sections 4.2.2 and 6). */
  readonly as4Path?: readonly AsPathSegment[];
  /** AGGREGATOR with its 2-octet ASN. */
  readonly aggregator?: Aggregator;
  /** AS4_AGGREGATOR with the real ASN. */
  readonly as4Aggregator?: Aggregator;
}

/** The AS information a 2-octet AS peer's attributes stand for (RFC 6793 section 4.2.3). */
export interface ReconciledAs {
  /** The real AS path. */
  readonly asPath?: readonly AsPathSegment[];
  /** The real aggregator. */
  readonly aggregator?: Aggregator;
}

/** Drops confederation segments, which never travel in AS4_PATH (RFC 6793 sections 4.2.2 and 6). */
export function withoutConfederation(segments: readonly AsPathSegment[]): AsPathSegment[] {
  return segments.filter((s) => s.type === 'sequence' || s.type === 'set');
}

/**
 * Merges what a 2-octet AS peer sent: an AGGREGATOR without AS_TRANS makes AS4_AGGREGATOR and
 * AS4_PATH stale, else AS4_AGGREGATOR replaces AGGREGATOR and AS4_PATH is merged (RFC 6793 4.2.3).
 */
export function reconcileTwoOctetAs(sent: TwoOctetAsAttributes): ReconciledAs {
  const out: { asPath?: readonly AsPathSegment[]; aggregator?: Aggregator } = {};
  const stale = sent.aggregator !== undefined && sent.aggregator.asn !== AS_TRANS;
  const aggregator = !stale && sent.aggregator && sent.as4Aggregator ? sent.as4Aggregator : sent.aggregator;
  const asPath = !stale && sent.asPath && sent.as4Path ? mergeAs4Path(sent.asPath, sent.as4Path) : sent.asPath;
  if (asPath) out.asPath = asPath;
  if (aggregator) out.aggregator = aggregator;
  return out;
}

const two = (asn: number): number => (asn > 0xffff ? AS_TRANS : asn);

/**
 * Builds the four attributes for a 2-octet AS peer from the real AS information: AS_TRANS in
 * AS_PATH and AGGREGATOR, AS4_PATH without confederation segments and AS4_AGGREGATOR only when
 * an ASN needs 4 octets (RFC 6793 section 4.2.2).
 */
export function splitForTwoOctetAs(real: ReconciledAs): TwoOctetAsAttributes {
  const out: { -readonly [K in keyof TwoOctetAsAttributes]: TwoOctetAsAttributes[K] } = {};
  if (real.asPath) {
    out.asPath = real.asPath.map((s) => ({ type: s.type, asns: s.asns.map(two) }));
    if (needsAs4Path(real.asPath)) out.as4Path = withoutConfederation(real.asPath);
  }
  if (real.aggregator) {
    out.aggregator = { asn: two(real.aggregator.asn), address: real.aggregator.address };
    if (real.aggregator.asn > 0xffff) out.as4Aggregator = real.aggregator;
  }
  return out;
}

function samePath(a: readonly AsPathSegment[] | undefined, b: readonly AsPathSegment[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((s, i) => s.type === b[i]?.type && s.asns.length === b[i].asns.length && s.asns.every((n, k) => n === b[i]?.asns[k]));
}

function sameAggregator(a: Aggregator | undefined, b: Aggregator | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.asn === b.asn && a.address === b.address;
}

/** True if two sets of the four attributes are the same, segment by segment. */
export function sameTwoOctetAs(a: TwoOctetAsAttributes, b: TwoOctetAsAttributes): boolean {
  return samePath(a.asPath, b.asPath) && samePath(a.as4Path, b.as4Path) && sameAggregator(a.aggregator, b.aggregator) && sameAggregator(a.as4Aggregator, b.as4Aggregator);
}

/** True if `sent` still stands for `real`, i.e. nobody changed the AS path or aggregator since it was received (RFC 6793 4.2.3). */
export function standsFor(sent: TwoOctetAsAttributes, real: ReconciledAs): boolean {
  const merged = reconcileTwoOctetAs(sent);
  return samePath(merged.asPath, real.asPath) && sameAggregator(merged.aggregator, real.aggregator);
}
