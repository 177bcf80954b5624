// Prometheus metrics kept by this process and written at each scrape in the text format
// (exposition.ts). A Registry holds collectors; Counter, Gauge and Histogram are the ones the
// programs update, each one family with a series per combination of label values. The
// process and Node.js metrics are in process-metrics.ts. Why we have our own: ADR 0024.
import { encodeFamily, expositionContentType, formatValue, isLabelName, isMetricName, type MetricFamily, type MetricType, type Sample } from './exposition.js';

/** Label values by label name; a series is given every label its metric declares. */
export type Labels<L extends string> = Readonly<Record<L, string>>;

/** Something that reports metric families at each scrape. */
export interface Collector {
  /** Every family and sample name it may write; none may be taken twice in a registry. */
  readonly names: readonly string[];
  /** Reads the current values. */
  families(): readonly MetricFamily[] | Promise<readonly MetricFamily[]>;
}

/** What a Counter or Gauge is created with. */
export interface MetricOptions<L extends string> {
  /** The family name, `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  readonly name: string;
  /** What it measures, for the HELP line. */
  readonly help: string;
  /** Its label names. Without any, the metric has one series, shown at 0 from the start. */
  readonly labelNames?: readonly L[];
  /** Called at each scrape before the metric is read, to bring it up to date. */
  readonly collect?: () => void | Promise<void>;
}

/** What a Histogram is created with. */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Upper bounds of the buckets, increasing and finite; the `+Inf` bucket is always added. */
  readonly buckets: readonly number[];
}

type LabelPairs = readonly (readonly [string, string])[];

/** One family with a series per combination of label values, each series holding an `S`. */
abstract class Metric<L extends string, S> implements Collector {
  /** The family name. */
  readonly name: string;
  /** The family name and, for a histogram, its sample names. */
  readonly names: readonly string[];
  private readonly help: string;
  private readonly labelNames: readonly L[];
  private readonly collect: (() => void | Promise<void>) | undefined;
  private readonly series = new Map<string, { readonly labels: LabelPairs; readonly state: S }>();

  protected constructor(
    private readonly type: MetricType,
    options: MetricOptions<L>,
    suffixes: readonly string[],
    private readonly fresh: () => S,
  ) {
    const labelNames = options.labelNames ?? [];
    if (!isMetricName(options.name)) throw new Error(`"${options.name}" is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
    const bad = labelNames.find((label) => !isLabelName(label));
    if (bad !== undefined) throw new Error(`${options.name}: "${bad}" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`);
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`${options.name}: a label name is given twice in ${labelNames.join(', ')}`);
    this.name = options.name;
    this.names = [options.name, ...suffixes.map((suffix) => `${options.name}${suffix}`)];
    this.help = options.help;
    this.labelNames = labelNames;
    this.collect = options.collect;
    this.forget();
  }

  /** Runs the collect hook, then reads every series. */
  async families(): Promise<readonly MetricFamily[]> {
    await this.collect?.();
    const samples = [...this.series.values()].flatMap(({ labels, state }) => this.samples(labels, state));
    return [{ name: this.name, help: this.help, type: this.type, samples }];
  }

  /** The sample lines of one series. */
  protected abstract samples(labels: LabelPairs, state: S): Sample[];

  /** The state of the series with these labels, created on first use; throws unless they are exactly the declared ones. */
  protected at(labels: Labels<L>): S {
    const values: unknown[] = this.labelNames.map((label) => labels[label]);
    if (Object.keys(labels).length !== values.length || values.some((value) => typeof value !== 'string')) {
      throw new Error(`${this.name} takes the labels {${this.labelNames.join(', ')}}, not ${JSON.stringify(labels)}`);
    }
    const key = JSON.stringify(values);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { labels: this.labelNames.map((label) => [label, labels[label]] as const), state: this.fresh() };
      this.series.set(key, series);
    }
    return series.state;
  }

  /** Drops every series; an unlabelled metric starts again at its fresh state. */
  protected forget(): void {
    this.series.clear();
    if (this.labelNames.length === 0) this.at(noLabels());
  }
}

/** The labels of a metric that declares none. */
function noLabels<L extends string>(): Labels<L> {
  // Only ever checked against an empty list of label names: `at` throws for any other metric.
  return {} as Labels<L>;
}

/** Splits the arguments of `inc(labels, by)` / `inc(by)` and the like. */
function split<L extends string>(first: Labels<L> | number | undefined, second: number | undefined): [Labels<L>, number | undefined] {
  return typeof first === 'object' ? [first, second] : [noLabels(), first];
}

/** A count that only goes up (TYPE counter); by convention its name ends in `_total`. */
export class Counter<L extends string = never> extends Metric<L, { value: number }> {
  /** Creates it at 0; `Registry.counter` also registers it. */
  constructor(options: MetricOptions<L>) {
    super('counter', options, [], () => ({ value: 0 }));
  }

  /** Adds `by` (default 1; never negative) to the series without labels. */
  inc(by?: number): void;
  /** Adds `by` (default 1; never negative) to the series with these labels. */
  inc(labels: Labels<L>, by?: number): void;
  inc(first?: Labels<L> | number, second?: number): void {
    const [labels, by = 1] = split(first, second);
    if (!(by >= 0)) throw new Error(`${this.name}: a counter cannot go up by ${by}`);
    this.at(labels).value += by;
  }

  protected samples(labels: LabelPairs, state: { value: number }): Sample[] {
    return [{ name: this.name, labels, value: state.value }];
  }
}

/** A value that goes up and down (TYPE gauge). */
export class Gauge<L extends string = never> extends Metric<L, { value: number }> {
  /** Creates it at 0; `Registry.gauge` also registers it. */
  constructor(options: MetricOptions<L>) {
    super('gauge', options, [], () => ({ value: 0 }));
  }

  /** Sets the series without labels. */
  set(value: number): void;
  /** Sets the series with these labels. */
  set(labels: Labels<L>, value: number): void;
  set(first: Labels<L> | number, second?: number): void {
    const [labels, value = 0] = split(first, second);
    this.at(labels).value = value;
  }

  /** Adds `by` (default 1) to the series without labels. */
  inc(by?: number): void;
  /** Adds `by` (default 1) to the series with these labels. */
  inc(labels: Labels<L>, by?: number): void;
  inc(first?: Labels<L> | number, second?: number): void {
    const [labels, by = 1] = split(first, second);
    this.at(labels).value += by;
  }

  /** Subtracts `by` (default 1) from the series without labels. */
  dec(by?: number): void;
  /** Subtracts `by` (default 1) from the series with these labels. */
  dec(labels: Labels<L>, by?: number): void;
  dec(first?: Labels<L> | number, second?: number): void {
    const [labels, by = 1] = split(first, second);
    this.at(labels).value -= by;
  }

  /** Drops every labelled series (so label values no longer in use disappear); an unlabelled gauge goes back to 0. */
  reset(): void {
    this.forget();
  }

  protected samples(labels: LabelPairs, state: { value: number }): Sample[] {
    return [{ name: this.name, labels, value: state.value }];
  }
}

/** One histogram series: observations per bucket (not cumulative), their sum and count. */
interface HistogramSeries {
  readonly perBucket: number[];
  sum: number;
  count: number;
}

/**
 * Observations counted in buckets (TYPE histogram), written as cumulative
 * `name_bucket{le="bound"}` samples ending with `le="+Inf"`, then `name_sum` and `name_count`.
 */
export class Histogram<L extends string = never> extends Metric<L, HistogramSeries> {
  private readonly bounds: readonly number[];

  /** Creates it with every bucket at 0; `Registry.histogram` also registers it. */
  constructor(options: HistogramOptions<L>) {
    const bounds = [...options.buckets];
    if (bounds.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= (bounds[i - 1] ?? -Infinity)))) {
      throw new Error(`${options.name}: bucket bounds must be finite and increasing, not ${bounds.join(', ')}`);
    }
    if ((options.labelNames ?? []).some((label) => label === 'le')) throw new Error(`${options.name}: "le" is the label of a histogram's buckets`);
    super('histogram', options, ['_bucket', '_sum', '_count'], () => ({ perBucket: bounds.map(() => 0), sum: 0, count: 0 }));
    this.bounds = bounds;
  }

  /** Counts `value` in the series without labels. */
  observe(value: number): void;
  /** Counts `value` in the series with these labels. */
  observe(labels: Labels<L>, value: number): void;
  observe(first: Labels<L> | number, second?: number): void {
    const [labels, value = NaN] = split(first, second);
    if (Number.isNaN(value)) throw new Error(`${this.name}: cannot observe NaN`);
    const series = this.at(labels);
    const bucket = this.bounds.findIndex((bound) => value <= bound);
    if (bucket >= 0) series.perBucket[bucket] = (series.perBucket[bucket] ?? 0) + 1;
    series.sum += value;
    series.count += 1;
  }

  protected samples(labels: LabelPairs, state: HistogramSeries): Sample[] {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    const samples: Sample[] = this.bounds.map((bound, i) => {
      cumulative += state.perBucket[i] ?? 0;
      return { name: bucket, labels: [...labels, ['le', formatValue(bound)]], value: cumulative };
    });
    samples.push({ name: bucket, labels: [...labels, ['le', '+Inf']], value: state.count });
    samples.push({ name: `${this.name}_sum`, labels, value: state.sum });
    samples.push({ name: `${this.name}_count`, labels, value: state.count });
    return samples;
  }
}

/** The metrics one program serves on /metrics. */
export class Registry {
  /** The Content-Type of what `metrics()` returns. */
  readonly contentType = expositionContentType;
  private readonly collectors: Collector[] = [];
  private readonly taken = new Set<string>();

  /** Adds a collector; throws when it repeats a name or uses one taken already. */
  register<C extends Collector>(collector: C): C {
    const names = new Set(collector.names);
    const clash = collector.names.find((name) => this.taken.has(name));
    if (clash !== undefined) throw new Error(`a metric named ${clash} is registered already`);
    if (names.size !== collector.names.length) throw new Error(`a collector repeats a name among ${collector.names.join(', ')}`);
    for (const name of names) this.taken.add(name);
    this.collectors.push(collector);
    return collector;
  }

  /** Creates and registers a Counter. */
  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.register(new Counter(options));
  }

  /** Creates and registers a Gauge. */
  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.register(new Gauge(options));
  }

  /** Creates and registers a Histogram. */
  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.register(new Histogram(options));
  }

  /** Reads every collector, in the order they were registered, and writes the scrape answer. */
  async metrics(): Promise<string> {
    let text = '';
    for (const collector of this.collectors) {
      for (const family of await collector.families()) text += encodeFamily(family);
    }
    return text;
  }
}

/**
 * Follows an external monotonic total with a Counter. A total that goes down (its source
 * was replaced, e.g. an interface closed) is taken as the new baseline: the Counter never
 * decreases and never counts anything twice.
 */
export class CounterMirror<L extends string> {
  private readonly last = new Map<string, number>();

  /** Mirrors into `counter`. */
  constructor(private readonly counter: Counter<L>) {}

  /** Raises the Counter (with these labels, none for an unlabelled one) by how much `total` grew since the last call. */
  update(total: number, labels?: Labels<L>): void {
    const key = JSON.stringify(labels ?? {});
    const previous = this.last.get(key);
    this.last.set(key, total);
    // The first call adds the whole total (and shows a labelled series at 0 from the start).
    if (previous !== undefined && total <= previous) return;
    const by = previous === undefined ? Math.max(0, total) : total - previous;
    if (labels === undefined) this.counter.inc(by);
    else this.counter.inc(labels, by);
  }
}
