// The parts of a core/v1 Service the controller reads, and small readers over them.
import type { ServiceLike } from '../allocator/request.js';
import type { ServiceCondition } from '../k8s/service-status-patch.js';

/** A Service as the informer delivers it (only the fields the controller reads are typed). */
export interface ServiceObject extends ServiceLike {
  metadata?: ServiceLike['metadata'] & { uid?: string; creationTimestamp?: string | Date; resourceVersion?: string; generation?: number };
  spec?: ServiceLike['spec'] & { type?: string; loadBalancerClass?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] }; conditions?: ServiceCondition[] };
}

/** `namespace/name` of a Service. */
export function serviceKey(service: ServiceObject): string {
  return `${service.metadata?.namespace ?? 'default'}/${service.metadata?.name ?? ''}`;
}

/**
 * Whether vipcast serves a Service: `type: LoadBalancer`, and either no
 * `spec.loadBalancerClass` or the class vipcast was configured with.
 */
export function isServed(service: ServiceObject, loadBalancerClass: string | undefined): boolean {
  if (service.spec?.type !== 'LoadBalancer') return false;
  const cls = service.spec.loadBalancerClass;
  return cls === undefined || cls === '' || (loadBalancerClass !== undefined && cls === loadBalancerClass);
}

/** The addresses in `status.loadBalancer.ingress`, in order. */
export function statusIps(service: ServiceObject): string[] {
  return (service.status?.loadBalancer?.ingress ?? []).map((entry) => entry.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '');
}

/** Whether every ingress entry of the status is an `ip` with `ipMode: VIP`, as vipcast writes them. */
export function statusHasVipMode(service: ServiceObject): boolean {
  return (service.status?.loadBalancer?.ingress ?? []).every((entry) => entry.ipMode === 'VIP');
}

/** Milliseconds since the epoch of the Service's creationTimestamp (0 when unknown). */
export function createdAt(service: ServiceObject): number {
  const stamp = service.metadata?.creationTimestamp;
  if (stamp === undefined) return 0;
  const ms = stamp instanceof Date ? stamp.getTime() : Date.parse(stamp);
  return Number.isNaN(ms) ? 0 : ms;
}
