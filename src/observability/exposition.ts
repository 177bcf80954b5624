// The Prometheus text exposition format, version 0.0.4 ("Text format details" in
// https://prometheus.io/docs/instrumenting/exposition_formats/): per metric family one
// `# HELP` line and one `# TYPE` line, then one line per sample, `name{label="value",...} value`,
// each ending in a line feed. Pure functions over plain values; no module state.

/** The Content-Type of a scrape answer in this format. */
export const expositionContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** The family types we write (the format also has `summary` and `untyped`). */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One sample line. */
export interface Sample {
  /** The family's name, with `_bucket`, `_sum` or `_count` appended for a histogram's samples. */
  readonly name: string;
  /** Label names and values, written in this order. */
  readonly labels: readonly (readonly [name: string, value: string])[];
  /** The value; NaN and the infinities are allowed. */
  readonly value: number;
}

/** A metric family as one scrape reports it. */
export interface MetricFamily {
  /** The name on its HELP and TYPE lines. */
  readonly name: string;
  /** What it measures (any text; escaped when written). */
  readonly help: string;
  /** Its TYPE. */
  readonly type: MetricType;
  /** Its samples; a family may have none yet (a labelled metric before its first use). */
  readonly samples: readonly Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `name` may name a metric: `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
export function isMetricName(name: string): boolean {
  return metricName.test(name);
}

/** Whether `name` may name a label: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with the reserved `__`. */
export function isLabelName(name: string): boolean {
  return labelName.test(name) && !name.startsWith('__');
}

/** Escapes a HELP text: backslash as `\\` and line feed as `\n`. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Escapes a label value for its double quotes: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Writes a sample value as the format spells it: `NaN`, `+Inf`, `-Inf`, otherwise the shortest decimal that reads back exactly. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Writes one sample line, without its line feed. */
export function encodeSample(sample: Sample): string {
  if (sample.labels.length === 0) return `${sample.name} ${formatValue(sample.value)}`;
  const labels = sample.labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',');
  return `${sample.name}{${labels}} ${formatValue(sample.value)}`;
}

/** Writes a family: its HELP and TYPE lines, then its samples, each line ending in a line feed. */
export function encodeFamily(family: MetricFamily): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`];
  for (const sample of family.samples) lines.push(encodeSample(sample));
  return `${lines.join('\n')}\n`;
}
