// What a scrape of /metrics returns, byte for byte, for counters, gauges and histograms with
// and without labels (text format 0.0.4), including the escaping of label values and HELP
// texts; and the mistakes the metrics refuse when they are made rather than at a scrape.
import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, formatValue, isLabelName, isMetricName } from '../../../src/observability/exposition.js';
import { Registry } from '../../../src/observability/registry.js';
import { parseExposition } from './parse-exposition.js';

describe('counters', () => {
  it('show an unlabelled counter at 0 from the start, then its total', async () => {
    const registry = new Registry();
    const requests = registry.counter({ name: 'app_requests_total', help: 'Requests served' });
    expect(await registry.metrics()).toBe('# HELP app_requests_total Requests served\n# TYPE app_requests_total counter\napp_requests_total 0\n');
    requests.inc();
    requests.inc(2.5);
    expect(await registry.metrics()).toBe('# HELP app_requests_total Requests served\n# TYPE app_requests_total counter\napp_requests_total 3.5\n');
  });

  it('show one series per label values, in the order first used, labels in declared order', async () => {
    const registry = new Registry();
    const writes = registry.counter({ name: 'app_writes_total', help: 'Writes', labelNames: ['kind', 'code'] });
    expect(await registry.metrics()).toBe('# HELP app_writes_total Writes\n# TYPE app_writes_total counter\n');
    writes.inc({ kind: 'status', code: '200' });
    writes.inc({ code: '409', kind: 'lease' }, 0);
    writes.inc({ kind: 'status', code: '200' }, 4);
    expect(await registry.metrics()).toBe(
      '# HELP app_writes_total Writes\n# TYPE app_writes_total counter\n' + 'app_writes_total{kind="status",code="200"} 5\n' + 'app_writes_total{kind="lease",code="409"} 0\n',
    );
  });

  it('refuse to go down, and labels other than the declared ones', () => {
    const registry = new Registry();
    const writes = registry.counter({ name: 'app_writes_total', help: 'Writes', labelNames: ['kind'] });
    expect(() => writes.inc({ kind: 'event' }, -1)).toThrow('a counter cannot go up by -1');
    expect(() => writes.inc({ kind: 'event' }, NaN)).toThrow('cannot go up by NaN');
    expect(() => writes.inc()).toThrow('app_writes_total takes the labels {kind}, not {}');
    expect(() => writes.inc({ kind: 'event', extra: 'x' } as { kind: string })).toThrow('not {"kind":"event","extra":"x"}');
  });
});

describe('gauges', () => {
  it('are set, raised and lowered, and spell NaN and the infinities as the format does', async () => {
    const registry = new Registry();
    const depth = registry.gauge({ name: 'app_queue_depth', help: 'Queued items' });
    const temperature = registry.gauge({ name: 'app_temperature_celsius', help: 'Sensor reading', labelNames: ['sensor'] });
    depth.set(7);
    depth.inc();
    depth.dec(3);
    temperature.set({ sensor: 'a' }, -12.25);
    temperature.set({ sensor: 'b' }, Infinity);
    temperature.set({ sensor: 'c' }, -Infinity);
    temperature.set({ sensor: 'd' }, NaN);
    temperature.inc({ sensor: 'a' }, 0.25);
    expect(await registry.metrics()).toBe(
      [
        '# HELP app_queue_depth Queued items',
        '# TYPE app_queue_depth gauge',
        'app_queue_depth 5',
        '# HELP app_temperature_celsius Sensor reading',
        '# TYPE app_temperature_celsius gauge',
        'app_temperature_celsius{sensor="a"} -12',
        'app_temperature_celsius{sensor="b"} +Inf',
        'app_temperature_celsius{sensor="c"} -Inf',
        'app_temperature_celsius{sensor="d"} NaN',
        '',
      ].join('\n'),
    );
  });

  it('forget label values no longer in use on reset; an unlabelled one goes back to 0', async () => {
    const registry = new Registry();
    const pools = registry.gauge({ name: 'app_pool_in_use', help: 'In use', labelNames: ['pool'] });
    const leader = registry.gauge({ name: 'app_leader', help: 'Leads' });
    pools.set({ pool: 'old' }, 3);
    leader.set(1);
    pools.reset();
    leader.reset();
    pools.set({ pool: 'new' }, 1);
    const text = await registry.metrics();
    expect(text).not.toContain('pool="old"');
    expect(text).toContain('app_pool_in_use{pool="new"} 1\n');
    expect(text).toContain('\napp_leader 0\n');
  });

  it('are read at each scrape through their collect hook, awaited when it is async', async () => {
    const registry = new Registry();
    let source = 1;
    const mirror = registry.gauge({
      name: 'app_source',
      help: 'Read at scrape time',
      async collect() {
        await new Promise((resolve) => setImmediate(resolve));
        mirror.set(source);
      },
    });
    expect(await registry.metrics()).toContain('\napp_source 1\n');
    source = 2;
    expect(await registry.metrics()).toContain('\napp_source 2\n');
  });
});

describe('histograms', () => {
  it('write cumulative buckets (le is inclusive), +Inf equal to the count, then _sum and _count', async () => {
    const registry = new Registry();
    const latency = registry.histogram({ name: 'app_latency_seconds', help: 'Latency', labelNames: ['route'], buckets: [0.1, 0.5, 1] });
    for (const seconds of [0.05, 0.1, 0.3, 2]) latency.observe({ route: '/a' }, seconds);
    latency.observe({ route: '/b' }, 0.7);
    expect(await registry.metrics()).toBe(
      [
        '# HELP app_latency_seconds Latency',
        '# TYPE app_latency_seconds histogram',
        'app_latency_seconds_bucket{route="/a",le="0.1"} 2',
        'app_latency_seconds_bucket{route="/a",le="0.5"} 3',
        'app_latency_seconds_bucket{route="/a",le="1"} 3',
        'app_latency_seconds_bucket{route="/a",le="+Inf"} 4',
        'app_latency_seconds_sum{route="/a"} 2.45',
        'app_latency_seconds_count{route="/a"} 4',
        'app_latency_seconds_bucket{route="/b",le="0.1"} 0',
        'app_latency_seconds_bucket{route="/b",le="0.5"} 0',
        'app_latency_seconds_bucket{route="/b",le="1"} 1',
        'app_latency_seconds_bucket{route="/b",le="+Inf"} 1',
        'app_latency_seconds_sum{route="/b"} 0.7',
        'app_latency_seconds_count{route="/b"} 1',
        '',
      ].join('\n'),
    );
  });

  it('show an unlabelled histogram with every bucket at 0 before its first observation', async () => {
    const registry = new Registry();
    registry.histogram({ name: 'app_wait_seconds', help: 'Wait', buckets: [0.0025, 5] });
    expect(await registry.metrics()).toBe(
      '# HELP app_wait_seconds Wait\n# TYPE app_wait_seconds histogram\n' +
        'app_wait_seconds_bucket{le="0.0025"} 0\napp_wait_seconds_bucket{le="5"} 0\napp_wait_seconds_bucket{le="+Inf"} 0\n' +
        'app_wait_seconds_sum 0\napp_wait_seconds_count 0\n',
    );
  });

  it('refuse bounds that do not increase, an le label and NaN', () => {
    const registry = new Registry();
    expect(() => registry.histogram({ name: 'app_a', help: 'a', buckets: [1, 1] })).toThrow('bucket bounds must be finite and increasing, not 1, 1');
    expect(() => registry.histogram({ name: 'app_b', help: 'b', buckets: [1, Infinity] })).toThrow('finite and increasing');
    expect(() => registry.histogram({ name: 'app_c', help: 'c', labelNames: ['le'], buckets: [1] })).toThrow('"le" is the label of a histogram\'s buckets');
    expect(() => registry.histogram({ name: 'app_d', help: 'd', buckets: [1] }).observe(NaN)).toThrow('cannot observe NaN');
  });
});

describe('escaping', () => {
  it('escapes backslash, double quote and line feed in label values, and reads back to the same value', async () => {
    const registry = new Registry();
    const odd = 'C:\\dir "quoted"\nnext line';
    registry.counter({ name: 'app_files_total', help: 'Files', labelNames: ['path'] }).inc({ path: odd });
    const text = await registry.metrics();
    expect(text).toContain('app_files_total{path="C:\\\\dir \\"quoted\\"\\nnext line"} 1\n');
    expect(parseExposition(text)[0]?.samples[0]?.labels).toEqual({ path: odd });
  });

  it('escapes backslash and line feed in HELP, and leaves its double quotes alone', async () => {
    const registry = new Registry();
    registry.gauge({ name: 'app_g', help: 'Two\nlines, a \\ and "quotes"' });
    expect(await registry.metrics()).toMatch(/^# HELP app_g Two\\nlines, a \\\\ and "quotes"\n# TYPE app_g gauge\n/);
  });

  it('has the escaping functions the format describes', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
    expect([NaN, Infinity, -Infinity, 0, -0, 1e-7, 123456789012].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf', '0', '0', '1e-7', '123456789012']);
  });
});

describe('names', () => {
  it('accept metric names with colons and label names without, and refuse the reserved __ labels', () => {
    expect(['a', 'job:rate5m', '_x', 'a1_b2'].map(isMetricName)).toEqual([true, true, true, true]);
    expect(['1a', 'a-b', 'a b', ''].map(isMetricName)).toEqual([false, false, false, false]);
    expect(['a', '_x', 'A9'].map(isLabelName)).toEqual([true, true, true]);
    expect(['a:b', '9a', '__name__', ''].map(isLabelName)).toEqual([false, false, false, false]);
  });

  it('refuse a bad metric or label name when the metric is created', () => {
    const registry = new Registry();
    expect(() => registry.counter({ name: 'app-requests', help: 'x' })).toThrow('"app-requests" is not a metric name');
    expect(() => registry.counter({ name: 'app_requests_total', help: 'x', labelNames: ['__reserved'] })).toThrow('"__reserved" is not a label name');
    expect(() => registry.counter({ name: 'app_requests_total', help: 'x', labelNames: ['a', 'a'] })).toThrow('a label name is given twice');
  });

  it('refuse a second metric of a name, including a histogram sample name', () => {
    const registry = new Registry();
    registry.gauge({ name: 'app_up', help: 'x' });
    registry.histogram({ name: 'app_latency', help: 'x', buckets: [1] });
    expect(() => registry.counter({ name: 'app_up', help: 'y' })).toThrow('a metric named app_up is registered already');
    expect(() => registry.gauge({ name: 'app_latency_count', help: 'y' })).toThrow('a metric named app_latency_count is registered already');
    expect(() => registry.register({ names: ['app_x', 'app_x'], families: () => [] })).toThrow('a collector repeats a name');
  });
});

describe('the registry', () => {
  it('answers with the 0.0.4 content type, families in the order they were registered', async () => {
    const registry = new Registry();
    expect(registry.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await registry.metrics()).toBe('');
    registry.gauge({ name: 'app_b', help: 'b' });
    registry.gauge({ name: 'app_a', help: 'a' });
    expect(parseExposition(await registry.metrics()).map((family) => family.name)).toEqual(['app_b', 'app_a']);
  });
});
