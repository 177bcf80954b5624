// A structure-aware fuzz of the config parser, sized for CI: configs from examples/ are
// edited as a tree (other kinds of value, dropped and repeated keys, aliases and anchors,
// alias bombs, deep nesting, tags) and as text (cut short, stray syntax). Whatever comes
// out, the parser returns a config or located errors, and `vipcast check-config` agrees
// with what the controller and speakers would make of the same ConfigMap.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configFromConfigMap } from '../../../src/config/config-map.js';
import { parseConfig } from '../../../src/config/parse.js';
import { parseConfigFile } from '../../../src/config/source.js';
import type { ConfigIssue, ParseResult } from '../../../src/config/types.js';
import { mutate, mutations, textEdits } from './yaml-mutations.js';

const dir = new URL('../../../examples/', import.meta.url);
const seeds = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(new URL(f, dir), 'utf8')).map((doc) => doc.toJS() as unknown))
  .flatMap((doc) => {
    const config = (doc as { kind?: unknown; data?: { config?: unknown } } | null)?.data?.config;
    return (doc as { kind?: unknown } | null)?.kind === 'ConfigMap' && typeof config === 'string' ? [config] : [];
  });

const texts = fc
  .tuple(fc.constantFrom(...seeds), fc.array(mutations, { minLength: 1, maxLength: 5 }), textEdits)
  .map(([seed, edits, text]) => mutate(seed, edits, text));

/** A result is a config, or at least one error, each with a path, a message and a line or none. */
function expectWellFormed(result: ParseResult): void {
  const issues = result.ok ? result.warnings : [...result.errors, ...result.warnings];
  if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
  for (const issue of issues) {
    expect(typeof issue.path).toBe('string');
    expect(issue.message.length).toBeGreaterThan(0);
    if (issue.line !== undefined) expect(Number.isInteger(issue.line) && issue.line >= 1).toBe(true);
  }
}

/** A few seconds' work; the limit only keeps a slow CI machine from failing it. */
const generous = 60_000;

const located = (issues: readonly ConfigIssue[]): string[] => issues.map((i) => `${i.path}: ${i.message}`).sort();

describe('config parser fuzz', () => {
  it('has seeds from every shipped ConfigMap example', () => {
    expect(seeds.length).toBeGreaterThanOrEqual(3);
  });

  it('never throws: every edited config gives a config or located errors', () => {
    fc.assert(
      fc.property(texts, (text) => {
        expectWellFormed(parseConfig(text));
        expectWellFormed(parseConfigFile(text));
      }),
      { numRuns: 400 },
    );
  }, generous);

  it('gives check-config the verdict the controller and speakers give the ConfigMap', () => {
    fc.assert(
      fc.property(texts, (text) => {
        const cluster = configFromConfigMap({ metadata: { name: 'vipcast-config', namespace: 'vipcast-system' }, data: { config: text } });
        const manifest = stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vipcast-config', namespace: 'vipcast-system' }, data: { config: text } });
        const fromManifest = parseConfigFile(manifest);
        const bare = parseConfigFile(text);
        expect(fromManifest.ok).toBe(cluster.ok);
        if (fromManifest.ok && cluster.ok) {
          expect(fromManifest.config).toEqual(cluster.config);
          expect(located(fromManifest.warnings)).toEqual(located(cluster.warnings));
        } else if (!fromManifest.ok && !cluster.ok) {
          expect(located(fromManifest.errors)).toEqual(located(cluster.errors));
        }
        // A bare file is read as the same config text, unless it happens to be a manifest.
        if (bare.resource === 'config' || !bare.ok) expect(bare.ok).toBe(cluster.ok);
        if (bare.ok && cluster.ok) expect(bare.config).toEqual(cluster.config);
      }),
      { numRuns: 300 },
    );
  }, generous);
});
