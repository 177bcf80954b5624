// Small parsers of the controller's command line and config source.
import { describe, expect, it } from 'vitest';
import { parseFlagDuration } from '../../../src/config/duration.js';
import { configFromConfigMap, rejectionNote } from '../../../src/config/config-map.js';
import { splitHostPort } from '../../../src/observability/http-server.js';

describe('controller options', () => {
  it('reads flag durations as the config does (Go durations), and plain seconds', () => {
    expect(parseFlagDuration('500ms')).toBe(500);
    expect(parseFlagDuration('15s')).toBe(15_000);
    expect(parseFlagDuration('1m')).toBe(60_000);
    expect(parseFlagDuration('1m30s')).toBe(90_000);
    expect(parseFlagDuration('1.5s')).toBe(1_500);
    expect(parseFlagDuration('2')).toBe(2_000);
    expect(parseFlagDuration('0.25')).toBe(250);
    expect(parseFlagDuration('0')).toBe(0);
    expect(() => parseFlagDuration('soon')).toThrow('"soon" is not a duration (e.g. 500ms, 15s, 1m30s)');
    expect(() => parseFlagDuration('15 s')).toThrow(/not a duration/);
    expect(() => parseFlagDuration('-1s')).toThrow(/not a duration/);
    expect(() => parseFlagDuration('')).toThrow(/not a duration/);
    expect(() => parseFlagDuration('100us')).toThrow('"100us" is shorter than a millisecond');
  });

  it('splits host:port, with IPv6 hosts in brackets', () => {
    expect(splitHostPort('0.0.0.0:7472')).toEqual({ host: '0.0.0.0', port: 7472 });
    expect(splitHostPort('[::]:7472')).toEqual({ host: '::', port: 7472 });
    expect(splitHostPort(':0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(() => splitHostPort('7472')).toThrow(/host:port/);
  });
});

describe('the ConfigMap as a config source', () => {
  it('accepts a valid config and rejects a missing map, a missing key and every error with its path', () => {
    const valid = configFromConfigMap({ data: { config: 'address-pools:\n- name: a\n  protocol: layer2\n  addresses: [192.0.2.0/30]\n' } });
    expect(valid.ok).toBe(true);
    expect(configFromConfigMap(undefined)).toMatchObject({ ok: false, errors: [{ message: 'the ConfigMap does not exist' }] });
    expect(configFromConfigMap({ data: {} })).toMatchObject({ ok: false, errors: [{ message: 'the ConfigMap has no "data.config" key' }] });
    const bad = configFromConfigMap({ data: { config: 'address-pools:\n- name: a\n  protocol: layer-2\n  addresses: [300.0.0.0/30]\n' } });
    if (bad.ok) throw new Error('accepted a bad config');
    const note = rejectionNote(bad.errors);
    expect(note).toMatch(/^config rejected \(2 errors\), the last valid config stays in force:\n/);
    expect(note).toContain('address-pools[0].protocol');
    expect(note).toContain('address-pools[0].addresses[0]');
  });
});

describe("kube-vip-cloud-provider's ConfigMap as the config source", () => {
  const kubevip = (data: Record<string, string>) => ({ metadata: { namespace: 'kube-system', name: 'kubevip' }, data });

  it('reads the data keys as pools, one per key', () => {
    const verdict = configFromConfigMap(kubevip({ 'cidr-global': '192.0.2.0/29', 'range-team-a': '198.51.100.1-198.51.100.3' }), 'kube-vip');
    if (!verdict.ok) throw new Error(verdict.errors.map((e) => e.message).join('\n'));
    expect(verdict.config.pools.map((p) => [p.name, p.autoAssign])).toEqual([['cidr-global', true], ['range-team-a', false]]);
  });

  it('reports a missing ConfigMap as for our own format, and a bad key by its path', () => {
    expect(configFromConfigMap(undefined, 'kube-vip')).toEqual({ ok: false, errors: [{ path: '', line: undefined, message: 'the ConfigMap does not exist' }], text: undefined });
    const bad = configFromConfigMap(kubevip({ 'cidr-global': '192.0.2.0/29', 'cidr_global': '10.0.0.0/30' }), 'kube-vip');
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors.map((e) => e.path)).toEqual(['data.cidr_global']);
      expect(bad.text).toBeDefined();
    }
  });

  it('gives the same text for the same keys in any order, and another text when a value changes', () => {
    const a = configFromConfigMap(kubevip({ 'cidr-global': '192.0.2.0/29', 'cidr-apps': '198.51.100.0/30' }), 'kube-vip');
    const b = configFromConfigMap(kubevip({ 'cidr-apps': '198.51.100.0/30', 'cidr-global': '192.0.2.0/29' }), 'kube-vip');
    const c = configFromConfigMap(kubevip({ 'cidr-apps': '198.51.100.0/30', 'cidr-global': '192.0.2.0/28' }), 'kube-vip');
    expect(a.text).toBe(b.text);
    expect(c.text).not.toBe(a.text);
  });

  it('reads only the chosen format: never a merge of the two', () => {
    const both = { data: { config: 'address-pools:\n- name: a\n  protocol: layer2\n  addresses: [192.0.2.0/30]\n', 'cidr-global': '198.51.100.0/30' } };
    // As kube-vip's, the "config" key is unknown; as vipcast's, the cidr- key is not read.
    const asKubeVip = configFromConfigMap(both, 'kube-vip');
    expect(asKubeVip.ok ? [] : asKubeVip.errors.map((e) => e.path)).toEqual(['data.config']);
    const asVipcast = configFromConfigMap(both, 'vipcast');
    expect(asVipcast.ok && asVipcast.config.pools.map((p) => p.name)).toEqual(['a']);
    expect(configFromConfigMap(kubevip({ 'cidr-global': '192.0.2.0/29' }))).toMatchObject({ ok: false, errors: [{ message: 'the ConfigMap has no "data.config" key' }] });
  });
});
