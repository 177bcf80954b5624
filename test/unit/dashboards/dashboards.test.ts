// The Grafana dashboard and the PrometheusRule in charts/vipcast/files/ name only metrics the
// programs export: each metric in each PromQL expression is looked up among the families that
// the speaker's, the controller's and the control-plane agent's registries write at a scrape,
// so renaming a metric without following it here fails. Every alert carries what the person
// paged needs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createControlPlaneMetrics } from '../../../src/control-plane/metrics.js';
import { createControllerMetrics } from '../../../src/controller/metrics.js';
import { createSpeakerMetrics } from '../../../src/speaker/metrics.js';

const dir = new URL('../../../charts/vipcast/files/', import.meta.url);

/** The parts of a Grafana panel this test reads. */
interface Panel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly { readonly expr?: string; readonly datasource?: { readonly uid?: string } }[];
  /** A collapsed row keeps its panels here. */
  readonly panels?: readonly Panel[];
}

/** The parts of a Grafana template variable this test reads. */
interface Variable {
  readonly name?: string;
  readonly type?: string;
  readonly query?: string | { readonly query?: string };
}

/** The parts of a Grafana dashboard this test reads. */
interface Dashboard {
  readonly schemaVersion?: number;
  readonly templating?: { readonly list?: readonly Variable[] };
  readonly panels?: readonly Panel[];
}

/** One rule of a PrometheusRule group. */
interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr?: unknown;
  readonly for?: unknown;
  readonly labels?: Readonly<Record<string, unknown>>;
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/** The parts of a PrometheusRule this test reads. */
interface PrometheusRule {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly spec?: { readonly groups?: readonly { readonly name?: string; readonly rules?: readonly Rule[] }[] };
}

const dashboard = JSON.parse(readFileSync(new URL('grafana-dashboard.json', dir), 'utf8')) as Dashboard;
const rules = parse(readFileSync(new URL('alerts.yaml', dir), 'utf8')) as PrometheusRule;
const alerts = (rules.spec?.groups ?? []).flatMap((group) => group.rules ?? []).filter((rule) => rule.alert !== undefined);

/** Words of PromQL that are not metric names: aggregation operators, binary and modifier keywords, literals. */
const keywords = new Set([
  ...['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'],
  ...['and', 'or', 'unless', 'atan2', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset'],
  ...['inf', 'nan'],
]);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, range and subquery
 * brackets and the label lists of by/without/on/ignoring/group_left/group_right are blanked
 * first; of the identifiers left, one followed by `(` is a function and the keywords above are
 * operators; the rest name metrics. Grafana's `$variables` are not identifiers here.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1 ()');
  const names: string[] = [];
  for (const match of bare.matchAll(/(?<![\w.$:])[a-zA-Z_:][a-zA-Z0-9_:]*(?=(\s*)(.?))/g)) {
    const [name, , next] = match;
    if (next === '(' || keywords.has(name.toLowerCase())) continue;
    names.push(name);
  }
  return names;
}

/** The metric a Grafana `label_values(selector, label)` query reads, if it is one. */
function labelValuesMetric(query: string): string | undefined {
  return /^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(query)?.[1];
}

/** Every family (name → TYPE) the speaker, the controller and the control-plane agent write, with every optional source present. */
async function readFamilies(): Promise<Map<string, string>> {
  const speaker = createSpeakerMetrics({
    counts: () => ({ layer2Elections: 0, leaseWriteFailures: 0, layer2RequestsAnswered: 0 }),
    announced: () => ({ layer2: 0, bgp: 0 }),
    layer2Frames: () => ({ answered: 0, rateLimited: 0, malformed: 0, hopLimit: 0, otherHost: 0, conflict: 0 }),
    peer: () => ({ members: 1, contacts: 1, holding: true, apiOkAgeMs: undefined, dropped: {}, declarations: 0 }),
    ipvsLooseArp: () => [],
  });
  const controller = createControllerMetrics(() => new Map<string, number>());
  const controlPlane = createControlPlaneMetrics(() => ({ leading: false, apiServerReady: false, cordoned: false, counts: { takeovers: 0, letGo: 0, released: 0, releaseFailed: 0, leaseRequestFailures: 0 } }));
  // The event-loop delay figures appear once the monitor (every 10 ms) has a sample.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const families = new Map<string, string>();
  for (const text of [await speaker.registry.metrics(), await controller.registry.metrics(), await controlPlane.metrics()]) {
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) if (name !== undefined && type !== undefined) families.set(name, type);
  }
  return families;
}

let scraped: Promise<Map<string, string>> | undefined;

/** {@link readFamilies}, read once for all the tests. */
function exportedFamilies(): Promise<Map<string, string>> {
  scraped ??= readFamilies();
  return scraped;
}

/** The names among `names` that no family writes: a histogram's `_bucket`, `_sum` and `_count` are its own. */
function unknownNames(names: Iterable<string>, families: ReadonlyMap<string, string>): string[] {
  return [...names].filter((name) => {
    if (families.has(name)) return false;
    const stem = /^(.+)_(?:bucket|sum|count)$/.exec(name)?.[1];
    return stem === undefined || families.get(stem) !== 'histogram';
  });
}

/** Every panel, those inside collapsed rows included. */
function allPanels(panels: readonly Panel[] = dashboard.panels ?? []): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** Each PromQL expression of the dashboard, with where it is. */
function dashboardExpressions(): { readonly where: string; readonly expr: string }[] {
  const exprs = allPanels().flatMap((panel) => (panel.targets ?? []).flatMap((target, i) => (target.expr === undefined ? [] : [{ where: `panel "${panel.title ?? ''}" target ${i}`, expr: target.expr }])));
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    exprs.push({ where: `variable ${variable.name ?? ''}`, expr: labelValuesMetric(query) ?? query });
  }
  return exprs;
}

/** `where: name` for each name in the expressions that no program exports. */
function missing(exprs: readonly { readonly where: string; readonly expr: string }[], families: ReadonlyMap<string, string>): string[] {
  return exprs.flatMap(({ where, expr }) => unknownNames(metricNames(expr), families).map((name) => `${where}: ${name}`));
}

describe('the metric-name reader these tests use', () => {
  it('finds the metrics of an expression, not its functions, operators, labels, strings or durations', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(vipcast_allocation_latency_seconds_bucket{instance=~"$speaker"}[$__rate_interval])))')).toEqual(['vipcast_allocation_latency_seconds_bucket']);
    expect(metricNames('sum(a) - (sum(b) or vector(0)) > 0 unless on() sum(c) > 0')).toEqual(['a', 'b', 'c']);
    expect(metricNames('vipcast_config_valid == 0 and vipcast_controller_leader==1')).toEqual(['vipcast_config_valid', 'vipcast_controller_leader']);
    expect(metricNames('sum without (mode) (x{reason="rate-limited",le="1e3"}) * on (instance) group_left (node) y offset 5m > bool 1e3')).toEqual(['x', 'y']);
    expect(metricNames('max_over_time(z[5m:30s]) / ignoring(pool) NaN')).toEqual(['z']);
  });

  it('reports names no program exports, and a histogram suffix only on a histogram', async () => {
    const families = await exportedFamilies();
    expect(unknownNames(['vipcast_allocation_latency_seconds_bucket', 'vipcast_allocation_latency_seconds_count', 'vipcast_config_valid'], families)).toEqual([]);
    expect(unknownNames(['vipcast_no_such_metric_total', 'vipcast_config_valid_sum', 'vipcast_speaker_layer2_elections_won'], families)).toEqual([
      'vipcast_no_such_metric_total',
      'vipcast_config_valid_sum',
      'vipcast_speaker_layer2_elections_won',
    ]);
    expect(missing([{ where: 'test', expr: 'rate(vipcast_speaker_bogus_total[5m])' }], families)).toEqual(['test: vipcast_speaker_bogus_total']);
  });
});

describe('the Grafana dashboard', () => {
  it('names only metrics the speaker and the controller export', async () => {
    const exprs = dashboardExpressions();
    expect(exprs.length).toBeGreaterThan(30);
    expect(exprs.filter(({ expr }) => expr.includes('__name__'))).toEqual([]);
    expect(missing(exprs, await exportedFamilies())).toEqual([]);
  });

  it('reads every panel from the data source chosen in its variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating?.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const panels = allPanels().filter((panel) => panel.type !== 'row');
    expect(panels.filter((panel) => panel.datasource?.uid !== '${datasource}').map((panel) => panel.title)).toEqual([]);
    expect(panels.filter((panel) => (panel.targets ?? []).length === 0 || panel.targets?.some((t) => t.datasource?.uid !== '${datasource}')).map((panel) => panel.title)).toEqual([]);
    const ids = allPanels().map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the PrometheusRule', () => {
  it('is a monitoring.coreos.com/v1 PrometheusRule that names only exported metrics', async () => {
    expect([rules.apiVersion, rules.kind]).toEqual(['monitoring.coreos.com/v1', 'PrometheusRule']);
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    const exprs = alerts.map((rule) => ({ where: `alert ${rule.alert ?? ''}`, expr: typeof rule.expr === 'string' ? rule.expr : '' }));
    expect(missing(exprs, await exportedFamilies())).toEqual([]);
  });

  it.each(alerts.map((rule): [string, Rule] => [rule.alert ?? '', rule]))('%s has an expression, a for, a severity and a summary', (_, rule) => {
    const expr = typeof rule.expr === 'string' ? rule.expr : '';
    expect(metricNames(expr).length).toBeGreaterThan(0);
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(['critical', 'warning', 'info']).toContain(rule.labels?.['severity']);
    for (const annotation of ['summary', 'description']) {
      const text = rule.annotations?.[annotation];
      expect(typeof text === 'string' && text.trim() !== '', annotation).toBe(true);
    }
  });
});
