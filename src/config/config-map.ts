// Turning the address-pool ConfigMap from the cache into a verdict: a Config to use, or
// every error (with YAML path and line) to report while the last good config stays. The
// ConfigMap is either vipcast's own (key `config`, MetalLB's format) or kube-vip-cloud-
// provider's (`kube-system/kubevip`, one data key per range); a program reads one of them.
import { canonical } from './duplicates.js';
import { parseKubeVipConfigMap } from './kube-vip.js';
import { parseConfig } from './parse.js';
import { configMapRef } from './source.js';
import { formatIssue, type Config, type ConfigIssue, type ParseResult } from './types.js';

/** The parts of a ConfigMap the controller reads. */
export interface ConfigMapObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

/**
 * Where the config comes from: vipcast's own ConfigMap, kube-vip-cloud-provider's, or
 * MetalLB's objects (metallb.io custom resources, read by src/k8s/config-feed.ts).
 */
export type ConfigSource = 'vipcast' | 'kube-vip' | 'metallb';

/** The config sources, as `--config-source` spells them. */
export const configSources: readonly ConfigSource[] = ['vipcast', 'kube-vip', 'metallb'];

/** The sources held in one ConfigMap. */
export type ConfigMapSource = Exclude<ConfigSource, 'metallb'>;

/**
 * The verdict on one ConfigMap version. `text` identifies what was read: equal texts mean
 * an equal config, so a reader can skip re-applying (and re-reporting) an unchanged one.
 */
export type ConfigVerdict =
  | { readonly ok: true; readonly config: Config; readonly text: string; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[]; readonly text: string | undefined };

/** Parses the config held in a ConfigMap of this source (or reports that it is missing). */
export function configFromConfigMap(configMap: ConfigMapObject | undefined, source: ConfigMapSource = 'vipcast'): ConfigVerdict {
  if (configMap === undefined) return { ok: false, errors: [{ path: '', line: undefined, message: 'the ConfigMap does not exist' }], text: undefined };
  if (source === 'kube-vip') {
    const data = configMap.data ?? {};
    // Data keys in any order are the same config.
    return verdict(parseKubeVipConfigMap(data), canonical(data));
  }
  const text = configMap.data?.[configMapRef.key];
  if (text === undefined) return { ok: false, errors: [{ path: '', line: undefined, message: `the ConfigMap has no "data.${configMapRef.key}" key` }], text: undefined };
  return verdict(parseConfig(text), text);
}

function verdict(result: ParseResult, text: string): ConfigVerdict {
  return result.ok ? { ok: true, config: result.config, text, warnings: result.warnings } : { ok: false, errors: result.errors, text };
}

/** The note of the Warning Event for a rejected config: every error, one per line. */
export function rejectionNote(errors: readonly ConfigIssue[]): string {
  const head = `config rejected (${errors.length} error${errors.length === 1 ? '' : 's'}), the last valid config stays in force:`;
  return [head, ...errors.map(formatIssue)].join('\n');
}
