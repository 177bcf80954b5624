// The controller's Prometheus metrics, on a registry of their own.
import { registerProcessMetrics } from '../observability/process-metrics.js';
import { Registry, type Counter, type Gauge, type Histogram } from '../observability/registry.js';

/** Every metric the controller exports. */
export interface ControllerMetrics {
  /** The registry to serve on /metrics. */
  readonly registry: Registry;
  /** 1 when the ConfigMap's current version is valid, 0 when it was rejected. */
  readonly configValid: Gauge;
  /** Number of errors in the ConfigMap's current version (0 when valid). */
  readonly configErrors: Gauge;
  /** 1 while this replica holds the leader Lease. */
  readonly leader: Gauge;
  /** API writes made by this process, by kind (status, annotation, event, lease). */
  readonly apiWrites: Counter<'kind'>;
  /** Events dropped because too many were waiting to be written (EventRecorder). */
  readonly eventsDropped: Counter;
  /** Allocation outcomes, by outcome (allocated, changed, failed, released). */
  readonly allocations: Counter<'outcome'>;
  /** Services currently waiting for an address. */
  readonly servicesFailing: Gauge;
  /** Addresses in use per pool, refreshed on each scrape. */
  readonly poolInUse: Gauge<'pool'>;
  /** Seconds from a Service change reaching the controller to its new status being written. */
  readonly allocationLatency: Histogram;
}

/** Creates the metrics; `poolUsage` is read on each scrape. */
export function createControllerMetrics(poolUsage: () => ReadonlyMap<string, number>): ControllerMetrics {
  const registry = new Registry();
  registerProcessMetrics(registry, 'vipcast_controller_');
  const poolInUse: Gauge<'pool'> = registry.gauge({
    name: 'vipcast_pool_addresses_in_use',
    help: 'Addresses of a pool held by Services',
    labelNames: ['pool'],
    collect() {
      poolInUse.reset();
      for (const [pool, count] of poolUsage()) poolInUse.set({ pool }, count);
    },
  });
  return {
    registry,
    configValid: registry.gauge({ name: 'vipcast_config_valid', help: '1 if the ConfigMap in the cluster is valid, 0 if rejected' }),
    configErrors: registry.gauge({ name: 'vipcast_config_errors', help: 'Errors found in the ConfigMap in the cluster' }),
    leader: registry.gauge({ name: 'vipcast_controller_leader', help: '1 while this replica is the leader' }),
    apiWrites: registry.counter({ name: 'vipcast_controller_api_writes_total', help: 'API writes made by this process', labelNames: ['kind'] }),
    eventsDropped: registry.counter({ name: 'vipcast_controller_events_dropped_total', help: 'Events not written because too many were waiting to be' }),
    allocations: registry.counter({ name: 'vipcast_allocations_total', help: 'Allocation outcomes', labelNames: ['outcome'] }),
    servicesFailing: registry.gauge({ name: 'vipcast_services_without_address', help: 'Served Services that could not get an address' }),
    poolInUse,
    allocationLatency: registry.histogram({
      name: 'vipcast_allocation_latency_seconds',
      help: 'From a Service change reaching the controller to its addresses being written to its status',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
  };
}
