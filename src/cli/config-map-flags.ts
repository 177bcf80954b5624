// `--config-source` and `--config-map`, shared by the controller, the speaker and `status`:
// which ConfigMap holds the address pools and in which format. One source at a time; the
// Leases stay in `--namespace` whichever ConfigMap is read.
import { kubeVipConfigMapRef } from '../config/kube-vip.js';
import { configMapRef } from '../config/source.js';
import { configSources, type ConfigSource } from '../config/config-map.js';

/** The parseArgs options; `--config-map` has no default here, as it depends on the source. */
export const configMapOptions = {
  'config-source': { type: 'string', default: 'vipcast' },
  'config-map': { type: 'string' },
} as const;

/** The help lines of both flags, aligned like the programs' other options. */
export const configMapHelp = `  --config-source SOURCE       the ConfigMap's format: vipcast (key "config", MetalLB's
                               format; the default) or kube-vip (kube-vip-cloud-provider's
                               cidr-/range- keys, see docs/migrate-kube-vip.md)
  --config-map [NS/]NAME       the address-pool ConfigMap (vipcast-config in --namespace for
                               vipcast, kube-system/kubevip for kube-vip); a NAME alone is
                               in that same namespace`;

/** Where a program reads its config. */
export interface ConfigMapLocation {
  readonly source: ConfigSource;
  readonly namespace: string;
  readonly name: string;
}

/** The flags as parseArgs returns them. */
export interface ConfigMapFlagValues {
  readonly 'config-source'?: string | undefined;
  readonly 'config-map'?: string | undefined;
}

const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const objectName = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Resolves the two flags against `--namespace` (the Leases' namespace, and vipcast's
 * ConfigMap's unless `--config-map` names another); a message naming the flag when one is
 * wrong.
 */
export function readConfigMapFlags(values: ConfigMapFlagValues, namespace: string): { ok: true; location: ConfigMapLocation } | { ok: false; message: string } {
  const sourceText = values['config-source'] ?? 'vipcast';
  const source = configSources.find((s) => s === sourceText);
  if (source === undefined) return { ok: false, message: `--config-source "${sourceText}" is not one of ${configSources.join(', ')}` };
  const fallback = source === 'kube-vip' ? kubeVipConfigMapRef : { namespace, name: configMapRef.name };
  const written = values['config-map'];
  if (written === undefined) return { ok: true, location: { source, ...fallback } };
  const parts = written.split('/');
  const [first, second] = parts;
  const [ns, name] = parts.length === 1 ? [fallback.namespace, first] : [first, second];
  if (parts.length > 2 || ns === undefined || name === undefined) return { ok: false, message: `--config-map "${written}" is not NAME or NAMESPACE/NAME` };
  if (!namespaceName.test(ns)) return { ok: false, message: `--config-map "${written}": "${ns}" is not a namespace name (lower-case letters, digits and "-", at most 63)` };
  if (!objectName.test(name)) return { ok: false, message: `--config-map "${written}": "${name}" is not a ConfigMap name (lower-case letters, digits, "-" and ".", at most 253)` };
  return { ok: true, location: { source, namespace: ns, name } };
}

/** `namespace/name`, as logs and messages write a ConfigMap. */
export function formatLocation(location: ConfigMapLocation): string {
  return `${location.namespace}/${location.name}`;
}
