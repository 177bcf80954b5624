// Lists whose entries must differ. MetalLB v0.12 refused a config with the same
// advertisement or community twice, the same pool name or the same peer; vipcast refuses
// a repeat in every list of the config, since a repeat is always a copy-paste slip.
import type { Field, Reader } from './yaml-reader.js';

/** One entry of a list: where it is written, and what it says once read. */
export interface ListEntry<T> {
  readonly field: Field;
  readonly value: T;
}

/**
 * Reports each entry equal to an earlier one (by `identity`) at the later entry, saying
 * where the first is; returns the entries with the repeats left out.
 */
export function refuseRepeats<T>(
  r: Reader,
  entries: readonly ListEntry<T>[],
  identity: (value: T) => string,
  describe: (value: T) => string,
): ListEntry<T>[] {
  const first = new Map<string, string>();
  const kept: ListEntry<T>[] = [];
  for (const entry of entries) {
    const id = identity(entry.value);
    const earlier = first.get(id);
    if (earlier !== undefined) {
      r.error(entry.field, `${describe(entry.value)} is listed twice (also at ${earlier})`);
      continue;
    }
    first.set(id, entry.field.path);
    kept.push(entry);
  }
  return kept;
}

/** A canonical text for plain data: object keys sorted, so that key order does not count. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
