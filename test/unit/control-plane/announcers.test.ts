// Which BGP-mode VIPs are also on a link: the subnet test behind announcing takeovers on
// layer 2 as well (src/control-plane/announcers.ts), and the announcer that does both.
import { describe, expect, it } from 'vitest';
import { bothAnnouncers, onLinkSubnet } from '../../../src/control-plane/announcers.js';
import type { VipAnnouncer } from '../../../src/control-plane/vip-holder.js';

describe('onLinkSubnet', () => {
  const eth0 = [
    { address: '172.30.0.11', prefixLength: 24 },
    { address: '172.30.0.250', prefixLength: 32 },
    { address: 'fd42:ca57::11', prefixLength: 64 },
    { address: 'fe80::1', prefixLength: 64 },
  ];

  it('names the subnet of the interface address that contains the VIP', () => {
    expect(onLinkSubnet('172.30.0.250', eth0)).toBe('172.30.0.0/24');
    expect(onLinkSubnet('fd42:ca57::250', eth0)).toBe('fd42:ca57::/64');
  });

  it('finds none for a VIP outside every subnet, or held only as a host address', () => {
    expect(onLinkSubnet('198.51.100.250', eth0)).toBeUndefined();
    expect(onLinkSubnet('172.30.1.5', eth0)).toBeUndefined();
    expect(onLinkSubnet('2001:db8::1', eth0)).toBeUndefined();
    expect(onLinkSubnet('172.30.0.250', [{ address: '172.30.0.250', prefixLength: 32 }])).toBeUndefined();
    expect(onLinkSubnet('10.0.0.1', [])).toBeUndefined();
  });

  it('compares within one family only, and at the exact prefix boundary', () => {
    expect(onLinkSubnet('10.1.255.255', [{ address: '10.1.0.1', prefixLength: 16 }])).toBe('10.1.0.0/16');
    expect(onLinkSubnet('10.2.0.0', [{ address: '10.1.0.1', prefixLength: 16 }])).toBeUndefined();
    expect(onLinkSubnet('::ffff:10.1.0.2', [{ address: '10.1.0.1', prefixLength: 16 }])).toBeUndefined();
  });
});

describe('bothAnnouncers', () => {
  it('passes every call to both, in order', () => {
    const calls: string[] = [];
    const spy = (name: string): VipAnnouncer => ({
      announce: (vip) => calls.push(`${name} announce ${vip}`),
      withdraw: (vip) => calls.push(`${name} withdraw ${vip}`),
      close: () => calls.push(`${name} close`),
    });
    const both = bothAnnouncers(spy('bgp'), spy('l2'));
    both.announce('192.0.2.1');
    both.withdraw('192.0.2.1');
    both.close();
    expect(calls).toEqual(['bgp announce 192.0.2.1', 'l2 announce 192.0.2.1', 'bgp withdraw 192.0.2.1', 'l2 withdraw 192.0.2.1', 'bgp close', 'l2 close']);
  });
});
