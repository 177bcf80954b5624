// The `bfd-profiles` section. vipcast runs single-hop BFD (RFC 5881) in active mode, without
// echo: a profile carries the three timers of RFC 5880 section 6.8.1. MetalLB's other keys
// are accepted only at the values that mean exactly that, and refused otherwise, so that a
// profile never asks for behaviour the speakers do not have.
import type { BfdProfile } from './types.js';
import type { Field, Reader } from './yaml-reader.js';

/** The keys of a profile's settings as each format spells them. */
export type BfdKeys = Readonly<
  Record<'receiveInterval' | 'transmitInterval' | 'detectMultiplier' | 'echoInterval' | 'echoMode' | 'passiveMode' | 'minimumTtl', string>
>;

const kebabKeys: BfdKeys = {
  receiveInterval: 'receive-interval',
  transmitInterval: 'transmit-interval',
  detectMultiplier: 'detect-multiplier',
  echoInterval: 'echo-interval',
  echoMode: 'echo-mode',
  passiveMode: 'passive-mode',
  minimumTtl: 'minimum-ttl',
};

/** MetalLB's BFDProfile spec spells them in camelCase. */
export const camelBfdKeys: BfdKeys = {
  receiveInterval: 'receiveInterval',
  transmitInterval: 'transmitInterval',
  detectMultiplier: 'detectMultiplier',
  echoInterval: 'echoInterval',
  echoMode: 'echoMode',
  passiveMode: 'passiveMode',
  minimumTtl: 'minimumTtl',
};

/** MetalLB's (and FRR's) defaults, in milliseconds where a time. */
const defaults = { interval: 300, detectMultiplier: 3, minimumTtl: 254 } as const;

/** Reads `bfd-profiles`: names unique, timers in FRR's accepted ranges. */
export function readBfdProfiles(r: Reader, field: Field): BfdProfile[] {
  const out: BfdProfile[] = [];
  const seen = new Map<string, string>();
  for (const item of r.list(field, 'bfd-profiles')) {
    const entries = r.map(item, ['name', ...Object.values(kebabKeys)], 'a BFD profile');
    if (!entries) continue;
    const nameField = entries.get('name');
    const name = nameField && r.string(nameField, 'name');
    if (!nameField) r.error(item, 'a BFD profile needs a "name"');
    if (nameField && name !== undefined && seen.has(name)) {
      r.error(nameField, `BFD profile "${name}" is defined twice (also at ${seen.get(name)})`);
    }
    const profile = readBfdSettings(r, entries, name ?? '', kebabKeys);
    if (name !== undefined && !seen.has(name)) {
      seen.set(name, item.path);
      out.push(profile);
    }
  }
  return out;
}

/** Reads a profile's timers (in FRR's accepted ranges) and refuses what vipcast does not do. */
export function readBfdSettings(r: Reader, entries: ReadonlyMap<string, Field>, name: string, keys: BfdKeys): BfdProfile {
  const number = (key: string, min: number, max: number, fallback: number): number => {
    const f = entries.get(key);
    return (f && r.integer(f, key, min, max)) ?? fallback;
  };
  const profile: BfdProfile = {
    name,
    transmitInterval: number(keys.transmitInterval, 10, 60_000, defaults.interval),
    receiveInterval: number(keys.receiveInterval, 10, 60_000, defaults.interval),
    detectMultiplier: number(keys.detectMultiplier, 2, 255, defaults.detectMultiplier),
  };
  refuseUnimplemented(r, entries, keys);
  return profile;
}

/**
 * Echo mode, passive mode and multi-hop TTLs: the harmless values pass (echo mode and
 * passive mode false, minimum TTL 254 as MetalLB's default or 255), an echo interval
 * passes with a warning since echo is never on (MetalLB's documented examples set one
 * beside echo mode false, so refusing it would refuse them), and anything else is an error.
 */
function refuseUnimplemented(r: Reader, entries: ReadonlyMap<string, Field>, keys: BfdKeys): void {
  const echoMode = entries.get(keys.echoMode);
  if (echoMode && r.boolean(echoMode, keys.echoMode) === true) {
    r.error(echoMode, `${keys.echoMode}: true asks for BFD echo packets (RFC 5880 section 6.4), which vipcast does not implement; remove it or write false`);
  }
  const passive = entries.get(keys.passiveMode);
  if (passive && r.boolean(passive, keys.passiveMode) === true) {
    r.error(passive, `${keys.passiveMode}: true asks the speakers to wait for the router to send first (RFC 5880 section 6.1), which vipcast does not implement; remove it or write false`);
  }
  const echoInterval = entries.get(keys.echoInterval);
  if (echoInterval && r.integer(echoInterval, keys.echoInterval, 10, 60_000) !== undefined) {
    r.warn(echoInterval, `${keys.echoInterval} has no effect: vipcast does not implement BFD echo mode`);
  }
  const ttl = entries.get(keys.minimumTtl);
  const minimumTtl = ttl && r.integer(ttl, keys.minimumTtl, 1, 255);
  if (ttl && minimumTtl !== undefined && minimumTtl < defaults.minimumTtl) {
    r.error(ttl, `${keys.minimumTtl} ${minimumTtl} is for multi-hop BFD; vipcast implements single-hop BFD only, which sends with TTL 255 and accepts only TTL 255 (RFC 5881 section 5); remove it or write 254`);
  }
}
