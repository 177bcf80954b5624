import { describe, expect, it } from 'vitest';
import { bgpFilter, describeBgp, describeLayer2, foldRepeats, layer2Filter, type FrameFields } from '../../../lab/lab-frames.js';

// The failover happened at 1700000000.000 s; frames are stamped as tshark prints frame.time_epoch.
const zeroMs = 1_700_000_000_000;
const macs = new Map([
  ['02:00:00:00:00:01', 'node-1'],
  ['02:00:00:00:00:02', 'node-2'],
]);

const arp = (fields: FrameFields): FrameFields => ({ 'frame.time_epoch': '1700000001.250000000', 'eth.src': '02:00:00:00:00:09', ...fields });

describe('describeLayer2', () => {
  it('words an ARP request that asks for another address', () => {
    const line = describeLayer2(arp({ 'arp.opcode': '1', 'arp.src.hw_mac': '02:00:00:00:00:09', 'arp.src.proto_ipv4': '192.0.2.9', 'arp.dst.proto_ipv4': '192.0.2.100' }), zeroMs, macs);
    expect(line).toBe('+1.250 s  ARP request  who has 192.0.2.100? tell 192.0.2.9, from 02:00:00:00:00:09');
  });

  it('words a gratuitous ARP request as a claim, naming the node by its MAC', () => {
    const fields = { 'frame.time_epoch': '1700000000.004', 'eth.src': '02:00:00:00:00:02', 'arp.opcode': '1', 'arp.src.hw_mac': '02:00:00:00:00:02', 'arp.src.proto_ipv4': '192.0.2.100', 'arp.dst.proto_ipv4': '192.0.2.100' };
    expect(describeLayer2(fields, zeroMs, macs)).toBe('+0.004 s  ARP request  192.0.2.100 is at 02:00:00:00:00:02 (node-2)  [gratuitous]');
  });

  it('words a gratuitous ARP reply', () => {
    const fields = arp({ 'arp.opcode': '2', 'arp.src.hw_mac': '02:00:00:00:00:01', 'arp.src.proto_ipv4': '192.0.2.100', 'arp.dst.proto_ipv4': '192.0.2.100' });
    expect(describeLayer2(fields, zeroMs, macs)).toBe('+1.250 s  ARP reply    192.0.2.100 is at 02:00:00:00:00:01 (node-1)  [gratuitous]');
  });

  it('words an ordinary ARP reply, before the event with a minus sign', () => {
    const fields = { 'frame.time_epoch': '1699999999.5', 'eth.src': '02:00:00:00:00:01', 'arp.opcode': '2', 'arp.src.hw_mac': '02:00:00:00:00:01', 'arp.src.proto_ipv4': '192.0.2.100', 'arp.dst.proto_ipv4': '192.0.2.9' };
    expect(describeLayer2(fields, zeroMs, macs)).toBe('-0.500 s  ARP reply    192.0.2.100 is at 02:00:00:00:00:01 (node-1)');
  });

  it('looks names up by the MAC in lower case, and prints the MAC in lower case', () => {
    const fields = arp({ 'arp.opcode': '2', 'arp.src.hw_mac': '02:00:00:00:00:0A', 'arp.src.proto_ipv4': '192.0.2.100', 'arp.dst.proto_ipv4': '192.0.2.9' });
    const names = new Map([['02:00:00:00:00:0a', 'node-10']]);
    expect(describeLayer2(fields, zeroMs, names)).toBe('+1.250 s  ARP reply    192.0.2.100 is at 02:00:00:00:00:0a (node-10)');
    // A MAC that is not in the map is printed alone.
    expect(describeLayer2(fields, zeroMs, macs)).toBe('+1.250 s  ARP reply    192.0.2.100 is at 02:00:00:00:00:0a');
  });

  it('words an NDP neighbour solicitation', () => {
    const fields = { 'frame.time_epoch': '1700000000.1', 'eth.src': '02:00:00:00:00:09', 'icmpv6.type': '135', 'icmpv6.nd.ns.target_address': '2001:db8::100' };
    expect(describeLayer2(fields, zeroMs, macs)).toBe('+0.100 s  NDP NS       who has 2001:db8::100? from 02:00:00:00:00:09');
  });

  const na = (s: string, o: string, linkaddr: string): FrameFields => ({
    'frame.time_epoch': '1700000000.2', 'eth.src': '02:00:00:00:00:02', 'icmpv6.type': '136', 'icmpv6.nd.na.target_address': '2001:db8::100',
    'icmpv6.nd.na.flag.s': s, 'icmpv6.nd.na.flag.o': o, 'icmpv6.opt.linkaddr': linkaddr,
  });

  it('words an NDP neighbour advertisement with flags given as 1/0 (older tshark)', () => {
    expect(describeLayer2(na('1', '1', '02:00:00:00:00:01'), zeroMs, macs)).toBe('+0.200 s  NDP NA       2001:db8::100 is at 02:00:00:00:00:01 (node-1)  [solicited, override]');
    expect(describeLayer2(na('0', '1', '02:00:00:00:00:01'), zeroMs, macs)).toBe('+0.200 s  NDP NA       2001:db8::100 is at 02:00:00:00:00:01 (node-1)  [unsolicited, to all nodes, override]');
    expect(describeLayer2(na('1', '0', '02:00:00:00:00:01'), zeroMs, macs)).toBe('+0.200 s  NDP NA       2001:db8::100 is at 02:00:00:00:00:01 (node-1)  [solicited]');
  });

  it('words an NDP neighbour advertisement with flags given as True/False (newer tshark)', () => {
    expect(describeLayer2(na('True', 'True', '02:00:00:00:00:01'), zeroMs, macs)).toContain('[solicited, override]');
    expect(describeLayer2(na('False', 'True', '02:00:00:00:00:01'), zeroMs, macs)).toContain('[unsolicited, to all nodes, override]');
    expect(describeLayer2(na('False', 'False', '02:00:00:00:00:01'), zeroMs, macs)).toContain('[unsolicited, to all nodes]');
  });

  it('falls back to the Ethernet source when the NA carries no link-layer address option', () => {
    expect(describeLayer2(na('0', '1', ''), zeroMs, macs)).toBe('+0.200 s  NDP NA       2001:db8::100 is at 02:00:00:00:00:02 (node-2)  [unsolicited, to all nodes, override]');
  });

  it('words any other frame by its sender', () => {
    expect(describeLayer2({ 'frame.time_epoch': '1700000003', 'eth.src': '02:00:00:00:00:01', 'icmpv6.type': '128' }, zeroMs, macs)).toBe('+3.000 s  (other frame from 02:00:00:00:00:01 (node-1))');
  });
});

describe('describeBgp', () => {
  const hosts = new Map([
    ['192.0.2.1', 'node-1'],
    ['192.0.2.254', 'router'],
    ['2001:db8::2', 'node-2'],
  ]);
  const bgp = (type: string, extra: FrameFields = {}): FrameFields => ({ 'frame.time_epoch': '1700000000.75', 'ip.src': '192.0.2.1', 'ip.dst': '192.0.2.254', 'bgp.type': type, ...extra });

  it.each([
    ['1', 'OPEN'],
    ['3', 'NOTIFICATION'],
    ['4', 'KEEPALIVE'],
    ['5', 'ROUTE-REFRESH'],
  ])('names BGP type %s as %s', (type, name) => {
    expect(describeBgp(bgp(type), zeroMs, hosts)).toBe(`+0.750 s  BGP ${name.padEnd(12)} node-1 -> router`);
  });

  it('prints an unknown BGP type as its number', () => {
    expect(describeBgp(bgp('9'), zeroMs, hosts)).toBe('+0.750 s  BGP 9            node-1 -> router');
  });

  it('words an UPDATE that announces IPv4 and IPv6 prefixes', () => {
    const fields = bgp('2', { 'bgp.nlri_prefix': '198.51.100.0/32', 'bgp.mp_reach_nlri_ipv6_prefix': '2001:db8:100::/128' });
    expect(describeBgp(fields, zeroMs, hosts)).toBe('+0.750 s  BGP UPDATE       node-1 -> router  announces 198.51.100.0/32, 2001:db8:100::/128');
  });

  it('words an UPDATE that withdraws, and one that both withdraws and announces', () => {
    expect(describeBgp(bgp('2', { 'bgp.withdrawn_prefix': '198.51.100.0/32' }), zeroMs, hosts)).toBe('+0.750 s  BGP UPDATE       node-1 -> router  withdraws 198.51.100.0/32');
    expect(describeBgp(bgp('2', { 'bgp.nlri_prefix': '198.51.100.1/32', 'bgp.withdrawn_prefix': '198.51.100.0/32' }), zeroMs, hosts)).toBe(
      '+0.750 s  BGP UPDATE       node-1 -> router  announces 198.51.100.1/32; withdraws 198.51.100.0/32',
    );
  });

  it('says so when an UPDATE has no prefixes tshark shows', () => {
    const fields = bgp('2', { 'bgp.nlri_prefix': '', 'bgp.mp_reach_nlri_ipv6_prefix': '', 'bgp.withdrawn_prefix': '' });
    expect(describeBgp(fields, zeroMs, hosts)).toBe('+0.750 s  BGP UPDATE       node-1 -> router  no prefixes (End-of-RIB or an IPv6 change)');
  });

  it('uses IPv6 addresses when there is no IPv4 header, and prints unknown addresses as they are', () => {
    const fields = { 'frame.time_epoch': '1700000000.75', 'ip.src': '', 'ipv6.src': '2001:db8::2', 'ip.dst': '', 'ipv6.dst': '2001:db8::254', 'bgp.type': '1' };
    expect(describeBgp(fields, zeroMs, hosts)).toBe('+0.750 s  BGP OPEN         node-2 -> 2001:db8::254');
  });

  it.each([
    ['0', 'AdminDown'],
    ['1', 'Down'],
    ['2', 'Init'],
    ['3', 'Up'],
    ['0x01', 'Down'],
  ])('names BFD state %s as %s', (sta, name) => {
    const fields = { 'frame.time_epoch': '1700000001', 'ip.src': '192.0.2.254', 'ip.dst': '192.0.2.1', 'bgp.type': '', 'bfd.sta': sta };
    expect(describeBgp(fields, zeroMs, hosts)).toBe(`+1.000 s  BFD ${name.padEnd(12)} router -> node-1`);
  });

  it('prints ? for a BFD state it does not know', () => {
    expect(describeBgp({ 'frame.time_epoch': '1700000001', 'ip.src': '192.0.2.254', 'ip.dst': '192.0.2.1', 'bfd.sta': '7' }, zeroMs, hosts)).toBe('+1.000 s  BFD ?            router -> node-1');
  });
});

describe('foldRepeats', () => {
  const line = (t: string, body: string): string => `${t} s  ${body}`;

  it('keeps a single line and a pair as they are', () => {
    const lines = [line('+0.100', 'A'), line('+0.200', 'B'), line('+0.300', 'B'), line('+0.400', 'C')];
    expect(foldRepeats(lines)).toEqual(lines);
  });

  it('folds three or more lines differing only in time into the first, with a count and the last time', () => {
    const lines = [line('-0.300', 'A'), line('+0.100', 'B'), line('+0.200', 'B'), line('+0.300', 'B'), line('+0.400', 'B'), line('+0.500', 'C')];
    expect(foldRepeats(lines)).toEqual([line('-0.300', 'A'), `${line('+0.100', 'B')}  (and 3 more like it, until +0.400 s)`, line('+0.500', 'C')]);
  });

  it('folds exactly three into "2 more"', () => {
    expect(foldRepeats([line('+1.000', 'X'), line('+2.000', 'X'), line('+3.000', 'X')])).toEqual([`${line('+1.000', 'X')}  (and 2 more like it, until +3.000 s)`]);
  });

  it('does not fold lines that come back after another line', () => {
    const lines = [line('+0.100', 'A'), line('+0.200', 'B'), line('+0.300', 'A')];
    expect(foldRepeats(lines)).toEqual(lines);
  });

  it('returns nothing for nothing', () => {
    expect(foldRepeats([])).toEqual([]);
  });
});

describe('display filters', () => {
  it('selects ARP about IPv4 addresses and NDP about IPv6 addresses', () => {
    expect(layer2Filter(['192.0.2.100'])).toBe('arp.src.proto_ipv4 == 192.0.2.100 || arp.dst.proto_ipv4 == 192.0.2.100');
    expect(layer2Filter(['2001:db8::100'])).toBe('icmpv6.nd.ns.target_address == 2001:db8::100 || icmpv6.nd.na.target_address == 2001:db8::100');
    expect(layer2Filter(['192.0.2.100', '2001:db8::100'])).toBe(
      'arp.src.proto_ipv4 == 192.0.2.100 || arp.dst.proto_ipv4 == 192.0.2.100 || icmpv6.nd.ns.target_address == 2001:db8::100 || icmpv6.nd.na.target_address == 2001:db8::100',
    );
  });

  it('selects BGP other than KEEPALIVE and BFD other than Up', () => {
    expect(bgpFilter).toBe('(bgp && bgp.type != 4) || (bfd && bfd.sta != 3)');
  });
});
