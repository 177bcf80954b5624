import { describe, expect, it } from 'vitest';
import { parseIpv4Routes, parseIpv6Routes, routeInterface } from '../../../src/net/routes.js';

// Lines as this machine's kernel prints them (6.18), with a second LAN added.
const ipv4 = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
lan1\t0064330A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;
const ipv6 = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fd000001000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     lan1
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

describe('route lookup', () => {
  const routes = [...parseIpv4Routes(ipv4), ...parseIpv6Routes(ipv6)];

  it('picks the most specific route for IPv4 and IPv6', () => {
    expect(routeInterface(routes, '10.51.100.7')).toBe('lan1');
    expect(routeInterface(routes, '192.0.2.40')).toBe('eth0');
    expect(routeInterface(routes, '203.0.113.1')).toBe('eth0'); // default route
    expect(routeInterface(routes, 'fd00:1::5')).toBe('lan1');
    expect(routeInterface(routes, 'fd00::5')).toBe('eth0');
  });

  it('reads IPv4 prefix lengths from the little-endian masks and skips the reject routes on lo', () => {
    expect(parseIpv4Routes(ipv4).map((r) => r.prefixLength)).toEqual([0, 24, 24]);
    expect(parseIpv6Routes(ipv6).map((r) => r.interfaceName)).toEqual(['eth0', 'lan1', 'eth0']);
    expect(routeInterface(routes, 'not an address')).toBeUndefined();
  });
});
