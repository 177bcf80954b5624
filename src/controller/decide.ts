// The controller's pure decisions: given the config's allocator, a Service from the cache
// and its namespace's labels, what its status, condition and pool annotation should be and
// which Events to emit. No Kubernetes client here; the reconciler performs what is decided.
import type { Allocator } from '../allocator/allocator.js';
import { serviceRequest } from '../allocator/request.js';
import { describeFailure } from '../allocator/types.js';
import type { EventIntent } from '../k8s/events.js';
import { allocatedPoolAnnotation } from '../k8s/service-status.js';
import { assignedIntent, configInvalidIntent, failedIntent, type ConditionChange } from './condition.js';
import { isServed, serviceKey, statusHasVipMode, statusIps, type ServiceObject } from './service-object.js';

/** What to write on a Service: leave it, set addresses and pool, or clear what vipcast wrote. */
export type DesiredState =
  | { readonly kind: 'leave' }
  | { readonly kind: 'set'; readonly ips: readonly string[]; readonly pool: string }
  | { readonly kind: 'clear' };

/** The outcome of one decision. */
export interface Decision {
  /** The state to write (the writer skips parts that already match). */
  readonly desired: DesiredState;
  /** What to do with the `vipcast.io/AddressAssigned` condition (undefined: leave the list alone). */
  readonly condition: ConditionChange;
  /** Events about the Service. */
  readonly events: readonly EventIntent[];
  /** What happened, for logs and for retrying failures later. */
  readonly outcome: 'ignored' | 'waiting-for-config' | 'unchanged' | 'allocated' | 'changed' | 'failed' | 'released';
  /** Whether an address was given back to a pool (others waiting for one may now fit). */
  readonly freed: boolean;
}

/** Inputs to {@link decideService}. */
export interface ServiceDecisionInput {
  /** The Service as cached. */
  readonly service: ServiceObject;
  /** Labels of the Service's namespace. */
  readonly namespaceLabels: Readonly<Record<string, string>>;
  /** `--load-balancer-class`, or undefined to serve only classless Services. */
  readonly loadBalancerClass: string | undefined;
  /** The allocator of the config in force; undefined while no valid config was ever seen. */
  readonly allocator: Allocator | undefined;
  /** Why the Service's previous addresses were dropped (a config change, a failed restore), if they were. */
  readonly droppedBecause?: string | undefined;
}

/** Decides what a Service in the cache should look like. Mutates only the allocator. */
export function decideService(input: ServiceDecisionInput): Decision {
  const { service, allocator } = input;
  const key = serviceKey(service);
  const current = statusIps(service);
  const annotated = service.metadata?.annotations?.[allocatedPoolAnnotation];
  if (!isServed(service, input.loadBalancerClass)) {
    const held = allocator?.assignmentOf(key);
    const freed = allocator?.release(key) ?? false;
    // Another implementation's LoadBalancer Service is never touched.
    const ours = held !== undefined || (service.spec?.type !== 'LoadBalancer' && annotated !== undefined);
    if (!ours) return { desired: { kind: 'leave' }, condition: undefined, events: [], outcome: 'ignored', freed };
    const events: EventIntent[] =
      held === undefined ? [] : [{ type: 'Normal', reason: 'IPReleased', action: 'Release', note: `Released ${held.ips.join(', ')} (pool "${held.pool}"): the Service is no longer served by vipcast` }];
    return { desired: { kind: 'clear' }, condition: 'remove', events, outcome: 'released', freed };
  }
  if (allocator === undefined) {
    // Addresses a Service already shows stay in force until a config says otherwise.
    const condition = current.length === 0 ? configInvalidIntent() : undefined;
    return { desired: { kind: 'leave' }, condition, events: [], outcome: 'waiting-for-config', freed: false };
  }

  const before = allocator.assignmentOf(key);
  const request = serviceRequest(service, input.namespaceLabels);
  const result = allocator.allocate(request);
  if (!result.ok) {
    const still = allocator.assignmentOf(key);
    const note = `Cannot allocate an address: ${describeFailure(result.failure)}${still ? `; keeping ${still.ips.join(', ')}` : ''}`;
    const events: EventIntent[] = [{ type: 'Warning', reason: 'AllocationFailed', action: 'Allocate', note }];
    const condition = failedIntent(result.failure, request.sharingKey !== undefined, still?.ips ?? []);
    const freed = before !== undefined && still === undefined;
    if (still) return { desired: { kind: 'set', ips: still.ips, pool: still.pool }, condition, events, outcome: 'failed', freed };
    const hasOurs = current.length > 0 || annotated !== undefined;
    return { desired: hasOurs ? { kind: 'clear' } : { kind: 'leave' }, condition, events, outcome: 'failed', freed };
  }
  const { ips, pool } = result.assignment;
  const desired: DesiredState = { kind: 'set', ips, pool };
  const condition = assignedIntent(ips, pool);
  const same = sameList(current, ips) && statusHasVipMode(service);
  if (same && annotated === pool) return { desired, condition, events: [], outcome: 'unchanged', freed: false };
  if (current.length === 0) {
    const note = `Assigned ${ips.join(', ')} from pool "${pool}"`;
    return { desired, condition, events: [{ type: 'Normal', reason: 'IPAllocated', action: 'Allocate', note }], outcome: 'allocated', freed: false };
  }
  if (sameList(current, ips)) return { desired, condition, events: [], outcome: 'unchanged', freed: false };
  const why = input.droppedBecause === undefined ? '' : `: ${input.droppedBecause}`;
  const note = `Changed from ${current.join(', ')} to ${ips.join(', ')} (pool "${pool}")${why}`;
  const freed = before !== undefined && before.ips.some((ip) => !ips.includes(ip));
  return { desired, condition, events: [{ type: 'Normal', reason: 'IPChanged', action: 'Allocate', note }], outcome: 'changed', freed };
}

/** Decides what to do when a Service is gone from the cache: release its addresses. */
export function decideDeleted(key: string, allocator: Allocator | undefined): Decision {
  const held = allocator?.assignmentOf(key);
  if (allocator === undefined || held === undefined) return { desired: { kind: 'leave' }, condition: undefined, events: [], outcome: 'ignored', freed: false };
  allocator.release(key);
  const note = `Released ${held.ips.join(', ')} (pool "${held.pool}"): the Service was deleted`;
  return { desired: { kind: 'leave' }, condition: undefined, events: [{ type: 'Normal', reason: 'IPReleased', action: 'Release', note }], outcome: 'released', freed: true };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
