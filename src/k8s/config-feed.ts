// Where a program's address-pool config comes from in the cluster, kept current by
// informers: one ConfigMap (vipcast's own format or kube-vip-cloud-provider's), or MetalLB's
// objects in one namespace with the kubernetes.io/basic-auth Secrets their BGPPeers may
// name. One source at a time, chosen by flag; never a merge. The controller, the speakers
// and `vipcast status` all read through this, so they judge the same objects alike.
import { configFromConfigMap, type ConfigMapObject, type ConfigMapSource, type ConfigVerdict } from '../config/config-map.js';
import { metalLbGroup, metalLbKinds, type MetalLbKind, type SecretView } from '../config/metallb-objects.js';
import { metalLbConfigText, parseMetalLbResources, type PlainObject } from '../config/metallb-source.js';
import type { EventSubject } from './events.js';
import { Informer, type InformerHandler, type KubeObject } from './informer.js';
import { statusOf, type KubeRest, type KubeWatcher } from './rest.js';

/** Where a program reads its config: a ConfigMap, or MetalLB's objects in a namespace. */
export type ConfigLocation =
  | { readonly source: ConfigMapSource; readonly namespace: string; readonly name: string }
  | { readonly source: 'metallb'; readonly namespace: string };

/** `ConfigMap ns/name` or `MetalLB objects in ns`, as logs and messages say it. */
export function describeLocation(location: ConfigLocation): string {
  return location.source === 'metallb' ? `MetalLB objects in ${location.namespace}` : `ConfigMap ${location.namespace}/${location.name}`;
}

/** The log fields naming where the config is read: `configMap: ns/name`, or `metallbNamespace: ns`. */
export function locationFields(location: ConfigLocation): { configMap: string } | { metallbNamespace: string } {
  return location.source === 'metallb' ? { metallbNamespace: location.namespace } : { configMap: `${location.namespace}/${location.name}` };
}

/** The collection paths of MetalLB's kinds, in the version each is read in (the storage version). */
export const metalLbPlurals: Readonly<Record<MetalLbKind, string>> = {
  IPAddressPool: 'ipaddresspools',
  L2Advertisement: 'l2advertisements',
  BGPAdvertisement: 'bgpadvertisements',
  BGPPeer: 'bgppeers',
  BFDProfile: 'bfdprofiles',
  Community: 'communities',
};

/** The type of Secret a BGPPeer's passwordSecret must name; only those are cached. */
export const passwordSecretType = 'kubernetes.io/basic-auth';

/** A config source kept current by informers. */
export interface ConfigFeed {
  /** The informers to start, wait for, report the health of and stop. */
  readonly informers: readonly Informer<KubeObject>[];
  /** Changes whenever what the caches hold changes (cheap: resourceVersions). */
  version(): string;
  /** The verdict on what the caches hold now. */
  verdict(): ConfigVerdict;
  /** The object a rejection Event goes on: the ConfigMap, or the first MetalLB object named in an error. */
  rejectionSubject(verdict: ConfigVerdict): EventSubject | undefined;
}

type Rest = KubeRest & KubeWatcher;
type OnError = (informer: string) => (error: unknown, retryInMs: number) => void;

/** Creates the informers of a config source (stopped); `changed` runs on every change. */
export function createConfigFeed(rest: Rest, location: ConfigLocation, changed: () => void, onError: OnError): ConfigFeed {
  const handler: InformerHandler<KubeObject> = { add: changed, update: changed, delete: changed };
  const ns = encodeURIComponent(location.namespace);
  if (location.source !== 'metallb') {
    const name = location.name;
    const informer = new Informer<KubeObject>(rest, { name: 'configmap', path: `/api/v1/namespaces/${ns}/configmaps`, fieldSelector: `metadata.name=${name}`, onError: onError('configmap') }, handler);
    const object = (): ConfigMapObject | undefined => informer.get(name, location.namespace);
    return {
      informers: [informer],
      version: () => object()?.metadata?.resourceVersion ?? '',
      verdict: () => configFromConfigMap(object(), location.source),
      rejectionSubject: () => {
        const found = object();
        return found?.metadata?.name === undefined ? undefined : { apiVersion: 'v1', kind: 'ConfigMap', namespace: location.namespace, name, uid: found.metadata.uid };
      },
    };
  }
  const kinds = Object.keys(metalLbKinds) as MetalLbKind[];
  // A 404 on these lists means the CRD is not installed: say what to do, not only that it failed.
  const crdError = (plural: string) => {
    const report = onError(plural);
    return (error: unknown, retryInMs: number): void => {
      const missing = statusOf(error) === 404 ? `${plural}.${metalLbGroup} is not served: install MetalLB's CRDs or vipcast's (manifests/metallb-crds.yaml)` : undefined;
      report(missing === undefined ? error : new Error(`${missing} (${String(error)})`), retryInMs);
    };
  };
  const byKind = new Map(
    kinds.map((kind) => {
      const version = metalLbKinds[kind][0];
      const apiVersion = `${metalLbGroup}/${version}`;
      const informer = new Informer<KubeObject>(
        rest,
        {
          name: metalLbPlurals[kind],
          path: `/apis/${apiVersion}/namespaces/${ns}/${metalLbPlurals[kind]}`,
          onError: crdError(metalLbPlurals[kind]),
          // Items of a list carry no kind; the parser reads objects whole.
          keep: (object) => ({ ...object, apiVersion, kind }),
        },
        handler,
      );
      return [kind, informer] as const;
    }),
  );
  const secrets = new Informer<KubeObject>(
    rest,
    {
      name: 'secrets',
      path: `/api/v1/namespaces/${ns}/secrets`,
      fieldSelector: `type=${passwordSecretType}`,
      onError: onError('secrets'),
      // Only what a passwordSecret reads is cached, never the Secret's other keys.
      keep: (object) => {
        const { metadata, type, data } = object as KubeObject & { type?: string; data?: Record<string, string> };
        const password = data?.['password'];
        return { metadata: { name: metadata?.name, namespace: metadata?.namespace, resourceVersion: metadata?.resourceVersion }, type, data: password === undefined ? {} : { password } } as KubeObject;
      },
    },
    handler,
  );
  const informers = [...byKind.values(), secrets];
  const objects = (): PlainObject[] => [...byKind.values()].flatMap((informer) => informer.list() as PlainObject[]);
  const secretViews = (): Map<string, SecretView> =>
    new Map(secrets.list().map((s) => [s.metadata?.name ?? '', s as SecretView] as const));
  return {
    informers,
    version: () =>
      informers
        .flatMap((informer) => informer.list().map((o) => `${informer.health().name}/${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`))
        .sort()
        .join(','),
    verdict: () => {
      const all = objects();
      const views = secretViews();
      const result = parseMetalLbResources(all, views, location.namespace);
      const text = metalLbConfigText(all, views);
      return result.ok ? { ok: true, config: result.config, text, warnings: result.warnings } : { ok: false, errors: result.errors, text };
    },
    rejectionSubject: (verdict) => {
      if (verdict.ok) return undefined;
      for (const issue of verdict.errors) {
        for (const [kind, informer] of byKind) {
          const object = informer.list().find((o) => {
            const id = `${kind}/${o.metadata?.name ?? ''}`;
            return issue.path === id || issue.path.startsWith(`${id}.`) || issue.path.startsWith(`${id}[`);
          });
          const name = object?.metadata?.name;
          if (name === undefined) continue;
          const uid = object?.metadata?.['uid'];
          return { apiVersion: `${metalLbGroup}/${metalLbKinds[kind][0]}`, kind, namespace: location.namespace, name, uid: typeof uid === 'string' ? uid : undefined };
        }
      }
      return undefined;
    },
  };
}

/**
 * Reads the config once, without a cache (`vipcast status`): the same objects the informers
 * would hold, judged by the same functions. A list that fails (a CRD not installed, access
 * denied) is an error naming it.
 */
export async function readConfigOnce(rest: KubeRest, location: ConfigLocation): Promise<ConfigVerdict> {
  const ns = encodeURIComponent(location.namespace);
  if (location.source !== 'metallb') {
    const path = `/api/v1/namespaces/${ns}/configmaps/${encodeURIComponent(location.name)}`;
    const configMap = await rest.get<ConfigMapObject>(path).catch(() => undefined);
    return configFromConfigMap(configMap, location.source);
  }
  try {
    const kinds = Object.keys(metalLbKinds) as MetalLbKind[];
    const lists = await Promise.all(
      kinds.map(async (kind) => {
        const apiVersion = `${metalLbGroup}/${metalLbKinds[kind][0]}`;
        const list = await rest.get<{ items?: PlainObject[] }>(`/apis/${apiVersion}/namespaces/${ns}/${metalLbPlurals[kind]}`);
        return (list.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
      }),
    );
    const secretList = await rest.get<{ items?: (SecretView & KubeObject)[] }>(`/api/v1/namespaces/${ns}/secrets?fieldSelector=${encodeURIComponent(`type=${passwordSecretType}`)}`);
    const secrets = new Map((secretList.items ?? []).map((s) => [s.metadata?.name ?? '', s] as const));
    const objects = lists.flat();
    const result = parseMetalLbResources(objects, secrets, location.namespace);
    const text = metalLbConfigText(objects, secrets);
    return result.ok ? { ok: true, config: result.config, text, warnings: result.warnings } : { ok: false, errors: result.errors, text };
  } catch (error) {
    return { ok: false, errors: [{ path: '', line: undefined, message: `cannot read ${describeLocation(location)}: ${(error as Error).message}` }], text: undefined };
  }
}
