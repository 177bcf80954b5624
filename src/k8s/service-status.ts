// Writes what the controller decided onto a Service: `status.loadBalancer.ingress` (with
// ipMode VIP) through the status subresource, and an annotation naming the pool, both as
// JSON merge patches under the controller's fieldManager.
import type { KubeRest } from './rest.js';

/** The annotation on which the controller records the pool a Service's addresses come from. */
export const allocatedPoolAnnotation = 'vipcast.io/ip-allocated-from-pool';

/** One `status.loadBalancer.ingress` entry. */
export interface IngressEntry {
  readonly ip: string;
  readonly ipMode: 'VIP';
}

/** Builds the ingress list for a set of addresses. */
export function ingressFor(ips: readonly string[]): IngressEntry[] {
  return ips.map((ip) => ({ ip, ipMode: 'VIP' }));
}

/** Writes Service status and the pool annotation. */
export class ServiceStatusWriter {
  /** Creates a writer over `rest` (whose fieldManager marks every write). */
  constructor(private readonly rest: KubeRest, private readonly onWrite?: (what: 'status' | 'annotation') => void) {}

  /** Sets `status.loadBalancer.ingress` to these addresses, or removes it when `ips` is empty. */
  async setIngress(namespace: string, name: string, ips: readonly string[]): Promise<void> {
    const loadBalancer = ips.length === 0 ? { ingress: null } : { ingress: ingressFor(ips) };
    await this.rest.mergePatch(`${servicePath(namespace, name)}/status`, { status: { loadBalancer } });
    this.onWrite?.('status');
  }

  /** Sets the pool annotation, or removes it when `pool` is undefined. */
  async setPoolAnnotation(namespace: string, name: string, pool: string | undefined): Promise<void> {
    await this.rest.mergePatch(servicePath(namespace, name), { metadata: { annotations: { [allocatedPoolAnnotation]: pool ?? null } } });
    this.onWrite?.('annotation');
  }
}

function servicePath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;
}
