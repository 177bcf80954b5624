import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../speakers/bgp/codec/message.js';
import type { UpdateMessage } from '../../../speakers/bgp/codec/update.js';
import { decodeErrorOf } from './errors.js';
import { MARKER, hex } from './hex.js';

/** Builds an UPDATE from hex path attributes and NLRI, filling in the length fields. */
function update(attrs: string, nlri = '18 c00002', withdrawn = ''): Buffer {
  const w = hex(withdrawn);
  const a = hex(attrs);
  const n = hex(nlri);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(19 + 4 + w.length + a.length + n.length);
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(w.length);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(a.length);
  return Buffer.concat([hex(MARKER), len, hex('02'), wl, w, al, a, n]);
}

const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 06 02 01 0000fde9';
const NEXT_HOP = '40 03 04 c0000201';
const BASE = ORIGIN + AS_PATH + NEXT_HOP;

const decode = (b: Buffer, external = false): UpdateMessage => decodeMessage(b, { external }) as UpdateMessage;

describe('RFC 7606 error handling of UPDATE attributes', () => {
  it('accepts a well-formed UPDATE with no problems', () => {
    const m = decode(update(BASE));
    expect(m.treatAsWithdraw).toBeUndefined();
    expect(m.problems).toBeUndefined();
  });

  it.each([
    ['COMMUNITIES of 5 octets (7.8)', 'c0 08 05 0001000200', 8],
    ['empty COMMUNITIES (7.8)', 'c0 08 00', 8],
    ['LARGE_COMMUNITY of 8 octets (RFC 8092 6)', 'c0 20 08 0000000100000002', 32],
    ['LOCAL_PREF of 2 octets (7.5)', '40 05 02 0064', 5],
    ['MULTI_EXIT_DISC of 3 octets (7.4)', '80 04 03 000001', 4],
    ['COMMUNITIES marked well-known (3(c))', '40 08 04 fde90064', 8],
  ])('treats %s as withdraw and keeps the routes to withdraw', (_why, attr, typeCode) => {
    const m = decode(update(BASE + attr));
    expect(m.treatAsWithdraw).toBe(true);
    expect(m.problems).toEqual([expect.objectContaining({ typeCode, action: 'treat-as-withdraw' })]);
    expect(m.nlri).toEqual([{ family: 'ipv4', address: '192.0.2.0', length: 24 }]);
  });

  it.each([
    ['an ORIGIN value of 3 (7.1)', '40 01 01 03' + AS_PATH + NEXT_HOP, 1],
    ['an AS_PATH segment of type 5 (7.2)', ORIGIN + '40 02 06 05 01 0000fde9' + NEXT_HOP, 2],
    ['an empty AS_PATH segment (7.2)', ORIGIN + '40 02 02 02 00' + NEXT_HOP, 2],
    ['a NEXT_HOP of 16 octets (7.3)', ORIGIN + AS_PATH + '40 03 10' + '00'.repeat(16), 3],
  ])('treats %s as withdraw', (_why, attrs, typeCode) => {
    const m = decode(update(attrs));
    expect(m.treatAsWithdraw).toBe(true);
    expect(m.problems?.[0]).toMatchObject({ typeCode, action: 'treat-as-withdraw' });
  });

  it('treats a missing well-known attribute as withdraw when routes are announced (3(d))', () => {
    const m = decode(update(ORIGIN + NEXT_HOP));
    expect(m.treatAsWithdraw).toBe(true);
    expect(m.problems).toEqual([expect.objectContaining({ typeCode: 2, reason: expect.stringMatching(/missing/) as unknown })]);
    // A pure withdrawal needs no attributes.
    expect(decode(update('', '', '18 c00002')).treatAsWithdraw).toBeUndefined();
  });

  it('discards LOCAL_PREF from an external peer but keeps it from an internal one (7.5)', () => {
    const b = update(BASE + '40 05 04 00000064');
    const ext = decode(b, true);
    expect(ext.attributes.localPref).toBeUndefined();
    expect(ext.treatAsWithdraw).toBeUndefined();
    expect(ext.problems).toEqual([expect.objectContaining({ typeCode: 5, action: 'attribute-discard' })]);
    expect(decode(b).attributes.localPref).toBe(100);
  });

  it.each([
    ['ATOMIC_AGGREGATE with a value (7.6)', '40 06 01 00', 6],
    ['AGGREGATOR of 5 octets (7.7)', 'c0 07 05 0000fde9 01', 7],
    ['AS4_PATH from a 4-octet speaker (RFC 6793 6)', 'c0 11 06 02 01 0000fde9', 17],
  ])('discards %s and keeps the route', (_why, attr, typeCode) => {
    const m = decode(update(BASE + attr));
    expect(m.treatAsWithdraw).toBeUndefined();
    expect(m.problems).toEqual([expect.objectContaining({ typeCode, action: 'attribute-discard' })]);
    expect(m.attributes.origin).toBe('igp');
  });

  it('keeps the first of a repeated attribute and discards the rest (3(g))', () => {
    const m = decode(update(BASE + 'c0 08 04 fde90064' + 'c0 08 04 fde900c8'));
    expect(m.attributes.communities).toEqual([0xfde90064]);
    expect(m.problems).toEqual([expect.objectContaining({ typeCode: 8, action: 'attribute-discard' })]);
  });

  it('treats an attribute overrunning the attributes field as withdraw, relying on the total length (4)', () => {
    const m = decode(update(BASE + 'c0 08 09 fde90064'));
    expect(m.treatAsWithdraw).toBe(true);
    expect(m.nlri).toHaveLength(1);
  });

  it.each([
    ['MP_REACH_NLRI with a 5-octet IPv6 next hop (7.11)', '80 0e 0b 0002 01 05 0000000000 00 00', [3, 9]],
    ['MP_REACH_NLRI cut short (7.11)', '80 0e 02 0002', [3, 9]],
    ['MP_REACH_NLRI with a /129 prefix (5.3)', '80 0e 17 0002 01 10 20010db8000000000000000000000001 00 81 20', [3, 9]],
    ['MP_UNREACH_NLRI marked transitive (7.11)', 'c0 0f 03 0002 01', [3, 9]],
    ['two MP_UNREACH_NLRI (3(g))', '80 0f 03 0002 01 80 0f 03 0002 01', [3, 1]],
    ['MP_REACH_NLRI overrunning the attributes field', '80 0e 30 0002 01', [3, 1]],
    ['an unrecognized well-known attribute', '40 63 01 00', [3, 2]],
  ])('resets the session for %s', (_why, attrs, codes) => {
    const [code, subcode] = decodeErrorOf(() => decode(update(BASE + attrs)));
    expect([code, subcode]).toEqual(codes);
  });

  it('sends the malformed attribute as NOTIFICATION data for an unrecognized well-known attribute (RFC 4271 6.3)', () => {
    const [, , e] = decodeErrorOf(() => decode(update(BASE + '40 63 01 07')));
    expect(e.data).toEqual(hex('40 63 01 07'));
  });

  it.each([
    ['an NLRI prefix length of 33', '21 c0000201 00', [3, 10]],
    ['an NLRI prefix running past the message', '18 c000', [3, 10]],
    ['a withdrawn routes length past the message', null, [3, 1]],
    ['a total attribute length past the message', 'len', [3, 1]],
  ])('resets the session for %s (RFC 7606 5.3, RFC 4271 6.3)', (_why, nlri, codes) => {
    let b: Buffer;
    if (nlri === null) b = hex(MARKER, '0017', '02', '0001', '0000');
    else if (nlri === 'len') b = hex(MARKER, '001b', '02', '0000', '0005', '40010100');
    else b = update(BASE, nlri);
    const [code, subcode] = decodeErrorOf(() => decode(b));
    expect([code, subcode]).toEqual(codes);
  });
});
