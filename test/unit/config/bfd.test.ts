// BFD profiles: vipcast runs single-hop BFD (RFC 5881) in active mode without echo, so a
// profile is three timers; MetalLB's other keys pass only at values that change nothing.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';

// A pool keeps the "no address pools" warning out of the way.
const pool = 'address-pools:\n- {name: p, protocol: layer2, addresses: [10.0.0.0/24]}\n';
const profile = (lines: string): ReturnType<typeof parseConfig> => parseConfig(`bfd-profiles:\n- name: fast\n${lines}${pool}`);

describe('BFD profile timers', () => {
  it('keeps transmit-interval and receive-interval as two values', () => {
    const result = profile('  transmit-interval: 150\n  receive-interval: 400\n  detect-multiplier: 5\n');
    expect(result).toMatchObject({ ok: true, config: { bfdProfiles: [{ name: 'fast', transmitInterval: 150, receiveInterval: 400, detectMultiplier: 5 }] } });
  });

  it("defaults to MetalLB's 300 ms, 300 ms and 3", () => {
    expect(profile('')).toMatchObject({ ok: true, config: { bfdProfiles: [{ transmitInterval: 300, receiveInterval: 300, detectMultiplier: 3 }] } });
  });
});

describe('BFD features vipcast does not implement', () => {
  it.each<[string, string, string]>([
    ['echo mode', '  echo-mode: true\n', 'echo-mode: true asks for BFD echo packets (RFC 5880 section 6.4), which vipcast does not implement'],
    ['passive mode', '  passive-mode: yes\n', 'passive-mode: true asks the speakers to wait for the router to send first (RFC 5880 section 6.1), which vipcast does not implement'],
    ['a multi-hop minimum TTL', '  minimum-ttl: 10\n', 'minimum-ttl 10 is for multi-hop BFD; vipcast implements single-hop BFD only'],
  ])('refuses %s, naming the key', (_name, lines, message) => {
    const result = profile(lines);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const key = lines.trim().split(':')[0] ?? '';
    expect(result.errors).toEqual([expect.objectContaining({ path: `bfd-profiles[0].${key}`, line: 3, message: expect.stringContaining(message) as unknown })]);
  });

  it('accepts the values that mean what vipcast does, without a word', () => {
    const result = profile('  echo-mode: false\n  passive-mode: false\n  minimum-ttl: 254\n- name: strict\n  minimum-ttl: 255\n');
    expect(result).toMatchObject({ ok: true, warnings: [] });
  });

  it('accepts an echo-interval, which cannot matter with echo off, with a warning', () => {
    const result = profile('  echo-interval: 62\n  echo-mode: false\n');
    expect(result).toMatchObject({
      ok: true,
      warnings: [{ path: 'bfd-profiles[0].echo-interval', line: 3, message: 'echo-interval has no effect: vipcast does not implement BFD echo mode' }],
    });
    expect(profile('  echo-interval: 5\n').ok).toBe(false);
  });

  it("accepts MetalLB's documented example profile as written, though it sets an echo-interval, and refuses it once echo-mode is true", () => {
    // MetalLB's ConfigMap documentation (FRR mode): the reason echo-interval is not refused.
    const metallb = '  receive-interval: 179\n  transmit-interval: 180\n  echo-interval: 62\n  echo-mode: false\n  passive-mode: false\n  minimum-ttl: 254\n';
    const result = profile(metallb);
    expect(result).toMatchObject({ ok: true, config: { bfdProfiles: [{ transmitInterval: 180, receiveInterval: 179 }] } });
    expect(result.warnings.map((w) => w.path)).toEqual(['bfd-profiles[0].echo-interval']);
    const echoOn = profile(metallb.replace('echo-mode: false', 'echo-mode: true'));
    expect(echoOn.ok).toBe(false);
    if (echoOn.ok) return;
    expect(echoOn.errors.map((e) => e.path)).toEqual(['bfd-profiles[0].echo-mode']);
  });
});
