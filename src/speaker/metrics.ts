// The speaker's Prometheus metrics, on a registry of their own. Counts the speaker keeps
// elsewhere (the election, its Lease, the layer-2 responders) are monotonic, so they are
// exported as Counters named `_total`: at each scrape a Counter is raised by however much
// its source grew since the previous scrape.
import { responderOutcomes, type ResponderCounters } from '../../speakers/layer2/responder.js';
import { registerProcessMetrics } from '../observability/process-metrics.js';
import { CounterMirror, Registry, type Counter, type Gauge } from '../observability/registry.js';

/** Monotonic counts kept outside the metrics, read at each scrape. */
export interface SpeakerCounts {
  /** Layer-2 claims this node confirmed. */
  readonly layer2Elections: number;
  /** Speaker Lease writes that failed. */
  readonly leaseWriteFailures: number;
  /** ARP requests and Neighbor Solicitations answered. */
  readonly layer2RequestsAnswered: number;
}

/** Frames the layer-2 responders handled, by what happened to them (monotonic totals). */
export interface Layer2FrameCounts {
  /** Answered with a reply. */
  readonly answered: number;
  /** Not answered because the per-requester rate limit was hit. */
  readonly rateLimited: number;
  /** Could not be decoded. */
  readonly malformed: number;
  /** NDP with a hop limit other than 255 (RFC 4861 7.1.1). */
  readonly hopLimit: number;
  /** For an address this node does not answer for. */
  readonly otherHost: number;
  /** Another host claimed an address this node answers for. */
  readonly conflict: number;
}

/** What every open layer-2 responder handled, summed: the source of `layer2Frames`. */
export function layer2FrameTotals(responders: Iterable<ResponderCounters>): Layer2FrameCounts {
  const total = { answered: 0, rateLimited: 0, malformed: 0, hopLimit: 0, otherHost: 0, conflict: 0 };
  for (const counters of responders) {
    const o = responderOutcomes(counters);
    total.answered += o.answered;
    total.rateLimited += o['rate-limited'];
    total.malformed += o.malformed;
    total.hopLimit += o['hop-limit'];
    total.otherHost += o['not-for-us'];
    total.conflict += o.conflict;
  }
  return total;
}

/** The label value of `vipcast_speaker_layer2_frames_total{reason}` for each field. */
export const layer2FrameReasons: Readonly<Record<keyof Layer2FrameCounts, string>> = {
  answered: 'answered',
  rateLimited: 'rate-limited',
  malformed: 'malformed',
  hopLimit: 'hop-limit',
  otherHost: 'other-host',
  conflict: 'conflict',
};

/** Where the metrics read their values at scrape time. */
export interface SpeakerMetricSources {
  /** The speaker's own monotonic counts. */
  readonly counts: () => SpeakerCounts;
  /** VIPs this node announces now, by mode. */
  readonly announced: () => { readonly layer2: number; readonly bgp: number };
  /** Layer-2 frames by reason, summed over the interfaces; omitted until the responders count them. */
  readonly layer2Frames?: (() => Layer2FrameCounts) | undefined;
  /** What the node sees of its peers and the API (ADR 0017); omitted without a peer channel. */
  readonly peer?: (() => PeerView) | undefined;
  /** Interfaces where the kernel answers ARP for kube-ipvs0's addresses (kube-proxy IPVS without strictARP). */
  readonly ipvsLooseArp?: (() => readonly string[]) | undefined;
}

/** The peer channel and the API as one node sees them, read at each scrape. */
export interface PeerView {
  /** Members of the configuration recorded in our Lease, ourselves included. */
  readonly members: number;
  /** Members in contact now (acked a recent ping). */
  readonly contacts: number;
  /** 1 while this node may answer (holds its configuration or, for one or two, its Lease). */
  readonly holding: boolean;
  /** Milliseconds since our last API request that was answered; undefined before any. */
  readonly apiOkAgeMs: number | undefined;
  /** Peer packets dropped, by reason (monotonic). */
  readonly dropped: Readonly<Record<string, number>>;
  /** Declarations this node made (monotonic). */
  readonly declarations: number;
}

/** The metrics the speaker updates itself; everything else is read from the sources. */
export interface SpeakerMetrics {
  /** The registry to serve on /metrics. */
  readonly registry: Registry;
  /** API writes other than Lease renewals (Events), by kind. */
  readonly apiWrites: Counter<'kind'>;
  /** Events dropped because too many were waiting to be written (EventRecorder). */
  readonly eventsDropped: Counter;
  /** 1 while the BGP session to a peer is Established. */
  readonly bgpSessionUp: Gauge<'peer'>;
  /** Routes a BGP session reported it could not send (no next hop of their family, family not negotiated), by peer. */
  readonly bgpRoutesNotAnnounced: Counter<'peer'>;
  /** Raises `vipcast_speaker_layer2_frames_total{reason}` to these totals (the scrape calls it with `layer2Frames`). */
  observeLayer2Frames(counts: Layer2FrameCounts): void;
}

/** Creates the speaker's metrics, reading `sources` on each scrape. */
export function createSpeakerMetrics(sources: SpeakerMetricSources): SpeakerMetrics {
  const registry = new Registry();
  registerProcessMetrics(registry, 'vipcast_speaker_');
  const mirrored = (name: string, help: string, read: (counts: SpeakerCounts) => number): void => {
    const counter: Counter = registry.counter({
      name,
      help,
      collect() {
        mirror.update(read(sources.counts()));
      },
    });
    const mirror = new CounterMirror(counter);
  };
  mirrored('vipcast_speaker_layer2_elections_total', 'Layer-2 VIP claims this node confirmed', (c) => c.layer2Elections);
  mirrored('vipcast_speaker_lease_write_failures_total', 'Speaker Lease writes that failed', (c) => c.leaseWriteFailures);
  mirrored('vipcast_speaker_layer2_requests_answered_total', 'ARP requests and Neighbor Solicitations answered', (c) => c.layer2RequestsAnswered);

  const frames: Counter<'reason'> = registry.counter({
    name: 'vipcast_speaker_layer2_frames_total',
    help: 'Layer-2 frames the responders handled, by reason: answered, rate-limited, malformed, hop-limit, other-host, conflict',
    labelNames: ['reason'],
    collect() {
      const counts = sources.layer2Frames?.();
      if (counts !== undefined) observeLayer2Frames(counts);
    },
  });
  const framesMirror = new CounterMirror(frames);
  const observeLayer2Frames = (counts: Layer2FrameCounts): void => {
    for (const [field, reason] of Object.entries(layer2FrameReasons) as [keyof Layer2FrameCounts, string][]) framesMirror.update(counts[field], { reason });
  };

  const announced: Gauge<'mode'> = registry.gauge({
    name: 'vipcast_speaker_announced_vips',
    help: 'VIPs this node announces now',
    labelNames: ['mode'],
    collect() {
      const now = sources.announced();
      announced.set({ mode: 'layer2' }, now.layer2);
      announced.set({ mode: 'bgp' }, now.bgp);
    },
  });
  if (sources.peer) {
    const read = sources.peer;
    const gauge = (name: string, help: string, value: (v: PeerView) => number): void => {
      const g: Gauge = registry.gauge({
        name,
        help,
        collect() {
          g.set(value(read()));
        },
      });
    };
    gauge('vipcast_speaker_peer_configuration_members', 'Members of the configuration in this node\'s Lease, itself included (ADR 0017)', (v) => v.members);
    gauge('vipcast_speaker_peer_contacts', 'Members of the configuration in contact on the peer channel now', (v) => v.contacts);
    gauge('vipcast_speaker_layer2_holding', '1 while this node may answer for its layer-2 VIPs', (v) => (v.holding ? 1 : 0));
    gauge('vipcast_speaker_api_last_success_seconds', 'Seconds since the API server last answered this speaker (-1 before it ever did)', (v) => (v.apiOkAgeMs === undefined ? -1 : v.apiOkAgeMs / 1000));
    const dropped: Counter<'reason'> = registry.counter({
      name: 'vipcast_speaker_peer_packets_dropped_total',
      help: 'Peer-channel packets dropped unread: short, seal (wrong key), malformed, unknown-sender, wrong-address, replay',
      labelNames: ['reason'],
      collect() {
        for (const [reason, total] of Object.entries(read().dropped)) droppedMirror.update(total, { reason });
      },
    });
    const droppedMirror = new CounterMirror(dropped);
    const declarations: Counter = registry.counter({
      name: 'vipcast_speaker_peer_declarations_total',
      help: 'Peers this node declared dead after hearing nothing from them for the quiet time',
      collect() {
        declarationsMirror.update(read().declarations);
      },
    });
    const declarationsMirror = new CounterMirror(declarations);
  }
  if (sources.ipvsLooseArp) {
    const read = sources.ipvsLooseArp;
    const loose: Gauge = registry.gauge({
      name: 'vipcast_speaker_ipvs_loose_arp',
      help: '1 while kube-proxy runs in IPVS mode without strictARP here: this node\'s kernel answers ARP for every Service address (docs/speaker.md)',
      collect() {
        loose.set(read().length > 0 ? 1 : 0);
      },
    });
  }
  return {
    registry,
    apiWrites: registry.counter({ name: 'vipcast_speaker_api_writes_total', help: 'API writes made by this process other than Lease renewals', labelNames: ['kind'] }),
    eventsDropped: registry.counter({ name: 'vipcast_speaker_events_dropped_total', help: 'Events not written because too many were waiting to be' }),
    bgpSessionUp: registry.gauge({ name: 'vipcast_bgp_session_up', help: '1 while the BGP session to the peer is Established', labelNames: ['peer'] }),
    bgpRoutesNotAnnounced: registry.counter({
      name: 'vipcast_speaker_bgp_routes_not_announced_total',
      help: 'Routes a BGP session reported it could not send (no next hop of their family, or a family the peer did not negotiate)',
      labelNames: ['peer'],
    }),
    observeLayer2Frames,
  };
}
