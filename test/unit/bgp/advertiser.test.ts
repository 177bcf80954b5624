// The Adj-RIB-Out: diffs, packing many prefixes per UPDATE, and attributes per peer type.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, type Prefix, type UpdateMessage } from '../../../speakers/bgp/codec/index.js';
import { AdjRibOut, announcements, endOfRibMarkers, withdrawals, type PeerContext, type Route } from '../../../speakers/bgp/advertiser.js';

const ebgp: PeerContext = { myAsn: 64512, external: true, families: new Set(['ipv4', 'ipv6']) };
const ibgp: PeerContext = { ...ebgp, external: false };

function v4(i: number): Prefix {
  return { family: 'ipv4', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, length: 32 };
}
function v6(i: number): Prefix {
  return { family: 'ipv6', address: `2001:db8::${i.toString(16)}`, length: 128 };
}
const route = (prefix: Prefix, extra: Partial<Route> = {}): Route => ({ prefix, nextHop: prefix.family === 'ipv4' ? '192.0.2.1' : '2001:db8::1', ...extra });

function roundTrip(msgs: UpdateMessage[]): UpdateMessage[] {
  return msgs.map((m) => {
    const bytes = encodeMessage(m);
    expect(bytes.length).toBeLessThanOrEqual(4096);
    return decodeMessage(bytes) as UpdateMessage;
  });
}

describe('announcements (RFC 4271 4.3, RFC 4760 3)', () => {
  it('eBGP: AS_PATH is our ASN, no LOCAL_PREF; IPv4 in NLRI with NEXT_HOP', () => {
    const [u] = roundTrip(announcements([route(v4(1), { communities: [0xfde80064], largeCommunities: [[64512, 1, 2]] })], ebgp));
    expect(u?.nlri).toEqual([v4(1)]);
    expect(u?.attributes).toEqual({ origin: 'igp', asPath: [{ type: 'sequence', asns: [64512] }], nextHop: '192.0.2.1', communities: [0xfde80064], largeCommunities: [[64512, 1, 2]] });
  });

  it('iBGP: empty AS_PATH and LOCAL_PREF (default 100, or the route\'s)', () => {
    const [a, b] = roundTrip(announcements([route(v4(1)), route(v4(2), { localPref: 200 })], ibgp));
    expect(a?.attributes).toMatchObject({ asPath: [], localPref: 100 });
    expect(b?.attributes).toMatchObject({ localPref: 200 });
  });

  it('IPv6 goes in MP_REACH_NLRI with the IPv6 next hop', () => {
    const [u] = roundTrip(announcements([route(v6(1))], ebgp));
    expect(u?.nlri).toEqual([]);
    expect(u?.attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: [v6(1)] });
  });

  it('packs 10,000 /32s with equal attributes into full messages, none over 4096 octets', () => {
    const routes = Array.from({ length: 10_000 }, (_, i) => route(v4(i)));
    const msgs = roundTrip(announcements(routes, ebgp));
    expect(msgs.length).toBeLessThanOrEqual(Math.ceil((10_000 * 5) / 4000));
    expect(msgs.flatMap((m) => m.nlri)).toEqual(routes.map((r) => r.prefix));
  });

  it('packs 3,000 /128s into MP_REACH messages that fit', () => {
    const routes = Array.from({ length: 3000 }, (_, i) => route(v6(i + 1)));
    const msgs = roundTrip(announcements(routes, ebgp));
    expect(msgs.length).toBeLessThanOrEqual(Math.ceil((3000 * 17) / 3900));
    expect(msgs.flatMap((m) => m.attributes.mpReach?.nlri ?? [])).toHaveLength(3000);
  });

  it('groups by attributes: different communities go in different UPDATEs', () => {
    const msgs = announcements([route(v4(1), { communities: [1] }), route(v4(2), { communities: [2] }), route(v4(3), { communities: [1] })], ebgp);
    expect(msgs.map((m) => m.nlri.length)).toEqual([2, 1]);
  });

  it('holds back routes of families the peer did not negotiate', () => {
    expect(announcements([route(v6(1))], { ...ebgp, families: new Set(['ipv4']) })).toEqual([]);
  });
});

describe('withdrawals and End-of-RIB (RFC 4271 4.3, RFC 4760 4, RFC 4724 2)', () => {
  it('batches IPv4 withdrawals in Withdrawn Routes and IPv6 in MP_UNREACH', () => {
    const msgs = roundTrip(withdrawals([...Array.from({ length: 2000 }, (_, i) => v4(i)), v6(1)], ebgp));
    expect(msgs.length).toBe(4);
    expect(msgs.slice(0, 3).flatMap((m) => m.withdrawn)).toHaveLength(2000);
    expect(msgs[3]?.attributes.mpUnreach?.withdrawn).toEqual([v6(1)]);
  });

  it('End-of-RIB per negotiated family', () => {
    expect(endOfRibMarkers(ebgp)).toEqual([
      { type: 'update', withdrawn: [], attributes: {}, nlri: [] },
      { type: 'update', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] },
    ]);
  });
});

describe('AdjRibOut', () => {
  it('sends only the difference: new, changed and removed routes', () => {
    const rib = new AdjRibOut();
    expect(rib.sync([route(v4(1)), route(v4(2))], ebgp)).toHaveLength(1);
    expect(rib.sync([route(v4(1)), route(v4(2))], ebgp)).toEqual([]);
    const next = rib.sync([route(v4(1), { communities: [7] }), route(v4(3))], ebgp);
    expect(next[0]?.withdrawn).toEqual([v4(2)]);
    expect(next.slice(1).map((m) => m.nlri)).toEqual([[v4(1)], [v4(3)]]);
    expect(rib.size).toBe(2);
  });

  it('resend repeats everything for a route refresh; withdrawAll empties the table', () => {
    const rib = new AdjRibOut();
    rib.sync([route(v4(1)), route(v6(1))], ebgp);
    expect(rib.resend(ebgp)).toHaveLength(2);
    const gone = rib.withdrawAll(ebgp);
    expect(gone.map((m) => [m.withdrawn, m.attributes.mpUnreach?.withdrawn])).toEqual([[[v4(1)], undefined], [[], [v6(1)]]]);
    expect(rib.size).toBe(0);
  });
});

describe('AdjRibOut.resend for ROUTE-REFRESH (RFC 2918 section 4)', () => {
  it('resends only the family the peer asked for, and every route of it', () => {
    const rib = new AdjRibOut();
    rib.sync([route(v4(1)), route(v4(2)), route(v6(1))], ebgp);
    const again = roundTrip(rib.resend({ ...ebgp, families: new Set(['ipv4']) }));
    expect(again.flatMap((u) => u.nlri)).toEqual([v4(1), v4(2)]);
    expect(again.some((u) => u.attributes.mpReach)).toBe(false);
  });

  it('keeps routes whose communities differ only in order in one group', () => {
    const msgs = announcements([route(v4(1), { communities: [2, 1] }), route(v4(2), { communities: [1, 2] })], ebgp);
    expect(msgs).toHaveLength(1);
  });
});
