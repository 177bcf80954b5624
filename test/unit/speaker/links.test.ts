import { describe, expect, it } from 'vitest';
import { IFF_LOOPBACK, IFF_RUNNING, IFF_UP, IF_OPER_UNKNOWN, IF_OPER_UP, RTN_LOCAL, RTN_UNICAST, linkCarries, type InterfaceAddress, type Link } from '../../../src/net/netlink.js';
import { LinkFacts, routedInterface, type KernelNetwork } from '../../../src/speaker/links.js';

const lo: Link = { index: 1, name: 'lo', flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING, operstate: IF_OPER_UNKNOWN };
const eth0: Link = { index: 2, name: 'eth0', flags: IFF_UP | IFF_RUNNING, operstate: IF_OPER_UP };
const eth1: Link = { index: 3, name: 'eth1', flags: IFF_UP | IFF_RUNNING, operstate: IF_OPER_UP };
const ipvs: Link = { index: 4, name: 'kube-ipvs0', flags: 0x80, operstate: 2 };
const links = [lo, eth0, eth1, ipvs];

const address = (index: number, text: string, prefixLength: number): InterfaceAddress => ({ index, family: text.includes(':') ? 6 : 4, address: text, prefixLength, flags: 0, validSeconds: undefined });
const addresses = [
  address(1, '127.0.0.1', 8),
  address(2, '192.0.2.1', 24),
  address(2, '2001:db8::1', 64),
  address(3, '192.0.2.129', 25),
  address(4, '192.0.2.200', 32), // kube-proxy's IPVS mode binds each VIP to kube-ipvs0
];

describe('the interface a layer-2 VIP is announced on', () => {
  it("is the one the kernel routes it out of, whatever table the route is in", () => {
    expect(routedInterface('198.51.100.7', { index: 3, type: RTN_UNICAST }, addresses, links)).toBe('eth1');
  });

  it('when the VIP is local (on lo or kube-ipvs0), is the link whose own prefix covers it, longest first', () => {
    expect(routedInterface('192.0.2.100', { index: 1, type: RTN_LOCAL }, addresses, links)).toBe('eth0');
    expect(routedInterface('192.0.2.200', { index: 4, type: RTN_LOCAL }, addresses, links)).toBe('eth1');
    expect(routedInterface('2001:db8::100', { index: 1, type: RTN_LOCAL }, addresses, links)).toBe('eth0');
  });

  it('when nothing routes it (the link is administratively down), still finds the link by its address, so the node knows to decline', () => {
    expect(routedInterface('192.0.2.100', undefined, addresses, links)).toBe('eth0');
  });

  it('is none for a VIP no route and no address covers, and never lo', () => {
    expect(routedInterface('203.0.113.1', undefined, addresses, links)).toBeUndefined();
    expect(routedInterface('203.0.113.1', { index: 1, type: RTN_UNICAST }, addresses, links)).toBeUndefined();
    expect(routedInterface('not an address', undefined, addresses, links)).toBeUndefined();
  });
});

describe('whether a link carries frames', () => {
  it('needs it administratively up, and operationally up or, where the driver says nothing, with carrier', () => {
    expect(linkCarries(eth0)).toBe(true);
    expect(linkCarries(lo)).toBe(true);
    expect(linkCarries({ flags: IFF_UP, operstate: 2 })).toBe(false); // no carrier
    expect(linkCarries({ flags: IFF_UP, operstate: 7 })).toBe(false); // lower layer down (a veth whose peer is down)
    expect(linkCarries({ flags: IFF_RUNNING, operstate: IF_OPER_UP })).toBe(false); // admin down
    expect(linkCarries({ flags: IFF_UP, operstate: IF_OPER_UNKNOWN })).toBe(false);
  });
});

describe('LinkFacts', () => {
  function kernel(): KernelNetwork & { calls: Record<string, number>; state: { eth0: Link } } {
    const calls: Record<string, number> = { listLinks: 0, listAddresses: 0, routeTo: 0 };
    const state = { eth0 };
    return {
      calls,
      state,
      listLinks: () => (calls['listLinks']!++, [lo, state.eth0, eth1]),
      listAddresses: () => (calls['listAddresses']!++, addresses),
      routeTo: (vip) => {
        calls['routeTo']!++;
        if (vip.startsWith('203.')) throw Object.assign(new Error('RTM_GETROUTE: Network is unreachable'), { errno: 101 });
        return { index: 1, type: RTN_LOCAL };
      },
    };
  }

  it('reads the kernel once until told it changed, then afresh', () => {
    const k = kernel();
    const facts = new LinkFacts(() => undefined, k);
    for (let i = 0; i < 3; i++) {
      expect(facts.routedInterface('192.0.2.100')).toBe('eth0');
      expect(facts.carries('eth0')).toBe(true);
    }
    expect(k.calls).toEqual({ listLinks: 1, listAddresses: 1, routeTo: 1 });
    k.state.eth0 = { ...eth0, operstate: 2 };
    expect(facts.carries('eth0')).toBe(true); // not told yet
    facts.invalidate();
    expect(facts.carries('eth0')).toBe(false);
    expect(facts.carries('eth9')).toBe(false);
    expect(facts.routedInterface('192.0.2.100')).toBe('eth0');
    expect(k.calls).toEqual({ listLinks: 2, listAddresses: 2, routeTo: 2 });
  });

  it('treats an unroutable VIP as having no route, and reports a kernel it cannot read', () => {
    const errors: string[] = [];
    const facts = new LinkFacts((what) => errors.push(what), { ...kernel(), listLinks: () => { throw new Error('EPERM'); } });
    expect(facts.routedInterface('203.0.113.1')).toBeUndefined();
    expect(facts.carries('eth0')).toBe(false);
    expect(errors).toEqual(['cannot list the network links']);
  });
});
