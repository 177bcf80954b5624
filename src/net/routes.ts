// Which interface the kernel routes an address through, from /proc/net/route and
// /proc/net/ipv6_route (longest prefix wins, then lowest metric). Used to pick the interface
// a layer-2 VIP is announced on when its pool names none. Parsing is pure; reading is not.
import { readFileSync } from 'node:fs';
import { parseAddress } from './address.js';

/** One route: destination prefix, its length, metric and outgoing interface. */
export interface RouteEntry {
  readonly family: 'IPv4' | 'IPv6';
  readonly destination: bigint;
  readonly prefixLength: number;
  readonly metric: number;
  readonly interfaceName: string;
}

/** Parses /proc/net/route (IPv4: addresses and masks as little-endian hex). */
export function parseIpv4Routes(text: string): RouteEntry[] {
  const routes: RouteEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[0] === undefined) continue;
    const destination = leHex32(f[1] ?? '');
    const mask = leHex32(f[7] ?? '');
    const flags = parseInt(f[3] ?? '0', 16);
    if (destination === undefined || mask === undefined || (flags & 1) === 0) continue; // RTF_UP
    routes.push({ family: 'IPv4', destination: BigInt(destination), prefixLength: popcount32(mask), metric: Number(f[6]), interfaceName: f[0] });
  }
  return routes;
}

/** Parses /proc/net/ipv6_route (big-endian hex, one route per line, interface last). */
export function parseIpv6Routes(text: string): RouteEntry[] {
  const routes: RouteEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const flags = parseInt(f[8] ?? '0', 16);
    const interfaceName = f[9] ?? '';
    // Skip routes that are not up, and the reject routes the kernel lists on lo.
    if ((flags & 0x1) === 0 || (flags & 0x200) !== 0) continue;
    routes.push({ family: 'IPv6', destination: BigInt(`0x${f[0] ?? '0'}`), prefixLength: parseInt(f[1] ?? '0', 16), metric: parseInt(f[5] ?? '0', 16), interfaceName });
  }
  return routes;
}

/** The interface of the most specific route covering `address`, ignoring `lo`. */
export function routeInterface(routes: readonly RouteEntry[], address: string): string | undefined {
  const parsed = parseAddress(address);
  if (!parsed) return undefined;
  const bits = parsed.family === 'IPv4' ? 32 : 128;
  let best: RouteEntry | undefined;
  for (const route of routes) {
    if (route.family !== parsed.family || route.interfaceName === 'lo') continue;
    const shift = BigInt(bits - route.prefixLength);
    if (route.prefixLength > 0 && parsed.value >> shift !== route.destination >> shift) continue;
    if (!best || route.prefixLength > best.prefixLength || (route.prefixLength === best.prefixLength && route.metric < best.metric)) best = route;
  }
  return best?.interfaceName;
}

/** Reads the kernel's routes of this network namespace. */
export function readKernelRoutes(): RouteEntry[] {
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  return [...parseIpv4Routes(read('/proc/net/route')), ...parseIpv6Routes(read('/proc/net/ipv6_route'))];
}

/** Whether an interface exists and is up with carrier (operstate up, or unknown as on lo/tun). */
export function linkIsUp(interfaceName: string): boolean {
  if (!/^[\w.@-]{1,15}$/.test(interfaceName)) return false;
  try {
    const state = readFileSync(`/sys/class/net/${interfaceName}/operstate`, 'utf8').trim();
    return state === 'up' || state === 'unknown';
  } catch {
    return false;
  }
}

function leHex32(hex: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const n = parseInt(hex, 16);
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}

function popcount32(n: number): number {
  let count = 0;
  for (let v = n >>> 0; v !== 0; v >>>= 1) count += v & 1;
  return count;
}
