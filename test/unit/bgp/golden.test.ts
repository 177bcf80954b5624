import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type BgpMessage } from '../../../speakers/bgp/codec/message.js';
import type { NotificationMessage } from '../../../speakers/bgp/codec/notification.js';
import { openAsn, type OpenMessage } from '../../../speakers/bgp/codec/open.js';
import { endOfRibFamily, type UpdateMessage } from '../../../speakers/bgp/codec/update.js';
import type { NonCanonicalLayout } from '../../fixtures/bgp/fixture.js';
import { allFixtures, routers } from './fixtures.js';
import { attr, updateBytes } from './wire.js';

/** Rewrites an UPDATE's attributes without the sender's choices named in `layout`: minimal lengths, MP_* first then by type. */
function relayout(update: Buffer, layout: readonly NonCanonicalLayout[]): Buffer {
  const withdrawnLength = update.readUInt16BE(19);
  const at = 21 + withdrawnLength;
  const end = at + 2 + update.readUInt16BE(at);
  const list: { flags: number; type: number; value: Buffer }[] = [];
  for (let i = at + 2; i < end; ) {
    const flags = update[i] ?? 0;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? update.readUInt16BE(i + 2) : (update[i + 2] ?? 0);
    const start = i + (ext ? 4 : 3);
    list.push({ flags, type: update[i + 1] ?? 0, value: update.subarray(start, start + len) });
    i = start + len;
  }
  const rank = (t: number): number => (t === 14 || t === 15 ? t - 100 : t);
  if (layout.includes('attribute-order')) list.sort((x, y) => rank(x.type) - rank(y.type));
  const minimal = layout.includes('extended-length');
  const attrs = Buffer.concat(list.map((a) => attr(a.flags, a.type, a.value, minimal ? a.value.length > 255 : (a.flags & 0x10) !== 0)));
  return updateBytes(attrs, update.subarray(end), update.subarray(21, 21 + withdrawnLength));
}

function find(router: string, name: string): BgpMessage {
  const list = routers.find(([r]) => r.startsWith(router))?.[1] ?? [];
  const f = list.find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${router} ${name}`);
  return decodeMessage(f.bytes);
}

describe('messages captured from BIRD, FRR and GoBGP', () => {
  it.each(allFixtures.map((f) => [f.name, f.bytes] as const))('%s decodes cleanly and survives re-encoding', (_name, bytes) => {
    const m = decodeMessage(bytes);
    if (m.type === 'update') expect(m.problems).toBeUndefined();
    expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it.each(allFixtures.filter((f) => f.nonCanonical.length === 0).map((f) => [f.name, f.bytes] as const))('%s re-encodes to the captured bytes', (_name, bytes) => {
    expect(encodeMessage(decodeMessage(bytes)).toString('hex')).toBe(bytes.toString('hex'));
  });

  it.each(allFixtures.filter((f) => f.nonCanonical.length > 0).map((f) => [f.name, f.bytes, f.nonCanonical] as const))(
    '%s re-encodes to other bytes, differing only in the layout its fixture names',
    (_name, bytes, layout) => {
      const again = encodeMessage(decodeMessage(bytes)).toString('hex');
      expect(again).not.toBe(bytes.toString('hex'));
      expect(again).toBe(relayout(bytes, layout).toString('hex'));
    },
  );

  it.each(routers.map(([r, list]) => [r, list.map((f) => f.name)] as const))('%s sent every message kind we need', (_r, names) => {
    for (const kind of ['open', 'keepalive', 'update-ipv4', 'update-mp-reach-ipv6', 'eor-ipv4', 'eor-ipv6', 'notification-cease-2']) {
      expect(names.some((n) => n.startsWith(kind))).toBe(true);
    }
  });

  it('BIRD with AS 4200000001 sends AS_TRANS and the 4-octet AS capability (RFC 6793)', () => {
    const open = find('BIRD', 'open-over-ipv4') as OpenMessage;
    expect(open.myAs).toBe(23456);
    expect(openAsn(open)).toBe(4200000001);
    expect(open.capabilities).toContainEqual(expect.objectContaining({ kind: 'graceful-restart', restartTime: 120 }));
  });

  it('BIRD sends its own communities, large communities and a 32-byte IPv6 next hop', () => {
    const u = find('BIRD', 'update-ipv4-over-ipv4-2') as UpdateMessage;
    expect(u.nlri).toEqual([{ family: 'ipv4', address: '203.0.113.1', length: 32 }]);
    expect(u.attributes.communities).toEqual([65001 * 65536 + 100]);
    expect(u.attributes.largeCommunities).toEqual([[4200000001, 1, 1]]);
    const v6 = find('BIRD', 'update-mp-reach-ipv6-over-ipv6') as UpdateMessage;
    expect(v6.attributes.mpReach).toMatchObject({ afi: 2, safi: 1, nextHop: 'fd77::1', linkLocalNextHop: expect.stringMatching(/^fe80::/) as unknown });
  });

  it('FRR puts each capability in its own parameter and sends 32-byte next hops over an IPv4 session', () => {
    expect((find('FRR', 'open-over-ipv4') as OpenMessage).onePerParameter).toBe(true);
    const u = find('FRR', 'update-mp-reach-ipv6-over-ipv4') as UpdateMessage;
    expect(u.attributes.mpReach?.linkLocalNextHop).toMatch(/^fe80::/);
    expect(u.attributes.mpReach?.nlri).toEqual([{ family: 'ipv6', address: '2001:db8:5::5', length: 128 }]);
  });

  it.each([
    ['BIRD', 'vipcast fixture: bird shutdown'],
    ['FRR', 'vipcast fixture: frr shutdown'],
    ['GoBGP', 'vipcast fixture: gobgp shutdown'],
  ])('%s sends its shutdown communication in Cease/2 (RFC 9003)', (router, text) => {
    const n = find(router, 'notification-cease-2-over-ipv4') as NotificationMessage;
    expect([n.code, n.subcode, n.shutdownMessage]).toEqual([6, 2, text]);
  });

  it('every router ends its initial updates with End-of-RIB markers (RFC 4724)', () => {
    for (const router of ['BIRD', 'FRR', 'GoBGP']) {
      expect(endOfRibFamily(find(router, 'eor-ipv4-over-ipv4') as UpdateMessage)).toEqual({ afi: 1, safi: 1 });
      // FRR sent the same bytes on both sessions, so its IPv6 marker is stored once, from the IPv4 session.
      const v6 = router === 'FRR' ? 'eor-ipv6-over-ipv4' : 'eor-ipv6-over-ipv6';
      expect(endOfRibFamily(find(router, v6) as UpdateMessage)).toEqual({ afi: 2, safi: 1 });
    }
  });
});
