// BGP community text forms: standard `65000:100` (RFC 1997), large `large:1:2:3`
// (RFC 8092), and the well-known names of RFC 1997 and RFC 3765.
import type { Community } from './types.js';

/** Well-known communities that may be written by name (RFC 1997 and RFC 3765). */
export const wellKnownCommunities: ReadonlyMap<string, Community> = new Map([
  ['no-export', { kind: 'standard', value: 0xffffff01 }],
  ['no-advertise', { kind: 'standard', value: 0xffffff02 }],
  ['no-export-subconfed', { kind: 'standard', value: 0xffffff03 }],
  ['no-peer', { kind: 'standard', value: 0xffffff04 }],
]);

/** Parses a literal community, or returns a sentence saying why it is not one. */
export function parseCommunity(text: string): Community | string {
  const parts = text.split(':');
  if (parts[0]?.toLowerCase() === 'large') {
    const numbers = parts.slice(1).map((p) => parseUnsigned(p, 0xffffffff));
    if (numbers.length !== 3 || numbers.some((n) => n === undefined)) {
      return `"${text}" is not a large community: write large:GLOBAL:LOCAL1:LOCAL2 with three numbers from 0 to 4294967295`;
    }
    const [global, local1, local2] = numbers as [number, number, number];
    return { kind: 'large', global, local1, local2 };
  }
  const numbers = parts.map((p) => parseUnsigned(p, 0xffff));
  if (numbers.length !== 2 || numbers.some((n) => n === undefined)) {
    return `"${text}" is not a community: write AS:VALUE with two numbers from 0 to 65535, or large:GLOBAL:LOCAL1:LOCAL2`;
  }
  const [high, low] = numbers as [number, number];
  return { kind: 'standard', value: high * 0x10000 + low };
}

function parseUnsigned(text: string, max: number): number | undefined {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value <= max ? value : undefined;
}

/** Writes a community in the form parseCommunity reads. */
export function formatCommunity(community: Community): string {
  if (community.kind === 'large') return `large:${community.global}:${community.local1}:${community.local2}`;
  return `${Math.floor(community.value / 0x10000)}:${community.value % 0x10000}`;
}
