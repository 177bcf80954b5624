// The control-plane agent's Prometheus metrics, on a registry of their own, read from the
// agent at each scrape: whether this node holds the VIP, whether its API server is ready and
// its Node cordoned, and monotonic counts of takeovers, releases and failed Lease writes
// (exported as `_total` Counters that follow the agent's own totals).
import { registerProcessMetrics } from '../observability/process-metrics.js';
import { CounterMirror, Registry, type Counter, type Gauge } from '../observability/registry.js';

/** What the agent reports at a scrape. */
export interface ControlPlaneState {
  /** Holding the VIP now. */
  readonly leading: boolean;
  /** The local API server answered /readyz lately. */
  readonly apiServerReady: boolean;
  /** This node's Node is unschedulable. */
  readonly cordoned: boolean;
  /** Monotonic counts since start. */
  readonly counts: ControlPlaneCounts;
}

/** The agent's monotonic counts. */
export interface ControlPlaneCounts {
  /** Times this node took the VIP. */
  readonly takeovers: number;
  /** Times it stopped holding the VIP, for any reason. */
  readonly letGo: number;
  /** Lease releases accepted by an API server. */
  readonly released: number;
  /** Releases no API server accepted before the Lease would have expired. */
  readonly releaseFailed: number;
  /** Lease reads and writes that failed (network, timeout, 5xx, refused). */
  readonly leaseRequestFailures: number;
}

/** Creates the registry for /metrics, reading `state` at each scrape. */
export function createControlPlaneMetrics(state: () => ControlPlaneState): Registry {
  const registry = new Registry();
  registerProcessMetrics(registry, 'vipcast_control_plane_');
  const gauge = (name: string, help: string, value: (s: ControlPlaneState) => boolean): void => {
    const g: Gauge = registry.gauge({
      name,
      help,
      collect() {
        g.set(value(state()) ? 1 : 0);
      },
    });
  };
  gauge('vipcast_control_plane_leader', '1 while this node holds the control-plane VIP', (s) => s.leading);
  gauge('vipcast_control_plane_api_server_ready', "1 while this node's own API server answers /readyz", (s) => s.apiServerReady);
  gauge('vipcast_control_plane_node_cordoned', "1 while this node's Node is unschedulable (the VIP is handed over unless --on-cordon stay)", (s) => s.cordoned);
  const mirrored = (name: string, help: string, read: (c: ControlPlaneCounts) => number): void => {
    const counter: Counter = registry.counter({
      name,
      help,
      collect() {
        mirror.update(read(state().counts));
      },
    });
    const mirror = new CounterMirror(counter);
  };
  mirrored('vipcast_control_plane_takeovers_total', 'Times this node took the VIP', (c) => c.takeovers);
  mirrored('vipcast_control_plane_let_go_total', 'Times this node stopped holding the VIP', (c) => c.letGo);
  mirrored('vipcast_control_plane_releases_total', 'Lease releases an API server accepted', (c) => c.released);
  mirrored('vipcast_control_plane_release_failures_total', 'Releases no API server accepted before the Lease would have expired', (c) => c.releaseFailed);
  mirrored('vipcast_control_plane_lease_request_failures_total', 'Lease reads and writes that failed', (c) => c.leaseRequestFailures);
  return registry;
}
