// RFC 6793 with a 2-octet AS peer: what is merged on receipt, and what is sent back.
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { AsPathSegment } from '../../../speakers/bgp/codec/as-path.js';
import { decodeMessage, encodeMessage } from '../../../speakers/bgp/codec/message.js';
import { AS_TRANS } from '../../../speakers/bgp/codec/open.js';
import type { UpdateMessage } from '../../../speakers/bgp/codec/update.js';
import { NEXT_HOP, NLRI_24, ORIGIN_IGP, attr, segments, updateBytes } from './wire.js';

const old = { fourOctetAs: false };
const asPath2 = (list: AsPathSegment[]): Buffer => attr(0x40, 2, segments(list, 2));
const as4Path = (list: AsPathSegment[]): Buffer => attr(0xc0, 17, segments(list, 4));
const decodeOld = (b: Buffer): UpdateMessage => decodeMessage(b, old) as UpdateMessage;

describe('UPDATEs from a 2-octet AS peer (RFC 6793 4.2.3) re-encoded for it (4.2.2)', () => {
  it('sends back the AS_PATH as received, a confederation segment included', () => {
    // The confederation segment follows the part AS4_PATH covers, so the merged path cannot hold it
    // ("a valid AS_CONFED_SEQUENCE ... SHALL be prepended if it is either the leading path segment or
    // is adjacent to a path segment that is prepended"); the AS_PATH it came in still does.
    const b = updateBytes(
      Buffer.concat([
        ORIGIN_IGP,
        asPath2([{ type: 'sequence', asns: [65001, AS_TRANS] }, { type: 'confed-sequence', asns: [65010] }]),
        NEXT_HOP,
        as4Path([{ type: 'sequence', asns: [65001, 4200000001] }]),
      ]),
      NLRI_24,
    );
    const m = decodeOld(b);
    expect(m.attributes.asPath).toEqual([{ type: 'sequence', asns: [65001, 4200000001] }]);
    expect(encodeMessage(m, old)).toEqual(b);
    expect(decodeOld(encodeMessage(m, old))).toEqual(m);
  });

  it('keeps a leading confederation segment in the merged path and out of AS4_PATH', () => {
    const b = updateBytes(
      Buffer.concat([
        ORIGIN_IGP,
        asPath2([{ type: 'confed-sequence', asns: [65010, 65011] }, { type: 'sequence', asns: [AS_TRANS, 65002] }]),
        NEXT_HOP,
        as4Path([{ type: 'sequence', asns: [4200000001, 65002] }]),
      ]),
      NLRI_24,
    );
    const m = decodeOld(b);
    expect(m.attributes.asPath).toEqual([
      { type: 'confed-sequence', asns: [65010, 65011] },
      { type: 'sequence', asns: [4200000001, 65002] },
    ]);
    expect(m.attributes.twoOctetAs).toBeUndefined(); // the path alone encodes back to these bytes
    expect(encodeMessage(m, old)).toEqual(b);
  });

  it('drops confederation segments found in AS4_PATH and never sends them there (RFC 6793 section 6)', () => {
    const b = updateBytes(
      Buffer.concat([
        ORIGIN_IGP,
        asPath2([{ type: 'confed-sequence', asns: [65010] }, { type: 'sequence', asns: [AS_TRANS] }]),
        NEXT_HOP,
        as4Path([{ type: 'confed-sequence', asns: [65010] }, { type: 'sequence', asns: [4200000001] }]),
      ]),
      NLRI_24,
    );
    const m = decodeOld(b);
    expect(m.attributes.asPath).toEqual([{ type: 'confed-sequence', asns: [65010] }, { type: 'sequence', asns: [4200000001] }]);
    const again = encodeMessage(m, old);
    expect(again.includes(as4Path([{ type: 'sequence', asns: [4200000001] }]))).toBe(true);
    expect(decodeOld(again)).toEqual(m);
  });

  it('re-encodes 676 AS_TRANS entries with a short AS4_PATH within 4096 octets, byte for byte', () => {
    // An OLD speaker path of 676 hops, of which only the last is known in 4 octets: merged, that
    // is 676 ASNs; written out again as a whole 4-octet AS4_PATH it would need 2714 more octets.
    const asns = Array.from({ length: 676 }, () => AS_TRANS);
    const path = [{ type: 'sequence' as const, asns: asns.slice(0, 255) }, { type: 'sequence' as const, asns: asns.slice(255, 510) }, { type: 'sequence' as const, asns: asns.slice(510) }];
    const b = updateBytes(Buffer.concat([ORIGIN_IGP, asPath2(path), NEXT_HOP, as4Path([{ type: 'sequence', asns: [4200000001] }])]), NLRI_24);
    const m = decodeOld(b);
    expect(m.attributes.asPath?.flatMap((s) => s.asns)).toEqual([...asns.slice(1), 4200000001]);
    expect(encodeMessage(m, old)).toEqual(b);
  });

  it('splits a changed path afresh: AS_TRANS in AS_PATH, confederation segments only there (RFC 6793 4.2.2)', () => {
    const b = updateBytes(Buffer.concat([ORIGIN_IGP, asPath2([{ type: 'sequence', asns: [AS_TRANS] }]), NEXT_HOP, as4Path([{ type: 'sequence', asns: [4200000001] }])]), NLRI_24);
    const m = decodeOld(b);
    const prepended: UpdateMessage = {
      ...m,
      attributes: { ...m.attributes, asPath: [{ type: 'confed-sequence', asns: [4200000009] }, { type: 'sequence', asns: [65001, 4200000001] }] },
    };
    const out = encodeMessage(prepended, old);
    expect(out.includes(asPath2([{ type: 'confed-sequence', asns: [AS_TRANS] }, { type: 'sequence', asns: [65001, AS_TRANS] }]))).toBe(true);
    expect(out.includes(as4Path([{ type: 'sequence', asns: [65001, 4200000001] }]))).toBe(true);
    // A 4-octet confederation member cannot be told to an OLD speaker: it stays AS_TRANS.
    expect(decodeOld(out).attributes.asPath).toEqual([{ type: 'confed-sequence', asns: [AS_TRANS] }, { type: 'sequence', asns: [65001, 4200000001] }]);
  });

  it('writes back an AGGREGATOR that makes AS4_PATH stale, and the AS4_PATH it ignored', () => {
    const b = updateBytes(
      Buffer.concat([
        ORIGIN_IGP,
        asPath2([{ type: 'sequence', asns: [65001, AS_TRANS] }]),
        NEXT_HOP,
        attr(0xc0, 7, Buffer.of(0xfd, 0xe9, 192, 0, 2, 9)), // AGGREGATOR 65001, not AS_TRANS
        as4Path([{ type: 'sequence', asns: [4200000001] }]),
        attr(0xc0, 18, Buffer.of(0xfa, 0x56, 0xea, 0x01, 192, 0, 2, 9)), // AS4_AGGREGATOR 4200000001
      ]),
      NLRI_24,
    );
    const m = decodeOld(b);
    expect(m.attributes.asPath).toEqual([{ type: 'sequence', asns: [65001, AS_TRANS] }]);
    expect(m.attributes.aggregator).toEqual({ asn: 65001, address: '192.0.2.9' });
    expect(encodeMessage(m, old)).toEqual(b);
  });
});
