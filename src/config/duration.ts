// Durations written as Go does (`90s`, `1m30s`, `500ms`), as MetalLB's hold-time and
// keepalive-time and kube-vip's flags are: the one duration grammar of the config and of
// every command's flags.

const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration string into milliseconds, or returns undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const part = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < trimmed.length) {
    part.lastIndex = index;
    const match = part.exec(trimmed);
    if (!match) return undefined;
    total += Number(match[1]) * (unitMs[match[2] ?? ''] ?? NaN);
    index = part.lastIndex;
  }
  return index === 0 || !Number.isFinite(total) ? undefined : total;
}

/**
 * A duration given on the command line, in whole milliseconds: a Go duration (`500ms`, `15s`,
 * `1m30s`) or a plain number of seconds (`2`). Throws an error naming the text otherwise,
 * and for a non-zero duration shorter than a millisecond.
 */
export function parseFlagDuration(text: string): number {
  const trimmed = text.trim();
  const ms = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(trimmed) ? Number(trimmed) * 1000 : parseDuration(trimmed);
  if (ms === undefined) throw new Error(`"${text}" is not a duration (e.g. 500ms, 15s, 1m30s)`);
  const rounded = Math.round(ms);
  if (rounded === 0 && ms > 0) throw new Error(`"${text}" is shorter than a millisecond`);
  return rounded;
}
