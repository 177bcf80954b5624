// YAML anchors and aliases: whatever they do, `vipcast check-config` (the file reader) and
// the controller and speakers (the ConfigMap's text) give the same verdict, and that
// verdict is a config or errors with a YAML path and line, never an exception.
import { describe, expect, it } from 'vitest';
import { configFromConfigMap } from '../../../src/config/config-map.js';
import { parseConfig } from '../../../src/config/parse.js';
import { parseConfigFile } from '../../../src/config/source.js';
import type { ConfigIssue } from '../../../src/config/types.js';
import { maxAliasExpansion } from '../../../src/config/yaml-aliases.js';

/** A ConfigMap manifest carrying `config` as a literal block, as kubectl would apply it. */
function manifest(config: string): string {
  const body = config.split('\n').map((line) => (line === '' ? '' : `    ${line}`)).join('\n');
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: vipcast-system\n  name: vipcast-config\ndata:\n  config: |\n${body}`;
}

/** The verdict in all three places: bare file, manifest file, and the cluster's ConfigMap. */
function verdicts(config: string): { bare: ConfigIssue[]; file: ConfigIssue[]; cluster: ConfigIssue[] } {
  const errors = (result: { ok: boolean; errors?: readonly ConfigIssue[] }): ConfigIssue[] => (result.ok ? [] : [...(result.errors ?? [])]);
  return {
    bare: errors(parseConfigFile(config)),
    file: errors(parseConfigFile(manifest(config))),
    cluster: errors(configFromConfigMap({ data: { config } })),
  };
}

const where = (issues: readonly ConfigIssue[]): string[] => issues.map((i) => `${i.path}: ${i.message}`);
const pool = 'address-pools:\n- name: p\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n';

describe('aliases that name no anchor', () => {
  it('are an error at the alias, not an exception, in check-config and in the cluster alike', () => {
    const { bare, file, cluster } = verdicts('name: *a\n');
    expect(bare).toEqual([{ path: 'name', line: 1, message: 'alias "*a" names no earlier anchor: write "&a" on a value before it, or write the value out' }]);
    expect(where(file)).toEqual(where(bare));
    expect(file[0]?.line).toBe(8);
    expect(cluster).toEqual(bare);
  });

  it('are refused where the controller used to read them as absent', () => {
    const { bare, file, cluster } = verdicts(`${pool}  auto-assign: *nope\n`);
    expect(bare).toEqual([expect.objectContaining({ path: 'address-pools[0].auto-assign', line: 5 })]);
    expect(where(file)).toEqual(where(bare));
    expect(cluster).toEqual(bare);
  });

  it('make a config of a lone alias an error, not an empty config', () => {
    expect(parseConfig('*a\n')).toMatchObject({ ok: false, errors: [{ path: '', line: 1 }] });
    expect(parseConfigFile('*a\n').ok).toBe(false);
  });

  it('include an alias written before its anchor', () => {
    const errors = verdicts(`${pool}  auto-assign: *later\n  avoid-buggy-ips: &later true\n`).cluster;
    expect(errors).toEqual([expect.objectContaining({ path: 'address-pools[0].auto-assign', message: expect.stringContaining('names no earlier anchor') as unknown })]);
  });
});

describe('aliases that expand without end', () => {
  it('refuse an alias inside the value it names', () => {
    const { bare, cluster } = verdicts('address-pools: &p [*p]\n');
    expect(bare).toEqual([{ path: 'address-pools[0]', line: 1, message: 'alias "*p" is inside the value anchored "&p" that it names, which would make that value infinite' }]);
    expect(cluster).toEqual(bare);
  });

  it('refuse a billion laughs at the alias that crosses the limit', () => {
    let text = 'l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++) text += `l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]\n`;
    const { bare, file, cluster } = verdicts(text);
    expect(bare).toEqual([expect.objectContaining({ path: 'l3[7]', line: 4, message: expect.stringContaining(`repeat more than ${maxAliasExpansion} values`) as unknown })]);
    expect(where(file)).toEqual(where(bare));
    expect(cluster).toEqual(bare);
  });

  it('read a small repeated structure like any other text (here: three unknown keys)', () => {
    // The shape that made the file reader throw: 180 values in all, well under the limit.
    const text = `a: &a [1]\nb: &b [${Array(7).fill('*a').join(',')}]\nc: [${Array(12).fill('*b').join(',')}]\n`;
    const { bare, file, cluster } = verdicts(text);
    expect(where(bare)).toEqual(['a: unknown key "a" in the config', 'b: unknown key "b" in the config', 'c: unknown key "c" in the config']);
    expect(where(file)).toEqual(where(bare));
    expect(cluster).toEqual(bare);
  });

  it('refuse a bomb in the manifest around the config with a located error', () => {
    let text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vipcast-config\n  labels:\n    l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 6; i++) text += `    l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]\n`;
    const result = parseConfigFile(`${text}data:\n  config: ""\n`);
    expect(result).toMatchObject({ ok: false, errors: [{ path: 'metadata.labels.l3[7]', line: 9 }] });
  });
});

describe('aliases that name an earlier anchor', () => {
  it('stand for the value they name, as they did for MetalLB', () => {
    const text = [
      'address-pools:',
      '- name: a',
      '  protocol: layer2',
      '  addresses: [10.0.0.0/24]',
      '  node-selectors: &edge',
      '  - match-labels: {vipcast.io/edge: "true"}',
      '- name: b',
      '  protocol: layer2',
      '  addresses: [10.0.1.0/24]',
      '  auto-assign: &off false',
      '  node-selectors: *edge',
      '  avoid-buggy-ips: *off',
      '',
    ].join('\n');
    const result = configFromConfigMap({ data: { config: text } });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const [a, b] = result.config.pools;
    expect(b?.nodeSelectors).toEqual(a?.nodeSelectors);
    expect(b).toMatchObject({ autoAssign: false, avoidBuggyIps: false });
    expect(parseConfigFile(manifest(text))).toMatchObject({ ok: true, config: result.config });
  });

  it('may carry the whole config text in the manifest, as kubectl resolves them', () => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vipcast-config\n  namespace: vipcast-system\n  annotations: {copy: &cfg "${pool.replace(/\n/g, '\\n')}"}\ndata:\n  config: *cfg\n`;
    expect(parseConfigFile(text)).toMatchObject({ ok: true, config: { pools: [{ name: 'p' }] } });
  });

  it('refuse YAML merge keys with a sentence that says so', () => {
    const errors = verdicts(`defaults: &d {protocol: layer2}\naddress-pools:\n- <<: *d\n  name: p\n  addresses: [10.0.0.0/24]\n`).cluster;
    expect(errors).toContainEqual({ path: 'address-pools[0]["<<"]', line: 3, message: 'YAML merge keys ("<<") are not supported in an address pool; write the keys out' });
  });
});
