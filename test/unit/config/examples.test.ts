import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../../src/config/source.js';
import { formatIssue } from '../../../src/config/types.js';

const dir = new URL('../../../examples/', import.meta.url);
const configs = readdirSync(dir).filter((f) => f.endsWith('.yaml') && readFileSync(new URL(f, dir), 'utf8').includes('kind: ConfigMap'));

describe('the shipped examples', () => {
  it('include the documented configs', () => {
    expect(configs).toEqual(expect.arrayContaining(['layer2-pool.yaml', 'bgp-peering.yaml', 'namespace-pool.yaml']));
  });

  it.each(configs)('%s is valid, without warnings, for vipcast-system/vipcast-config', (file) => {
    const result = parseConfigFile(readFileSync(new URL(file, dir), 'utf8'));
    expect(result.ok ? [] : result.errors.map(formatIssue)).toEqual([]);
    expect(result.warnings.map(formatIssue)).toEqual([]);
    expect(result.resource).toBe('ConfigMap vipcast-system/vipcast-config');
  });
});
