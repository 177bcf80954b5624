// Writes the annotation naming the pool a Service's addresses come from, as a JSON merge
// patch under the controller's fieldManager; status.loadBalancer and the Service's condition
// go together through service-status-patch.ts.
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

/** Writes the pool annotation. */
export class ServiceStatusWriter {
  /** Creates a writer over `rest` (whose fieldManager marks every write). */
  constructor(private readonly rest: KubeRest, private readonly onWrite?: (what: 'status' | 'annotation') => void) {}

  /** Sets the pool annotation, or removes it when `pool` is undefined. */
  async setPoolAnnotation(namespace: string, name: string, pool: string | undefined): Promise<void> {
    await this.rest.mergePatch(servicePath(namespace, name), { metadata: { annotations: { [allocatedPoolAnnotation]: pool ?? null } } });
    this.onWrite?.('annotation');
  }
}

function servicePath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`;
}
