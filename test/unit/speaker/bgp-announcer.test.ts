// The speaker's BGP sessions follow the config: every setting a session is built from reaches
// it, and changing one replaces the session instead of being ignored.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import type { Config, Pool } from '../../../src/config/types.js';
import { SpeakerBgp, type AnnouncerSession } from '../../../src/speaker/bgp-announcer.js';
import type { SessionConfig } from '../../../speakers/bgp/session.js';

function config(peer: string): Config {
  const result = parseConfig(`
bfd-profiles:
- {name: fast, transmit-interval: 100, receive-interval: 100, detect-multiplier: 3}
peers:
- {peer-address: 192.0.2.254, peer-asn: 64512, my-asn: 64513, ${peer}}
address-pools:
- {name: edge, protocol: bgp, addresses: [198.51.100.0/24]}
`);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

function announcer(): { bgp: SpeakerBgp; made: SessionConfig[]; stopped: number[] } {
  const made: SessionConfig[] = [];
  const stopped: number[] = [];
  const bgp = new SpeakerBgp({
    node: 'node-1',
    nodeLabels: () => ({}),
    onEvent: () => undefined,
    createSession: (settings): AnnouncerSession => {
      const index = made.push(settings) - 1;
      return { start: () => undefined, stop: () => Promise.resolve(void stopped.push(index)), setRoutes: () => undefined, state: 'Idle' };
    },
  });
  return { bgp, made, stopped };
}

describe('speaker BGP sessions', () => {
  const vips = (c: Config): Map<string, Pool> => new Map([['198.51.100.7', c.pools[0] as Pool]]);

  it('passes keepalive-time to the session and starts a new session when it changes', () => {
    const { bgp, made, stopped } = announcer();
    const first = config('hold-time: 90s, keepalive-time: 10s');
    bgp.setVips(vips(first), first);
    bgp.setVips(vips(first), first);
    expect(made.map((m) => m.keepaliveTime)).toEqual([10]);
    const second = config('hold-time: 90s, keepalive-time: 20s');
    bgp.setVips(vips(second), second);
    expect(made.map((m) => m.keepaliveTime)).toEqual([10, 20]);
    expect(stopped).toEqual([0]);
  });

  it("gives the session a BFD profile's transmit-interval and receive-interval as two values", () => {
    const { bgp, made } = announcer();
    const result = parseConfig(`
bfd-profiles:
- {name: split, transmit-interval: 150, receive-interval: 400, detect-multiplier: 4}
peers:
- {peer-address: 192.0.2.254, peer-asn: 64512, my-asn: 64513, bfd-profile: split}
address-pools:
- {name: edge, protocol: bgp, addresses: [198.51.100.0/24]}
`);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    bgp.setVips(vips(result.config), result.config);
    expect(made.map((m) => m.bfd)).toEqual([{ transmitIntervalMs: 150, receiveIntervalMs: 400, multiplier: 4 }]);
  });

  it('starts a new session when the BFD profile it uses changes', () => {
    const { bgp, made, stopped } = announcer();
    const first = config('bfd-profile: fast');
    bgp.setVips(vips(first), first);
    const changed = { ...first, bfdProfiles: first.bfdProfiles.map((p) => ({ ...p, detectMultiplier: 5 })) };
    bgp.setVips(vips(changed), changed);
    expect(made.map((m) => m.bfd?.multiplier)).toEqual([3, 5]);
    expect(stopped).toEqual([0]);
  });

  it('leaves the BGP identifier to the session (its local IPv4 address) unless router-id is set', () => {
    const { bgp, made } = announcer();
    const plain = config('hold-time: 90s');
    bgp.setVips(vips(plain), plain);
    expect(made[0]?.routerId).toBeUndefined();
    expect(made[0]?.fallbackRouterId).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const set = config('router-id: 192.0.2.9');
    bgp.setVips(vips(set), set);
    expect(made[1]?.routerId).toBe('192.0.2.9');
  });
});
