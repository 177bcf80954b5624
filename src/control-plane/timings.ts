// The control-plane VIP's election timings: the defaults, the check that its renew deadline
// is whole seconds (the VIP's address lifetime is counted in seconds), and that lifetime.
// The election itself is the shared core, src/k8s/lease-election.ts.
import { validateTimings, type ElectionTimings } from '../k8s/lease-election.js';

/** Default timings: failover after a holder vanishes within ~lease duration; see ADR 0012. */
export const defaultControlPlaneTimings: ElectionTimings = { leaseDurationMs: 4000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

/** validateTimings, and a renew deadline of whole seconds, at least 1s; throws RangeError. */
export function validateControlPlaneTimings(t: ElectionTimings): ElectionTimings {
  if (t.renewDeadlineMs < 1000 || t.renewDeadlineMs % 1000 !== 0) throw new RangeError('the renew deadline must be a whole number of seconds, at least 1s');
  return validateTimings(t);
}

/**
 * The valid lifetime (whole seconds) given to the VIP on the interface, refreshed at each
 * renewal: if the agent dies without cleaning up (SIGKILL), the kernel removes the address
 * itself, about a second after this, which is before anyone else's expiry of the Lease.
 */
export function addressLifetimeSeconds(timings: ElectionTimings): number {
  return Math.max(1, Math.floor(timings.renewDeadlineMs / 1000));
}
