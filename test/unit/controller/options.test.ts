// Small parsers of the controller's command line and config source.
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../../src/cli/controller.js';
import { configFromConfigMap, rejectionNote } from '../../../src/controller/config-source.js';
import { splitHostPort } from '../../../src/controller/http-server.js';

describe('controller options', () => {
  it('reads durations in ms, s and m, and plain seconds', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('15s')).toBe(15_000);
    expect(parseDurationMs('1m')).toBe(60_000);
    expect(parseDurationMs('2')).toBe(2_000);
    expect(() => parseDurationMs('soon')).toThrow(/not a duration/);
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
