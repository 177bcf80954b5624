// One write to a Service's status subresource carrying both `status.loadBalancer` and
// `status.conditions`, as a JSON merge patch under the writer's fieldManager. A merge patch
// replaces a list whole, so a patch that sets conditions carries the resourceVersion the list
// was read at: the API server refuses it with 409 if another controller changed the Service
// meanwhile, and the write is redone over a fresh read, so their conditions are never lost.
import { statusOf, type KubeRest } from './rest.js';
import { ingressFor } from './service-status.js';

/** A `status.conditions[]` entry (metav1.Condition). */
export interface ServiceCondition {
  /** CamelCase, optionally prefixed by a DNS domain, e.g. `vipcast.io/AddressAssigned`. */
  readonly type: string;
  /** `True`, `False` or `Unknown`. */
  readonly status: 'True' | 'False' | 'Unknown';
  /** A CamelCase word saying why, for programs. */
  readonly reason: string;
  /** A sentence saying why, for people. */
  readonly message: string;
  /** RFC 3339 time (whole seconds) the status last changed. */
  readonly lastTransitionTime: string;
  /** The `metadata.generation` the condition was computed for. */
  readonly observedGeneration?: number;
}

/** The parts of a Service a status write reads. */
export interface StatusBase {
  readonly resourceVersion: string | undefined;
  readonly conditions: readonly ServiceCondition[] | undefined;
}

/** What one status write sets; a part left undefined is not touched. */
export interface StatusPatch {
  /** Addresses for `status.loadBalancer.ingress`; an empty list removes it. */
  readonly ips?: readonly string[] | undefined;
  /**
   * The whole conditions list to write, computed from the list the Service has now, or
   * undefined when it needs no change. Called again over a fresh read after a conflict.
   */
  readonly conditions?: ((current: readonly ServiceCondition[] | undefined) => readonly ServiceCondition[] | undefined) | undefined;
}

/** How often a conflicting conditions write is redone over a fresh read before giving up. */
const conflictAttempts = 3;

/**
 * Writes a status patch over what `base` says the Service holds; resolves true when a write
 * was made, false when nothing needed writing. Rejects with the API error otherwise.
 */
export async function patchServiceStatus(rest: KubeRest, namespace: string, name: string, base: StatusBase, patch: StatusPatch): Promise<boolean> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;
  let current = base;
  for (let attempt = 1; ; attempt++) {
    const conditions = patch.conditions?.(current.conditions);
    if (patch.ips === undefined && conditions === undefined) return false;
    const status: Record<string, unknown> = {};
    if (patch.ips !== undefined) status['loadBalancer'] = patch.ips.length === 0 ? { ingress: null } : { ingress: ingressFor(patch.ips) };
    if (conditions !== undefined) status['conditions'] = conditions.length === 0 ? null : conditions;
    const guarded = conditions !== undefined && current.resourceVersion !== undefined;
    const body = guarded ? { metadata: { resourceVersion: current.resourceVersion }, status } : { status };
    try {
      await rest.mergePatch(`${path}/status`, body);
      return true;
    } catch (error) {
      if (!guarded || statusOf(error) !== 409 || attempt >= conflictAttempts) throw error;
      const fresh = await rest.get<{ metadata?: { resourceVersion?: string }; status?: { conditions?: ServiceCondition[] } }>(path);
      current = { resourceVersion: fresh.metadata?.resourceVersion, conditions: fresh.status?.conditions };
    }
  }
}
