// An entry written twice in any list of the config is refused at the second one, naming
// the first: MetalLB v0.12 did so for advertisements, communities, pools and peers, and
// vipcast does it for its own lists too.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';

function errorAt(text: string, path: string): string | undefined {
  const result = parseConfig(text);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.errors.find((e) => e.path === path)?.message ?? JSON.stringify(result.errors);
}

const layer2 = (extra: string): string => `address-pools:\n- name: p\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n${extra}`;
const bgp = (advertisements: string): string =>
  `bgp-communities:\n  edge: 65535:65281\naddress-pools:\n- name: b\n  protocol: bgp\n  addresses: [10.1.0.0/24]\n  bgp-advertisements:\n${advertisements}`;

describe('entries written twice', () => {
  it.each<[string, string, string, string]>([
    ['an address in one pool', 'address-pools:\n- {name: p, protocol: layer2, addresses: [10.0.0.0/24, 10.0.0.0/24]}\n', 'address-pools[0].addresses[1]', '10.0.0.0/24 is listed twice (also at address-pools[0].addresses[0])'],
    ['an address in two pools', 'address-pools:\n- {name: p, protocol: layer2, addresses: [10.0.0.0/24]}\n- {name: q, protocol: layer2, addresses: [10.0.0.0/24]}\n', 'address-pools[1].addresses[0]', '10.0.0.0/24 is already in pool "p" (address-pools[0].addresses[0])'],
    ['a community, once by alias and once by number', bgp('  - communities: [edge, "65535:65281"]\n'), 'address-pools[0].bgp-advertisements[0].communities[1]', 'community 65535:65281 is listed twice (also at address-pools[0].bgp-advertisements[0].communities[0])'],
    ['a well-known community by name', bgp('  - communities: ["65535:65281", no-export]\n'), 'address-pools[0].bgp-advertisements[0].communities[1]', 'community "no-export" (65535:65281) is listed twice'],
    ['an advertisement', bgp('  - {localpref: 100}\n  - {localpref: 100}\n'), 'address-pools[0].bgp-advertisements[1]', 'this advertisement is listed twice (also at address-pools[0].bgp-advertisements[0])'],
    ['a namespace', layer2('  namespaces: [team-a, team-a]\n'), 'address-pools[0].namespaces[1]', 'namespace "team-a" is listed twice (also at address-pools[0].namespaces[0])'],
    ['an interface', layer2('  interfaces: [eth0, eth0]\n'), 'address-pools[0].interfaces[1]', 'interface "eth0" is listed twice'],
    ['a selector, labels in another order', layer2('  node-selectors:\n  - match-labels: {a: x, b: y}\n  - match-labels: {b: y, a: x}\n'), 'address-pools[0].node-selectors[1]', 'this selector is listed twice (also at address-pools[0].node-selectors[0])'],
    ['a match expression', layer2('  service-selectors:\n  - match-expressions:\n    - {key: k, operator: Exists}\n    - {key: k, operator: Exists}\n'), 'address-pools[0].service-selectors[0].match-expressions[1]', 'this match-expressions entry is listed twice'],
    ['a value of a match expression', layer2('  service-selectors:\n  - match-expressions:\n    - {key: k, operator: In, values: [a, a]}\n'), 'address-pools[0].service-selectors[0].match-expressions[0].values[1]', 'value "a" is listed twice'],
    ['a pool of a peer', `${bgp('  - {}\n')}peers:\n- {peer-address: 10.0.0.1, peer-asn: 1, my-asn: 2, pools: [b, b]}\n`, 'peers[0].pools[1]', 'pool "b" is listed twice (also at peers[0].pools[0])'],
  ])('%s', (_name, text, path, message) => {
    expect(errorAt(text, path)).toContain(message);
  });

  it('leaves entries that differ alone', () => {
    const text = `${bgp('  - {localpref: 100}\n  - {localpref: 200, communities: [edge, "1:2"]}\n')}peers:\n- {peer-address: 10.0.0.1, peer-asn: 1, my-asn: 2}\n`;
    expect(parseConfig(text).ok).toBe(true);
  });
});
