import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Framer, type FramerResult } from '../../../speakers/bgp/codec/framer.js';
import { decodeMessage, encodeMessage } from '../../../speakers/bgp/codec/message.js';
import { AS_TRANS } from '../../../speakers/bgp/codec/open.js';
import { allFixtures, routers } from './fixtures.js';
import { MARKER, hex } from './hex.js';

function feed(chunks: Buffer[]): FramerResult[] {
  const f = new Framer();
  return chunks.flatMap((c) => [...f.push(c)]);
}

describe('Framer: TCP chunks in, whole messages out (RFC 4271 4.1)', () => {
  it.each(allFixtures.map((f) => [f.name, f.bytes] as const))('%s split at every offset gives the same message', (_n, bytes) => {
    const expected = [{ ok: true, message: decodeMessage(bytes) }];
    for (let i = 0; i <= bytes.length; i += 1) {
      expect(feed([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(expected);
    }
  });

  it.each(routers.map(([r, list]) => [r, Buffer.concat(list.map((f) => f.bytes)), list.map((f) => f.bytes)] as const))(
    'the whole %s stream gives the same messages whether split anywhere or fed one byte at a time',
    (_r, stream, parts) => {
      const expected = parts.map((b) => ({ ok: true, message: decodeMessage(b) }));
      for (let i = 0; i <= stream.length; i += 1) expect(feed([stream.subarray(0, i), stream.subarray(i)])).toEqual(expected);
      expect(feed([...stream].map((b) => Buffer.of(b)))).toEqual(expected);
    },
  );

  it('stops at the first error and yields nothing after it', () => {
    const f = new Framer();
    const keepalive = encodeMessage({ type: 'keepalive' });
    const out = [...f.push(Buffer.concat([keepalive, hex('00'.repeat(16), '0013', '04'), keepalive]))];
    expect(out).toHaveLength(2);
    expect(out[1]).toMatchObject({ ok: false, error: { code: 1, subcode: 1 } });
    expect(f.failed).toBe(true);
    expect([...f.push(keepalive)]).toEqual([]);
  });

  it('reports a bad header as soon as 19 octets arrive, without waiting for the body', () => {
    const out = feed([hex(MARKER, 'ffff', '02')]);
    expect(out).toMatchObject([{ ok: false, error: { code: 1, subcode: 2, data: hex('ffff') } }]);
  });

  it('keeps a partial message buffered', () => {
    const f = new Framer();
    expect([...f.push(encodeMessage({ type: 'keepalive' }).subarray(0, 10))]).toEqual([]);
    expect(f.buffered).toBe(10);
  });

  it('applies options set between results, e.g. 2-octet AS_PATH after the OPEN exchange (RFC 6793)', () => {
    const open = encodeMessage({ type: 'open', myAs: 65001, holdTime: 90, bgpId: '192.0.2.1', capabilities: [] });
    const update = encodeMessage(
      { type: 'update', withdrawn: [], attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65001, 65002] }], nextHop: '192.0.2.1' }, nlri: [{ family: 'ipv4', address: '192.0.2.0', length: 24 }] },
      { fourOctetAs: false },
    );
    const f = new Framer();
    const seen = [];
    for (const r of f.push(Buffer.concat([open, update]))) {
      seen.push(r);
      if (r.ok && r.message.type === 'open') f.setOptions({ fourOctetAs: false });
    }
    expect(seen[1]).toMatchObject({ ok: true, message: { attributes: { asPath: [{ type: 'sequence', asns: [65001, 65002] }] } } });
    expect(AS_TRANS).toBe(23456);
  });
});
