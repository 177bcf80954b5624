// A strict reader of the Prometheus text format 0.0.4 for tests, written from the format's
// description: it returns the families of a scrape answer, or throws naming the first line
// that breaks a rule (a sample without HELP and TYPE, a family given twice or split up,
// histogram buckets that are not cumulative or do not end at +Inf equal to _count).

/** One sample as read back, label values unescaped. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One family as read back. */
export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly samples: ParsedSample[];
}

const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const sampleLine = new RegExp(`^(${name})(?:\\{(.*)\\})? (NaN|[+-]Inf|-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)$`);
const labelPair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;

/** Reads the labels between the braces of a sample line. */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const match = labelPair.exec(rest);
    if (!match?.[1] || match[2] === undefined) throw new Error(`bad labels in: ${line}`);
    if (match[1] in labels) throw new Error(`label ${match[1]} twice in: ${line}`);
    labels[match[1]] = match[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(match[0].length);
  }
  return labels;
}

/** The value as the format spells it. */
function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** Reads a whole scrape answer; throws on the first rule it breaks. */
export function parseExposition(text: string): ParsedFamily[] {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the last line does not end in a line feed');
  const families = new Map<string, { help?: string; type?: string; samples: ParsedSample[] }>();
  const order: string[] = [];
  let current: string | undefined;
  const open = (family: string, line: string): { help?: string; type?: string; samples: ParsedSample[] } => {
    let entry = families.get(family);
    if (entry === undefined) {
      entry = { samples: [] };
      families.set(family, entry);
      order.push(family);
    } else if (current !== family) throw new Error(`family ${family} is not one group: ${line}`);
    current = family;
    return entry;
  };
  for (const line of text.split('\n').slice(0, -1)) {
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment?.[1] && comment[2] !== undefined && comment[3] !== undefined) {
      const entry = open(comment[2], line);
      if (entry.samples.length > 0) throw new Error(`${comment[1]} after samples: ${line}`);
      if (comment[1] === 'HELP') {
        if (entry.help !== undefined) throw new Error(`HELP twice: ${line}`);
        entry.help = comment[3];
      } else {
        if (entry.type !== undefined) throw new Error(`TYPE twice: ${line}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(comment[3])) throw new Error(`unknown TYPE: ${line}`);
        entry.type = comment[3];
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = sampleLine.exec(line);
    if (!sample?.[1] || sample[3] === undefined) throw new Error(`not a sample line: ${line}`);
    const sampleName = sample[1];
    const stem = sampleName.replace(/_(bucket|sum|count)$/, '');
    const family = families.get(sampleName)?.type !== undefined ? sampleName : families.get(stem)?.type === 'histogram' ? stem : sampleName;
    const entry = open(family, line);
    if (entry.help === undefined || entry.type === undefined) throw new Error(`sample before its family's HELP and TYPE: ${line}`);
    entry.samples.push({ name: sampleName, labels: parseLabels(sample[2] ?? '', line), value: parseValue(sample[3]) });
  }
  const parsed = order.map((family) => {
    const entry = families.get(family);
    if (entry?.help === undefined || entry.type === undefined) throw new Error(`family ${family} lacks HELP or TYPE`);
    return { name: family, help: entry.help, type: entry.type, samples: entry.samples };
  });
  for (const family of parsed) if (family.type === 'histogram') checkHistogram(family);
  return parsed;
}

/** Checks each series of a histogram: cumulative buckets ending at +Inf, which equals _count; a _sum. */
function checkHistogram(family: ParsedFamily): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push([parseValue(le), sample.value]);
    } else if (sample.name === `${family.name}_sum`) entry.sum = sample.value;
    else if (sample.name === `${family.name}_count`) entry.count = sample.value;
    else throw new Error(`${family.name}: sample ${sample.name} is not a histogram's`);
  }
  for (const [key, entry] of series) {
    const where = `${family.name}${key}`;
    if (entry.sum === undefined || entry.count === undefined) throw new Error(`${where}: no _sum or _count`);
    entry.buckets.forEach(([bound, count], i) => {
      const previous = entry.buckets[i - 1];
      if (previous && (bound <= previous[0] || count < previous[1])) throw new Error(`${where}: buckets not increasing and cumulative at le=${bound}`);
    });
    const last = entry.buckets.at(-1);
    if (last?.[0] !== Infinity) throw new Error(`${where}: the last bucket is not le="+Inf"`);
    if (last[1] !== entry.count) throw new Error(`${where}: le="+Inf" is ${last[1]}, _count ${entry.count}`);
  }
}
