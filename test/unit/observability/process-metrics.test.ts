// The process and Node.js metrics as a scrape shows them: the names dashboards know (from
// the Prometheus clients), after the program's prefix, in an answer that reads back cleanly
// (every line a comment or a sample, HELP and TYPE once per family, histograms cumulative);
// and values that follow what the process does (descriptors opened, the loop blocked, GCs).
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registerProcessMetrics } from '../../../src/observability/process-metrics.js';
import { Registry } from '../../../src/observability/registry.js';
import { parseExposition, type ParsedFamily } from './parse-exposition.js';

const prefix = 'test_';

/** A registry with the process metrics and one labelled histogram of our own. */
function registry(): Registry {
  const r = new Registry();
  registerProcessMetrics(r, prefix);
  const latency = r.histogram({ name: 'app_latency_seconds', help: 'Latency', labelNames: ['route'], buckets: [0.01, 0.1] });
  for (const seconds of [0.005, 0.005, 0.05]) latency.observe({ route: '/x' }, seconds);
  return r;
}

/** The value of the one sample of a family (undefined when the family or sample is missing). */
function value(families: readonly ParsedFamily[], name: string): number | undefined {
  return families.find((family) => family.name === `${prefix}${name}`)?.samples[0]?.value;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('process metrics', () => {
  it('read back cleanly: comments and samples only, HELP and TYPE once per family, histograms cumulative to +Inf', async () => {
    const r = registry();
    await sleep(30);
    const text = await r.metrics();
    expect(text.split('\n').slice(0, -1).every((line) => line.startsWith('# ') || /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$/.test(line))).toBe(true);
    const families = parseExposition(text);
    expect(families.filter((f) => f.name !== 'app_latency_seconds').every((f) => f.name.startsWith(prefix))).toBe(true);
    expect(families.every((f) => f.samples.every((s) => !Number.isNaN(s.value)))).toBe(true);
  });

  it('has the names the Prometheus clients give them, with the prefix', async () => {
    const r = registry();
    await sleep(30);
    const families = parseExposition(await r.metrics());
    const types = Object.fromEntries(families.map((f) => [f.name.slice(prefix.length), f.type]));
    const counters = ['process_cpu_user_seconds_total', 'process_cpu_system_seconds_total', 'process_cpu_seconds_total'];
    const gauges = [
      'process_start_time_seconds',
      'process_resident_memory_bytes',
      'process_virtual_memory_bytes',
      'process_heap_bytes',
      'process_open_fds',
      'process_max_fds',
      ...['', '_min', '_max', '_mean', '_stddev', '_p50', '_p90', '_p99'].map((stat) => `nodejs_eventloop_lag${stat}_seconds`),
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_heap_size_total_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_external_memory_bytes',
      'nodejs_heap_space_size_total_bytes',
      'nodejs_heap_space_size_used_bytes',
      'nodejs_heap_space_size_available_bytes',
      'nodejs_version_info',
    ];
    for (const name of counters) expect(types[name], name).toBe('counter');
    for (const name of gauges) expect(types[name], name).toBe('gauge');
    expect(types['nodejs_gc_duration_seconds']).toBe('histogram');
    const spaces = families.find((f) => f.name === `${prefix}nodejs_heap_space_size_used_bytes`)?.samples.map((s) => s.labels['space']);
    expect(spaces).toEqual(expect.arrayContaining(['new', 'old', 'code', 'large_object']));
    const [major, minor, patch] = process.versions.node.split('.');
    expect(families.find((f) => f.name === `${prefix}nodejs_version_info`)?.samples).toEqual([{ name: `${prefix}nodejs_version_info`, labels: { version: process.version, major, minor, patch }, value: 1 }]);
  });

  it('report the memory, CPU and start time of this process', async () => {
    const families = parseExposition(await registry().metrics());
    const rss = process.memoryUsage.rss();
    expect(value(families, 'process_resident_memory_bytes')).toBeGreaterThan(rss * 0.8);
    expect(value(families, 'process_resident_memory_bytes')).toBeLessThan(rss * 1.25);
    expect(value(families, 'process_virtual_memory_bytes')).toBeGreaterThan(rss);
    expect(value(families, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(1e6);
    expect(value(families, 'nodejs_heap_size_used_bytes')).toBeLessThanOrEqual(value(families, 'nodejs_heap_size_total_bytes') ?? 0);
    const user = value(families, 'process_cpu_user_seconds_total') ?? NaN;
    const system = value(families, 'process_cpu_system_seconds_total') ?? NaN;
    expect(user).toBeGreaterThan(0);
    expect(value(families, 'process_cpu_seconds_total')).toBeCloseTo(user + system, 9);
    const started = value(families, 'process_start_time_seconds') ?? NaN;
    expect(Date.now() / 1000 - started).toBeCloseTo(process.uptime(), 0);
  });

  it('count descriptors this process opens, and the soft limit on them', async () => {
    const r = registry();
    const before = value(parseExposition(await r.metrics()), 'process_open_fds') ?? NaN;
    const fds = Array.from({ length: 5 }, () => openSync('/dev/null', 'r'));
    const families = parseExposition(await r.metrics());
    for (const fd of fds) closeSync(fd);
    expect(value(families, 'process_open_fds')).toBe(before + 5);
    expect(value(families, 'process_max_fds')).toBeGreaterThanOrEqual(before + 5);
  });

  it('show the event loop blocked since the previous scrape, and not again once it runs freely', async () => {
    const r = registry();
    await sleep(30);
    const busyUntil = Date.now() + 200;
    while (Date.now() < busyUntil) {
      // Blocks the event loop, as a long synchronous task would.
    }
    await sleep(30);
    const blocked = parseExposition(await r.metrics());
    expect(value(blocked, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThan(0.15);
    await sleep(60);
    const free = parseExposition(await r.metrics());
    expect(value(free, 'nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.15);
    expect(value(free, 'nodejs_eventloop_lag_min_seconds')).toBeGreaterThan(0);
  });

  it('count garbage collections by kind in a histogram', async () => {
    const r = registry();
    // A million short-lived objects (tens of MiB) fill the young generation several times over.
    let kept: { i: number }[] = [];
    for (let i = 0; i < 1_000_000; i++) kept = i % 100 === 0 ? [] : [...kept, { i }].slice(-2);
    await sleep(30);
    const gc = parseExposition(await r.metrics()).find((f) => f.name === `${prefix}nodejs_gc_duration_seconds`);
    const minor = gc?.samples.find((s) => s.name === `${prefix}nodejs_gc_duration_seconds_count` && s.labels['kind'] === 'minor');
    expect(minor?.value).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(2);
  });
});

describe('the reader these tests use', () => {
  it('refuses what the format forbids, so the checks above can fail', () => {
    const help = '# HELP h x\n# TYPE h histogram\n';
    expect(() => parseExposition('a 1\n')).toThrow("sample before its family's HELP and TYPE");
    expect(() => parseExposition('# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n')).toThrow('HELP twice');
    expect(() => parseExposition('# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\na 2\n')).toThrow('family a is not one group');
    expect(() => parseExposition('# HELP a x\n# TYPE a gauge\na{l="1} 1\n')).toThrow('bad labels');
    expect(() => parseExposition('# HELP a x\n# TYPE a gauge\na one\n')).toThrow('not a sample line');
    expect(() => parseExposition('# HELP a x\n# TYPE a gauge\na 1')).toThrow('does not end in a line feed');
    expect(() => parseExposition(`${help}h_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n`)).toThrow('not increasing and cumulative');
    expect(() => parseExposition(`${help}h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n`)).toThrow('le="+Inf" is 2, _count 3');
    expect(() => parseExposition(`${help}h_bucket{le="1"} 1\nh_sum 1\nh_count 1\n`)).toThrow('the last bucket is not le="+Inf"');
    expect(parseExposition(`${help}h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n`)).toHaveLength(1);
  });
});
