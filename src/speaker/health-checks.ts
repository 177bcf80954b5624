// What the speaker's /healthz checks: its informers, its Lease renewals and its event loop.
// Liveness fails only for wedges a restart cures, never because the API server is away:
// a restart then would withdraw BGP routes and empty caches it cannot refill. Informer
// errors count only before the caches first sync (nothing is announced yet); once synced,
// a cache whose watch keeps failing still serves what it holds.
import { defaultHealthLimits, informersCheck, type HealthCheck } from '../observability/health.js';
import type { InformerHealth } from '../k8s/informer.js';

/** What the speaker's checks read. */
export interface SpeakerHealthSources {
  /** The health of each cache's informer. */
  readonly informers: () => readonly InformerHealth[];
  /** The Lease renewals' check (a RenewalWrites fed by the Lease client). */
  readonly lease: HealthCheck;
  /** The event loop's check (an EventLoopLag). */
  readonly eventLoop: HealthCheck;
}

/** Limits of the informers check, in ms. */
export interface SpeakerInformerLimits {
  /** A pending restart this much past its due time means the restart loop is stuck. */
  readonly restartOverdueMs: number;
  /** An informer that never synced, failing this long while the API server answers, is wedged. */
  readonly informerFailingMs: number;
}

/** The speaker's /healthz checks by name: `informers`, `lease` and `eventLoop`. */
export function speakerHealthChecks(sources: SpeakerHealthSources, limits: SpeakerInformerLimits = defaultHealthLimits): Record<string, HealthCheck> {
  // The API server answers while some synced informer is not failing.
  const apiAnswering = (): boolean => sources.informers().some((informer) => informer.synced && informer.failingSince === undefined);
  return {
    informers: informersCheck(sources.informers, { restartOverdueMs: limits.restartOverdueMs, failingMs: limits.informerFailingMs, failingOnlyBeforeSync: true }, apiAnswering),
    lease: sources.lease,
    eventLoop: sources.eventLoop,
  };
}
