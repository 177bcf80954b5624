// The condition the controller keeps on each Service it serves, beside status.loadBalancer:
// whether the Service got the addresses it asks for and, if not, why. Pure: the time is
// passed in, and conditions other controllers own are carried over untouched.
import type { AllocationFailure } from '../allocator/types.js';
import { describeFailure } from '../allocator/types.js';
import type { ServiceCondition } from '../k8s/service-status-patch.js';

/** The condition type vipcast owns in `status.conditions`. */
export const addressAssignedCondition = 'vipcast.io/AddressAssigned';

/** Every reason the condition can give, one per allocator outcome. */
export type AddressReason =
  | 'Assigned'
  | 'ConfigInvalid'
  | 'InvalidRequest'
  | 'UnknownPool'
  | 'PoolNotAllowed'
  | 'RequestedIPNotInPool'
  | 'RequestedIPInUse'
  | 'SharingConflict'
  | 'NoMatchingPool'
  | 'PoolExhausted';

/** The status, reason and message the condition should show. */
export interface ConditionIntent {
  readonly status: 'True' | 'False';
  readonly reason: AddressReason;
  readonly message: string;
}

/** What the controller does to its condition: set it, remove it, or leave the list alone (undefined). */
export type ConditionChange = ConditionIntent | 'remove' | undefined;

/** The condition of a Service that holds these addresses. */
export function assignedIntent(ips: readonly string[], pool: string): ConditionIntent {
  return { status: 'True', reason: 'Assigned', message: `${ips.join(', ')} from pool "${pool}"` };
}

/** The condition of a Service that has no address because no valid config was ever loaded. */
export function configInvalidIntent(): ConditionIntent {
  return { status: 'False', reason: 'ConfigInvalid', message: 'no valid address-pool config has been loaded yet; see the ConfigRejected Events on the ConfigMap' };
}

/**
 * The condition of a Service the allocator refused. `sharing` says whether the Service has
 * an allow-shared-ip key (a taken address is then a sharing conflict); `keeping` lists the
 * addresses it still holds from before, if any.
 */
export function failedIntent(failure: AllocationFailure, sharing: boolean, keeping: readonly string[]): ConditionIntent {
  const kept = keeping.length === 0 ? '' : `; keeping ${keeping.join(', ')}`;
  return { status: 'False', reason: failureReason(failure, sharing), message: `${describeFailure(failure)}${kept}` };
}

/** The condition reason for an allocator failure. */
export function failureReason(failure: AllocationFailure, sharing: boolean): AddressReason {
  switch (failure.reason) {
    case 'invalid-request':
      return 'InvalidRequest';
    case 'unknown-pool':
      return 'UnknownPool';
    case 'pool-not-allowed':
      return 'PoolNotAllowed';
    case 'ip-not-in-pool':
      return 'RequestedIPNotInPool';
    case 'ip-in-use':
      return sharing ? 'SharingConflict' : 'RequestedIPInUse';
    case 'no-pool':
      return 'NoMatchingPool';
    case 'pool-exhausted':
      return 'PoolExhausted';
  }
}

/** Formats a time as Kubernetes writes metav1.Time: RFC 3339 in whole seconds. */
export function conditionTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * The conditions list after applying `change` to `current`, or undefined when it already
 * says so. Other types are kept as they are, in place; lastTransitionTime moves only when
 * the status changes.
 */
export function applyConditionChange(
  current: readonly ServiceCondition[] | undefined,
  change: ConditionChange,
  generation: number | undefined,
  now: Date,
): ServiceCondition[] | undefined {
  if (change === undefined) return undefined;
  const list = current ?? [];
  const index = list.findIndex((c) => c.type === addressAssignedCondition);
  const existing = index < 0 ? undefined : list[index];
  if (change === 'remove') return existing === undefined ? undefined : list.filter((_, i) => i !== index);
  const observed = generation ?? existing?.observedGeneration;
  const upToDate =
    existing !== undefined && existing.status === change.status && existing.reason === change.reason && existing.message === change.message && existing.observedGeneration === observed;
  if (upToDate) return undefined;
  const next: ServiceCondition = {
    type: addressAssignedCondition,
    status: change.status,
    reason: change.reason,
    message: change.message,
    lastTransitionTime: existing !== undefined && existing.status === change.status ? existing.lastTransitionTime : conditionTime(now),
    ...(observed === undefined ? {} : { observedGeneration: observed }),
  };
  return index < 0 ? [...list, next] : list.map((c, i) => (i === index ? next : c));
}

/** vipcast's condition in a conditions list, if present. */
export function addressCondition(conditions: readonly ServiceCondition[] | undefined): ServiceCondition | undefined {
  return conditions?.find((c) => c.type === addressAssignedCondition);
}
