// What the speaker tells people when a VIP it serves is in trouble: another host claiming a
// layer-2 address it answers for, and BGP routes a session cannot send. Each becomes a
// Warning Event on the Services using the address (written through the real EventRecorder,
// which merges repeats into one Event's series); a route not sent also counts on /metrics.
// The runtime's caches are filled by a fake API's lists; their watches never open.
import { afterEach, describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../src/k8s/events.js';
import { KubeApiError, type KubeRest, type KubeWatcher } from '../../../src/k8s/rest.js';
import { createLogger } from '../../../src/log.js';
import { reportBgpEvent } from '../../../src/speaker/bgp-events.js';
import { createSpeakerMetrics } from '../../../src/speaker/metrics.js';
import type { BgpAnnouncer } from '../../../src/speaker/bgp-protocol.js';
import type { LinkSpeaker } from '../../../src/speaker/layer2-protocol.js';
import { SpeakerRuntime } from '../../../src/speaker/runtime.js';
import { SpeakerLease, defaultSpeakerLeaseTiming } from '../../../src/speaker/speaker-lease.js';

const namespace = 'vipcast-system';

const config = `address-pools:
- name: office
  protocol: layer2
  addresses: [192.0.2.0/28]
- name: routed
  protocol: bgp
  addresses: [203.0.113.0/28, 2001:db8:1::/120]
peers:
- peer-address: 10.1.0.1
  peer-asn: 64501
  my-asn: 64500
`;

function service(name: string, uid: string, ips: readonly string[]): object {
  return { metadata: { namespace: 'shop', name, uid, resourceVersion: '1' }, spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } };
}

/** What the cluster holds: node-1 (Ready), the config, a layer-2 Service and a dual-stack BGP Service. */
const collections: Record<string, object[]> = {
  '/api/v1/services': [service('web', 'uid-web', ['192.0.2.5']), service('api', 'uid-api', ['203.0.113.7', '2001:db8:1::7'])],
  '/apis/discovery.k8s.io/v1/endpointslices': [],
  '/api/v1/nodes': [{ metadata: { name: 'node-1', resourceVersion: '1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }],
  [`/api/v1/namespaces/${namespace}/configmaps`]: [{ metadata: { namespace, name: 'vipcast-config', resourceVersion: '1' }, data: { config } }],
  [`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`]: [],
};

interface WrittenEvent {
  type: string;
  reason: string;
  note: string;
  regarding: { kind: string; namespace: string; name: string; uid?: string };
}

/** A KubeRest serving `collections` (any other GET is 404) and recording Event writes. */
function fakeApi(): { rest: KubeRest & KubeWatcher; events: WrittenEvent[]; patches: { path: string; body: { series?: { count: number } } }[] } {
  const events: WrittenEvent[] = [];
  const patches: { path: string; body: { series?: { count: number } } }[] = [];
  let version = 1;
  const saved = <T>(body: unknown): Promise<T> => {
    const object = body as { metadata?: object };
    return Promise.resolve({ ...object, metadata: { ...object.metadata, resourceVersion: String(++version) } } as T);
  };
  // Watches never deliver: the informers keep what their first list returned.
  const rest: KubeRest & KubeWatcher = {
    watch: () => ({ done: new Promise<never>(() => undefined), abort: () => undefined }),
    get: <T>(path: string) => {
      const items = collections[path.split('?')[0] ?? ''];
      return items === undefined ? Promise.reject(new KubeApiError('GET', path, 404, { reason: 'NotFound' })) : Promise.resolve({ metadata: { resourceVersion: '1' }, items } as T);
    },
    create: <T>(path: string, body: unknown) => {
      if (path.endsWith('/events')) events.push(body as WrittenEvent);
      return saved<T>(body);
    },
    replace: <T>(_path: string, body: unknown) => saved<T>(body),
    mergePatch: <T>(path: string, body: unknown) => {
      patches.push({ path, body: body as { series?: { count: number } } });
      return Promise.resolve({} as T);
    },
  };
  return { rest, events, patches };
}


const running: SpeakerRuntime[] = [];

afterEach(async () => {
  for (const runtime of running.splice(0)) await runtime.stop();
});

/** A started runtime for node-1 over the fake API, with the Event clock the test moves. */
async function startRuntime(): Promise<{ runtime: SpeakerRuntime; events: WrittenEvent[]; patches: { path: string; body: { series?: { count: number } } }[]; advance: (ms: number) => void; logs: string[]; bgpVips: string[][] }> {
  const { rest, events, patches } = fakeApi();
  let eventClock = 0;
  const logs: string[] = [];
  const bgpVips: string[][] = [];
  const bgp: BgpAnnouncer = { setVips: (vips) => void bgpVips.push([...vips.keys()].sort()), stop: () => Promise.resolve() };
  const link: LinkSpeaker = { announce: () => undefined, release: () => true, answered: () => 0, close: () => undefined };
  const runtime = new SpeakerRuntime({
    rest,
    node: 'node-1',
    namespace,
    config: { source: 'vipcast', namespace, name: 'vipcast-config' },
    loadBalancerClass: undefined,
    lease: new SpeakerLease(rest, namespace, 'node-1', defaultSpeakerLeaseTiming, () => performance.now()),
    clock: () => performance.now(),
    log: createLogger('info', {}, (line) => void logs.push(line)),
    events: new EventRecorder(rest, { controller: 'vipcast.io/speaker', instance: 'node-1', now: () => eventClock }),
    interfacesFor: () => ['eth0'],
    openLink: () => link,
    bgp,
  });
  running.push(runtime);
  await runtime.start();
  return { runtime, events, patches, advance: (ms) => void (eventClock += ms), logs, bgpVips };
}

/** Lets the recorder's pending writes finish. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('another host claims a layer-2 VIP this node answers for', () => {
  it('writes a Warning Event AddressConflict on the Service, naming the VIP and the other MAC', async () => {
    const { runtime, events, logs } = await startRuntime();
    runtime.reportConflict('192.0.2.5', '02:00:5e:10:00:99', 'eth0');
    await settle();
    const conflicts = events.filter((e) => e.reason === 'AddressConflict');
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ type: 'Warning', regarding: { kind: 'Service', namespace: 'shop', name: 'web', uid: 'uid-web' } });
    expect(conflicts[0]?.note).toBe('host 02:00:5e:10:00:99 on eth0 claims 192.0.2.5, which node node-1 answers for; check for a duplicate address on the network');
    expect(logs.some((line) => line.includes('"msg":"another host claims a VIP we answer for"') && line.includes('"mac":"02:00:5e:10:00:99"'))).toBe(true);
  });

  it('makes repeated claims by the same host one Event whose series is patched at most every 30 s; another host gets its own', async () => {
    const { runtime, events, patches, advance } = await startRuntime();
    // The responder reports a claimant once a minute at most; even reported more often, the
    // Event is not repeated.
    for (let i = 0; i < 5; i++) {
      runtime.reportConflict('192.0.2.5', '02:00:5e:10:00:99', 'eth0');
      advance(1_000);
      await settle();
    }
    expect(events.filter((e) => e.reason === 'AddressConflict')).toHaveLength(1);
    expect(patches).toEqual([]);
    advance(30_000);
    runtime.reportConflict('192.0.2.5', '02:00:5e:10:00:99', 'eth0');
    await settle();
    expect(events.filter((e) => e.reason === 'AddressConflict')).toHaveLength(1);
    expect(patches.map((p) => p.body.series?.count)).toEqual([6]);

    runtime.reportConflict('192.0.2.5', '02:00:5e:10:00:42', 'eth0');
    await settle();
    expect(events.filter((e) => e.reason === 'AddressConflict').map((e) => e.note.split(' ')[1])).toEqual(['02:00:5e:10:00:99', '02:00:5e:10:00:42']);
  });
});

describe('a BGP session cannot send a route', () => {
  it('counts it on /metrics, logs it and writes a Warning Event NotAnnouncedBGP on the Service', async () => {
    const { runtime, events, logs, bgpVips } = await startRuntime();
    expect(bgpVips.at(-1)).toEqual(['2001:db8:1::7', '203.0.113.7']);
    const metrics = createSpeakerMetrics({ counts: () => ({ layer2Elections: 0, leaseWriteFailures: 0, layer2RequestsAnswered: 0 }), announced: () => runtime.counts() });
    const log = createLogger('info', {}, (line) => void logs.push(line));
    const reason = 'no ipv6 address on the interface of 10.1.0.1 to use as next hop';
    reportBgpEvent('10.1.0.1', { type: 'not-announced', prefixes: ['2001:db8:1::7/128'], reason }, { metrics, log, runtime });
    await settle();

    const text = await metrics.registry.metrics();
    expect(text).toContain('vipcast_speaker_bgp_routes_not_announced_total{peer="10.1.0.1"} 1\n');
    expect(logs.some((line) => line.includes('"msg":"bgp routes not announced"') && line.includes('2001:db8:1::7/128'))).toBe(true);
    const notAnnounced = events.filter((e) => e.reason === 'NotAnnouncedBGP');
    expect(notAnnounced).toHaveLength(1);
    expect(notAnnounced[0]).toMatchObject({ type: 'Warning', regarding: { kind: 'Service', namespace: 'shop', name: 'api', uid: 'uid-api' } });
    expect(notAnnounced[0]?.note).toBe(`node node-1 cannot announce 2001:db8:1::7/128 to 10.1.0.1: ${reason}`);
  });
});
