// What the speaker makes of its BGP sessions' events: the session gauge and a log line on
// each state change; for routes a session cannot send (no next hop of their family, a family
// the peer did not negotiate) a counter, a log line and a Warning Event on their Services,
// never a silent drop; NOTIFICATIONs, errors and BFD changes as warnings.
import type { SessionEvent } from '../../speakers/bgp/session.js';
import type { Logger } from '../log.js';
import type { SpeakerMetrics } from './metrics.js';
import type { SpeakerRuntime } from './runtime.js';

/** Where {@link reportBgpEvent} reports to. */
export interface BgpEventSinks {
  readonly metrics: Pick<SpeakerMetrics, 'bgpSessionUp' | 'bgpRoutesNotAnnounced'>;
  readonly log: Logger;
  readonly runtime: Pick<SpeakerRuntime, 'reportNotAnnounced'>;
}

/** Reports one event of the session to `peer` (SpeakerBgp's onEvent). */
export function reportBgpEvent(peer: string, event: SessionEvent, to: BgpEventSinks): void {
  if (event.type === 'state') {
    to.metrics.bgpSessionUp.set({ peer }, event.state === 'Established' ? 1 : 0);
    to.log.info('bgp session', { peer, state: event.state });
  } else if (event.type === 'not-announced') {
    to.metrics.bgpRoutesNotAnnounced.inc({ peer }, event.prefixes.length);
    to.runtime.reportNotAnnounced(peer, event.prefixes, event.reason);
  } else if (event.type === 'notification-sent' || event.type === 'notification-received' || event.type === 'error' || event.type === 'bfd') {
    to.log.warn('bgp', { peer, ...event });
  }
}
