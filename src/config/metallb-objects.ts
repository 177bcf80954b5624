// MetalLB's objects as the config readers see them: the kinds and versions vipcast reads,
// one object's identity and node tree, and where a Secret-held password comes from.
import type { Field, Reader } from './yaml-reader.js';
import { joinKey } from './yaml-path.js';

/** MetalLB's API group. */
export const metalLbGroup = 'metallb.io';

/** The namespace MetalLB's objects live in unless its users chose another. */
export const metalLbNamespace = 'metallb-system';

/** The kinds vipcast reads, each with the versions MetalLB serves it in (storage version first). */
export const metalLbKinds = {
  IPAddressPool: ['v1beta1'],
  L2Advertisement: ['v1beta1'],
  BGPAdvertisement: ['v1beta1'],
  BGPPeer: ['v1beta2', 'v1beta1'],
  BFDProfile: ['v1beta1'],
  Community: ['v1beta1'],
} as const;

export type MetalLbKind = keyof typeof metalLbKinds;

/** Whether a kind is one of MetalLB's that vipcast reads. */
export function isMetalLbKind(kind: unknown): kind is MetalLbKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(metalLbKinds, kind);
}

/** One object as read: its identity and its root node (a mapping). */
export interface MetalLbObject {
  readonly kind: MetalLbKind;
  readonly apiVersion: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The object's root, with its path (`Kind/name`). */
  readonly root: Field;
}

/** The parts of a Secret that a BGPPeer's passwordSecret reads. */
export interface SecretView {
  readonly type?: string | undefined;
  /** Values in base64, as the API serves them. */
  readonly data?: Readonly<Record<string, string>> | undefined;
}

/** Options for reading MetalLB objects. */
export interface MetalLbReadOptions {
  /** The namespace the objects were read from; a passwordSecret must be there too. */
  readonly namespace: string;
  /** The Secrets of the objects' namespace, by name. */
  readonly secrets: ReadonlyMap<string, SecretView>;
  /**
   * Whether `secrets` holds every Secret there is (the programs, reading the cluster) or only
   * those that came along (a file checked offline): a missing Secret is an error in the
   * first case and a warning in the second.
   */
  readonly secretsComplete: boolean;
}

/** The keys of a Kubernetes object; `status` is the API's, never a setting. */
export const topKeys = ['apiVersion', 'kind', 'metadata', 'spec', 'status'] as const;

/** An object's `spec` mapping, restricted to `known` keys (its top-level keys were checked already). */
export function readSpec(r: Reader, object: MetalLbObject, known: readonly string[], what: string): { spec: Field; entries: Map<string, Field> } | undefined {
  const spec = r.anyMap(object.root, `a ${object.kind}`)?.get('spec')?.value ?? { path: joinKey(object.root.path, 'spec'), node: undefined };
  const entries = r.map(spec, known, what);
  return entries && { spec, entries };
}
