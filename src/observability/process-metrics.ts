// The process and Node.js metrics every program serves, under the names Prometheus clients
// give them (`process_*` as the Go client has them, `nodejs_*` as the Node.js clients do),
// after the program's prefix. Only built-in modules: process, v8, perf_hooks, and /proc/self
// on Linux. A family whose source this platform lacks is left out rather than shown as 0.
import { readdirSync, readFileSync } from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver, type NodeGCPerformanceDetail } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { MetricFamily, MetricType } from './exposition.js';
import type { Collector, Registry } from './registry.js';

/** A family of one sample without labels. */
function single(name: string, help: string, type: MetricType, value: number): MetricFamily {
  return { name, help, type, samples: [{ name, labels: [], value }] };
}

/** A gauge family of one sample, or none when the value is unknown here. */
function gaugeIfKnown(name: string, help: string, value: number | undefined): MetricFamily[] {
  return value === undefined ? [] : [single(name, help, 'gauge', value)];
}

/** A collector writing the families named in `names`, read together by `families`. */
function collector(names: Readonly<Record<string, string>>, families: () => MetricFamily[] | Promise<MetricFamily[]>): Collector {
  return { names: Object.values(names), families };
}

/** Reads a /proc/self file; undefined off Linux or when it cannot be read. */
function readProc(file: string): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return readFileSync(`/proc/self/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** A `Vm...: N kB` field of /proc/self/status, in bytes. */
function statusBytes(status: string | undefined, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s*(\\d+) kB$`, 'm').exec(status ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

/** Descriptors open now; undefined where /proc/self/fd cannot be listed. */
function openFds(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    // The listing includes the descriptor it was read through.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

/** The soft limit on open descriptors from /proc/self/limits; undefined when unlimited or unreadable. */
function maxFds(): number | undefined {
  const match = /^Max open files\s+(\d+)/m.exec(readProc('limits') ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Seconds a callback queued now with setImmediate waits before it runs. */
async function immediateLag(): Promise<number> {
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => setImmediate(resolve));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Node's undocumented counts of live handles and requests, where this version still has them. */
const internals = process as unknown as { _getActiveHandles?: () => unknown[]; _getActiveRequests?: () => unknown[] };

/** The label `kind` of nodejs_gc_duration_seconds for each kind of collection V8 reports. */
const gcKinds = new Map<number, string>([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/**
 * Registers the process and Node.js metrics on `registry`, each name after `prefix`
 * (e.g. `vipcast_speaker_process_resident_memory_bytes`). Starts an event-loop delay monitor
 * (sampling every 10 ms) and a garbage-collection observer; neither keeps the process alive.
 */
export function registerProcessMetrics(registry: Registry, prefix: string): void {
  const cpu = { user: `${prefix}process_cpu_user_seconds_total`, system: `${prefix}process_cpu_system_seconds_total`, total: `${prefix}process_cpu_seconds_total` };
  registry.register(
    collector(cpu, () => {
      const { user, system } = process.cpuUsage();
      return [
        single(cpu.user, 'User CPU time this process has used, in seconds', 'counter', user / 1e6),
        single(cpu.system, 'System CPU time this process has used, in seconds', 'counter', system / 1e6),
        single(cpu.total, 'User and system CPU time this process has used, in seconds', 'counter', (user + system) / 1e6),
      ];
    }),
  );

  const start = { time: `${prefix}process_start_time_seconds` };
  const started = performance.timeOrigin / 1000;
  registry.register(collector(start, () => [single(start.time, 'When this process started, in seconds since the Unix epoch', 'gauge', started)]));

  const memory = { resident: `${prefix}process_resident_memory_bytes`, virtual: `${prefix}process_virtual_memory_bytes`, heap: `${prefix}process_heap_bytes` };
  registry.register(
    collector(memory, () => {
      const status = readProc('status');
      return [
        single(memory.resident, 'Resident set size of this process, in bytes', 'gauge', process.memoryUsage.rss()),
        ...gaugeIfKnown(memory.virtual, 'Virtual memory size of this process, in bytes', statusBytes(status, 'VmSize')),
        ...gaugeIfKnown(memory.heap, 'Data segment size of this process (VmData), in bytes', statusBytes(status, 'VmData')),
      ];
    }),
  );

  const fds = { open: `${prefix}process_open_fds`, max: `${prefix}process_max_fds` };
  registry.register(
    collector(fds, () => [
      ...gaugeIfKnown(fds.open, 'File descriptors this process has open', openFds()),
      ...gaugeIfKnown(fds.max, 'Most file descriptors this process may open (the soft limit)', maxFds()),
    ]),
  );

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const loop = {
    lag: `${prefix}nodejs_eventloop_lag_seconds`,
    min: `${prefix}nodejs_eventloop_lag_min_seconds`,
    max: `${prefix}nodejs_eventloop_lag_max_seconds`,
    mean: `${prefix}nodejs_eventloop_lag_mean_seconds`,
    stddev: `${prefix}nodejs_eventloop_lag_stddev_seconds`,
    p50: `${prefix}nodejs_eventloop_lag_p50_seconds`,
    p90: `${prefix}nodejs_eventloop_lag_p90_seconds`,
    p99: `${prefix}nodejs_eventloop_lag_p99_seconds`,
  };
  registry.register(
    collector(loop, async () => {
      const families = [single(loop.lag, 'How long a callback queued with setImmediate during this scrape waited to run, in seconds', 'gauge', await immediateLag())];
      // The monitor's figures cover the time since the previous scrape; none are shown before its first sample.
      if (delay.count > 0) {
        const since = 'since the previous scrape (sampled every 10 ms), in seconds';
        families.push(
          single(loop.min, `Smallest event-loop delay ${since}`, 'gauge', delay.min / 1e9),
          single(loop.max, `Largest event-loop delay ${since}`, 'gauge', delay.max / 1e9),
          single(loop.mean, `Mean event-loop delay ${since}`, 'gauge', delay.mean / 1e9),
          single(loop.stddev, `Standard deviation of the event-loop delay ${since}`, 'gauge', delay.stddev / 1e9),
          single(loop.p50, `Median event-loop delay ${since}`, 'gauge', delay.percentile(50) / 1e9),
          single(loop.p90, `90th percentile of the event-loop delay ${since}`, 'gauge', delay.percentile(90) / 1e9),
          single(loop.p99, `99th percentile of the event-loop delay ${since}`, 'gauge', delay.percentile(99) / 1e9),
        );
      }
      delay.reset();
      return families;
    }),
  );

  const active = { handles: `${prefix}nodejs_active_handles_total`, requests: `${prefix}nodejs_active_requests_total` };
  registry.register(
    collector(active, () => [
      ...gaugeIfKnown(active.handles, 'Live libuv handles (sockets, timers, servers) keeping the event loop alive', internals._getActiveHandles?.().length),
      ...gaugeIfKnown(active.requests, 'Live libuv requests (file system, DNS) in progress', internals._getActiveRequests?.().length),
    ]),
  );

  const heap = { total: `${prefix}nodejs_heap_size_total_bytes`, used: `${prefix}nodejs_heap_size_used_bytes`, external: `${prefix}nodejs_external_memory_bytes` };
  registry.register(
    collector(heap, () => {
      const usage = process.memoryUsage();
      return [
        single(heap.total, 'Size of the V8 heap, in bytes', 'gauge', usage.heapTotal),
        single(heap.used, 'Bytes of the V8 heap in use', 'gauge', usage.heapUsed),
        single(heap.external, 'Memory held outside the V8 heap by objects it references (Buffers among them), in bytes', 'gauge', usage.external),
      ];
    }),
  );

  const spaces = { total: `${prefix}nodejs_heap_space_size_total_bytes`, used: `${prefix}nodejs_heap_space_size_used_bytes`, available: `${prefix}nodejs_heap_space_size_available_bytes` };
  registry.register(
    collector(spaces, () => {
      const now = getHeapSpaceStatistics();
      const bySpace = (name: string, help: string, value: (space: (typeof now)[number]) => number): MetricFamily => ({
        name,
        help,
        type: 'gauge',
        // `new_space` is labelled `new`, as the Node.js clients have it.
        samples: now.map((space) => ({ name, labels: [['space', space.space_name.replace(/_space$/, '')]], value: value(space) })),
      });
      return [
        bySpace(spaces.total, 'Size of each V8 heap space, in bytes', (space) => space.space_size),
        bySpace(spaces.used, 'Bytes in use in each V8 heap space', (space) => space.space_used_size),
        bySpace(spaces.available, 'Bytes still available in each V8 heap space', (space) => space.space_available_size),
      ];
    }),
  );

  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  registry
    .gauge({ name: `${prefix}nodejs_version_info`, help: 'The version of Node.js running this process (always 1)', labelNames: ['version', 'major', 'minor', 'patch'] })
    .set({ version: process.version, major, minor, patch }, 1);

  const gc = registry.histogram({
    name: `${prefix}nodejs_gc_duration_seconds`,
    help: 'Garbage collections by kind (minor, major, incremental, weakcb) and how long each took, in seconds',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // A 'gc' entry carries its kind in `detail` (Node's types give `detail` to marks and measures only).
      const { detail } = entry as typeof entry & { readonly detail?: NodeGCPerformanceDetail };
      gc.observe({ kind: gcKinds.get(detail?.kind ?? -1) ?? 'other' }, entry.duration / 1000);
    }
  }).observe({ entryTypes: ['gc'] });
}
