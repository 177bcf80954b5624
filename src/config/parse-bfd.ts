// The `bfd-profiles` section. vipcast runs single-hop BFD (RFC 5881) in active mode, without
// echo: a profile carries the three timers of RFC 5880 section 6.8.1. MetalLB's other keys
// are accepted only at the values that mean exactly that, and refused otherwise, so that a
// profile never asks for behaviour the speakers do not have.
import type { BfdProfile } from './types.js';
import type { Field, Reader } from './yaml-reader.js';

const bfdKeys = [
  'name', 'receive-interval', 'transmit-interval', 'detect-multiplier', 'echo-interval',
  'echo-mode', 'passive-mode', 'minimum-ttl',
] as const;

/** MetalLB's (and FRR's) defaults, in milliseconds where a time. */
const defaults = { interval: 300, detectMultiplier: 3, minimumTtl: 254 } as const;

/** Reads `bfd-profiles`: names unique, timers in FRR's accepted ranges. */
export function readBfdProfiles(r: Reader, field: Field): BfdProfile[] {
  const out: BfdProfile[] = [];
  const seen = new Map<string, string>();
  for (const item of r.list(field, 'bfd-profiles')) {
    const entries = r.map(item, bfdKeys, 'a BFD profile');
    if (!entries) continue;
    const nameField = entries.get('name');
    const name = nameField && r.string(nameField, 'name');
    if (!nameField) r.error(item, 'a BFD profile needs a "name"');
    if (nameField && name !== undefined && seen.has(name)) {
      r.error(nameField, `BFD profile "${name}" is defined twice (also at ${seen.get(name)})`);
    }
    const number = (key: string, min: number, max: number, fallback: number): number => {
      const f = entries.get(key);
      return (f && r.integer(f, key, min, max)) ?? fallback;
    };
    const profile: BfdProfile = {
      name: name ?? '',
      transmitInterval: number('transmit-interval', 10, 60_000, defaults.interval),
      receiveInterval: number('receive-interval', 10, 60_000, defaults.interval),
      detectMultiplier: number('detect-multiplier', 2, 255, defaults.detectMultiplier),
    };
    refuseUnimplemented(r, entries);
    if (name !== undefined && !seen.has(name)) {
      seen.set(name, item.path);
      out.push(profile);
    }
  }
  return out;
}

/**
 * Echo mode, passive mode and multi-hop TTLs: the harmless values pass (echo-mode and
 * passive-mode false, minimum-ttl 254 as MetalLB's default or 255), an echo-interval
 * passes with a warning since echo is never on (MetalLB's documented ConfigMap example sets
 * one beside echo-mode false, so refusing it would refuse that config), and anything else is
 * an error.
 */
function refuseUnimplemented(r: Reader, entries: ReadonlyMap<string, Field>): void {
  const echoMode = entries.get('echo-mode');
  if (echoMode && r.boolean(echoMode, 'echo-mode') === true) {
    r.error(echoMode, 'echo-mode: true asks for BFD echo packets (RFC 5880 section 6.4), which vipcast does not implement; remove it or write false');
  }
  const passive = entries.get('passive-mode');
  if (passive && r.boolean(passive, 'passive-mode') === true) {
    r.error(passive, 'passive-mode: true asks the speakers to wait for the router to send first (RFC 5880 section 6.1), which vipcast does not implement; remove it or write false');
  }
  const echoInterval = entries.get('echo-interval');
  if (echoInterval && r.integer(echoInterval, 'echo-interval', 10, 60_000) !== undefined) {
    r.warn(echoInterval, 'echo-interval has no effect: vipcast does not implement BFD echo mode');
  }
  const ttl = entries.get('minimum-ttl');
  const minimumTtl = ttl && r.integer(ttl, 'minimum-ttl', 1, 255);
  if (ttl && minimumTtl !== undefined && minimumTtl < defaults.minimumTtl) {
    r.error(ttl, `minimum-ttl ${minimumTtl} is for multi-hop BFD; vipcast implements single-hop BFD only, which sends with TTL 255 and accepts only TTL 255 (RFC 5881 section 5); remove it or write 254`);
  }
}
