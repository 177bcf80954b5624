// Turning the address-pool ConfigMap from the cache into a verdict: a Config to use, or
// every error (with YAML path and line) to report while the last good config stays.
import { parseConfig } from '../config/parse.js';
import { configMapRef } from '../config/source.js';
import { formatIssue, type Config, type ConfigIssue } from '../config/types.js';

/** The parts of a ConfigMap the controller reads. */
export interface ConfigMapObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

/** The verdict on one ConfigMap version. */
export type ConfigVerdict =
  | { readonly ok: true; readonly config: Config; readonly text: string; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[]; readonly text: string | undefined };

/** Parses the config held in a ConfigMap (or reports that it is missing). */
export function configFromConfigMap(configMap: ConfigMapObject | undefined): ConfigVerdict {
  const text = configMap?.data?.[configMapRef.key];
  if (configMap === undefined) return { ok: false, errors: [{ path: '', line: undefined, message: 'the ConfigMap does not exist' }], text: undefined };
  if (text === undefined) return { ok: false, errors: [{ path: '', line: undefined, message: `the ConfigMap has no "data.${configMapRef.key}" key` }], text: undefined };
  const result = parseConfig(text);
  return result.ok ? { ok: true, config: result.config, text, warnings: result.warnings } : { ok: false, errors: result.errors, text };
}

/** The note of the Warning Event for a rejected config: every error, one per line. */
export function rejectionNote(errors: readonly ConfigIssue[]): string {
  const head = `config rejected (${errors.length} error${errors.length === 1 ? '' : 's'}), the last valid config stays in force:`;
  return [head, ...errors.map(formatIssue)].join('\n');
}
