import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import type { Config } from '../../../src/config/types.js';
import { desiredVips, layer2Vips, speakerKeeps, type NodeView, type ServiceView } from '../../../src/speaker/desired.js';

function config(): Config {
  const result = parseConfig(`
address-pools:
- name: lan
  protocol: layer2
  addresses: [192.0.2.0/28, 2001:db8::/124]
- name: rack
  protocol: layer2
  addresses: [198.51.100.0/28]
  node-selectors:
  - match-labels: {rack: r1}
`);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const node = (name: string, labels: Record<string, string> = {}, ready = true): NodeView => ({
  metadata: { name, labels },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

const service = (name: string, ips: string[], spec: Record<string, string> = {}): ServiceView => ({
  metadata: { namespace: 'default', name },
  spec: { type: 'LoadBalancer', ...spec },
  status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
});

function desired(services: ServiceView[], nodes: NodeView[], slices: Parameters<typeof desiredVips>[0]['endpointSlices'] = [], linkUp = true) {
  const linkDown = linkUp ? new Set<string>() : new Set(layer2Vips(config(), services, undefined).keys());
  return desiredVips({ config: config(), services, endpointSlices: slices, nodes, self: 'a', linkDown });
}

describe('desired VIPs', () => {
  const nodes = [node('a', { rack: 'r1' }), node('b'), node('c', {}, false), node('d', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' })];

  it('lists each assigned IP inside a pool, with the Ready, not excluded nodes as eligible', () => {
    const vips = desired([service('web', ['192.0.2.1', '2001:db8::1'])], nodes);
    expect([...vips.keys()]).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(vips.get('192.0.2.1')?.eligible).toEqual(new Set(['a', 'b']));
    expect(vips.get('192.0.2.1')?.services).toEqual(['default/web']);
  });

  it('ignores IPs outside every pool, other types and other classes', () => {
    const vips = desired(
      [service('outside', ['203.0.113.9']), { ...service('np', ['192.0.2.2']), spec: { type: 'NodePort' } }, service('other', ['192.0.2.3'], { loadBalancerClass: 'example.com/lb' })],
      nodes,
    );
    expect(vips.size).toBe(0);
  });

  it("honours the pool's node selector and the own link state", () => {
    expect(desired([service('r', ['198.51.100.1'])], nodes).get('198.51.100.1')?.eligible).toEqual(new Set(['a']));
    expect(desired([service('web', ['192.0.2.1'])], nodes, [], false).get('192.0.2.1')?.eligible).toEqual(new Set(['b']));
  });

  it('marks the VIPs this node declines for its link alone, not those it may not announce anyway', () => {
    const services = [service('web', ['192.0.2.1']), service('r', ['198.51.100.1'])];
    expect([...desired(services, nodes, [], false).values()].map((v) => [v.ip, v.linkDown])).toEqual([['192.0.2.1', true], ['198.51.100.1', true]]);
    expect([...desired(services, nodes, [], true).values()].map((v) => v.linkDown)).toEqual([false, false]);
    // Not Ready, or not selected: the API says so to every node already.
    const unready = [node('a', { rack: 'r1' }, false), node('b')];
    expect([...desired(services, unready, [], false).values()].map((v) => v.linkDown)).toEqual([false, false]);
    expect([...desired(services, [node('a'), node('b')], [], false).values()].map((v) => [v.ip, v.linkDown])).toEqual([['192.0.2.1', true], ['198.51.100.1', false]]);
  });

  it('with externalTrafficPolicy Local, only nodes with a ready endpoint are eligible', () => {
    const slices = [
      {
        metadata: { namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
        endpoints: [
          { nodeName: 'b', conditions: { ready: true } },
          { nodeName: 'a', conditions: { ready: false } },
        ],
      },
    ];
    const vips = desired([service('web', ['192.0.2.1'], { externalTrafficPolicy: 'Local' })], nodes, slices);
    expect(vips.get('192.0.2.1')?.eligible).toEqual(new Set(['b']));
  });

  it('merges Services sharing one IP', () => {
    const vips = desired([service('tcp', ['192.0.2.5']), service('udp', ['192.0.2.5'])], nodes);
    expect(vips.get('192.0.2.5')?.services).toEqual(['default/tcp', 'default/udp']);
  });

  it('decides the same from what the caches keep of each object as from the whole objects', () => {
    const full = {
      services: [
        { ...service('web', ['192.0.2.1', '2001:db8::1'], { externalTrafficPolicy: 'Local', sessionAffinity: 'ClientIP' }), metadata: { namespace: 'default', name: 'web', uid: 'u1', resourceVersion: '7', annotations: { big: 'x'.repeat(1000) } } },
        service('shared', ['192.0.2.1']),
        { ...service('classy', ['192.0.2.2'], { loadBalancerClass: 'example.com/lb' }) },
      ],
      slices: [{ metadata: { namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, endpoints: [{ nodeName: 'b', conditions: { ready: true }, addresses: ['10.0.0.1'] }, { nodeName: 'a', conditions: { ready: false } }, { nodeName: 'c' }] }],
      nodes: [...nodes, { metadata: { name: 'e', labels: { rack: 'r1' } }, status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }], images: [{ names: ['x'] }] } }],
    };
    const kept = {
      services: full.services.map((o) => speakerKeeps.service(o) as ServiceView),
      slices: full.slices.map((o) => speakerKeeps.endpointSlice(o) as (typeof full.slices)[number]),
      nodes: full.nodes.map((o) => speakerKeeps.node(o) as NodeView),
    };
    for (const linkUp of [true, false]) expect(desired(kept.services, kept.nodes, kept.slices, linkUp)).toEqual(desired(full.services, full.nodes, full.slices, linkUp));
    expect(speakerKeeps.service(full.services[0]!)).toEqual({
      metadata: { namespace: 'default', name: 'web', uid: 'u1', resourceVersion: '7' },
      spec: { type: 'LoadBalancer', loadBalancerClass: undefined, externalTrafficPolicy: 'Local' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { ip: '2001:db8::1' }] } },
    });
  });

  it('takes the links as a snapshot: layer2Vips lists the layer-2 VIPs to read, and only those in linkDown lose this node', () => {
    const mixed = parseConfig(`
address-pools:
- name: lan
  protocol: layer2
  addresses: [192.0.2.0/28]
- name: routed
  protocol: bgp
  addresses: [203.0.113.0/28]
`);
    if (!mixed.ok) throw new Error(JSON.stringify(mixed.errors));
    const services = [
      service('l2', ['192.0.2.1', '192.0.2.01']),
      service('routed', ['203.0.113.1']),
      service('other-class', ['192.0.2.2'], { loadBalancerClass: 'example.com/lb' }),
      service('outside', ['10.9.9.9']),
      { ...service('cluster-ip', ['192.0.2.3']), spec: { type: 'ClusterIP' } },
    ];
    expect([...layer2Vips(mixed.config, services, undefined)].map(([ip, pool]) => [ip, pool.name])).toEqual([['192.0.2.1', 'lan']]);
    expect([...layer2Vips(mixed.config, services, 'example.com/lb').keys()]).toEqual(['192.0.2.1', '192.0.2.2']);
    const nodes = [node('a'), node('b')];
    const decide = (linkDown: ReadonlySet<string>) => desiredVips({ config: mixed.config, services, endpointSlices: [], nodes, self: 'a', linkDown });
    const up = decide(new Set());
    expect([...(up.get('192.0.2.1')?.eligible ?? [])].sort()).toEqual(['a', 'b']);
    const down = decide(new Set(['192.0.2.1']));
    expect([...(down.get('192.0.2.1')?.eligible ?? [])]).toEqual(['b']);
    expect(down.get('192.0.2.1')?.linkDown).toBe(true);
    expect([...(down.get('203.0.113.1')?.eligible ?? [])].sort()).toEqual(['a', 'b']);
  });
});
