// `--config-source`, `--config-map` and `--metallb-namespace`, shared by the controller, the
// speaker and `status`: where the address pools are read, and in which format. One source at
// a time; the Leases stay in `--namespace` whichever source is read.
import { kubeVipConfigMapRef } from '../config/kube-vip.js';
import { metalLbNamespace } from '../config/metallb-objects.js';
import { configMapRef } from '../config/source.js';
import { configSources } from '../config/config-map.js';
import { describeLocation, type ConfigLocation } from '../k8s/config-feed.js';

export type { ConfigLocation } from '../k8s/config-feed.js';

/** The parseArgs options; `--config-map` has no default here, as it depends on the source. */
export const configMapOptions = {
  'config-source': { type: 'string', default: 'vipcast' },
  'config-map': { type: 'string' },
  'metallb-namespace': { type: 'string' },
} as const;

/** The help lines of both flags, aligned like the programs' other options. */
export const configMapHelp = `  --config-source SOURCE       where the pools are: vipcast (a ConfigMap, key "config",
                               MetalLB's legacy format; the default), kube-vip (kube-vip-
                               cloud-provider's ConfigMap, docs/migrate-kube-vip.md) or
                               metallb (MetalLB's metallb.io objects, docs/migrate-metallb.md)
  --config-map [NS/]NAME       the address-pool ConfigMap (vipcast-config in --namespace for
                               vipcast, kube-system/kubevip for kube-vip); a NAME alone is
                               in that same namespace
  --metallb-namespace NS       where MetalLB's objects are, for metallb (metallb-system)`;

/** The flags as parseArgs returns them. */
export interface ConfigMapFlagValues {
  readonly 'config-source'?: string | undefined;
  readonly 'config-map'?: string | undefined;
  readonly 'metallb-namespace'?: string | undefined;
}

const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const objectName = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Resolves the two flags against `--namespace` (the Leases' namespace, and vipcast's
 * ConfigMap's unless `--config-map` names another); a message naming the flag when one is
 * wrong.
 */
export function readConfigMapFlags(values: ConfigMapFlagValues, namespace: string): { ok: true; location: ConfigLocation } | { ok: false; message: string } {
  const sourceText = values['config-source'] ?? 'vipcast';
  const source = configSources.find((s) => s === sourceText);
  if (source === undefined) return { ok: false, message: `--config-source "${sourceText}" is not one of ${configSources.join(', ')}` };
  const metallb = values['metallb-namespace'];
  if (source === 'metallb') {
    if (values['config-map'] !== undefined) return { ok: false, message: '--config-map names a ConfigMap; with --config-source metallb the pools are MetalLB\'s objects (see --metallb-namespace)' };
    const ns = metallb ?? metalLbNamespace;
    if (!namespaceName.test(ns)) return { ok: false, message: `--metallb-namespace "${ns}" is not a namespace name (lower-case letters, digits and "-", at most 63)` };
    return { ok: true, location: { source, namespace: ns } };
  }
  if (metallb !== undefined) return { ok: false, message: `--metallb-namespace is only for --config-source metallb (this is ${source})` };
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

/** Where the config is read, as messages say it. */
export function formatLocation(location: ConfigLocation): string {
  return describeLocation(location);
}

export { locationFields } from '../k8s/config-feed.js';
