// IPv4 and IPv6 addresses between their text forms and their wire bytes: the one parser
// and formatter of address text, used by every codec in speakers/ and by src/ (address
// arithmetic, netlink). Codecs take addresses as text and decode to canonical text (dotted
// quad; RFC 5952 for IPv6), so callers can compare them with === and use them as Map keys.
// The spellings accepted are those node:net's isIP accepts, without a zone: dotted quads
// without leading zeros, and RFC 4291 section 2.2's IPv6 forms.
import { Buffer } from 'node:buffer';

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Parses a dotted-quad IPv4 address (no leading zeros) into 4 bytes; throws RangeError otherwise. */
export function parseIpv4(text: string): Buffer {
  const bytes = tryParseIpv4(text);
  if (!bytes) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return bytes;
}

/** Formats 4 bytes as a dotted-quad IPv4 address. */
export function formatIpv4(bytes: Uint8Array): string {
  if (bytes.length !== 4) throw new RangeError(`an IPv4 address has 4 bytes, not ${bytes.length}`);
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** Parses an IPv6 address (RFC 4291 section 2.2 text forms, no zone) into 16 bytes; throws RangeError otherwise. */
export function parseIpv6(text: string): Buffer {
  const bytes = tryParseIpv6(text);
  if (!bytes) throw new RangeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  return bytes;
}

/** Formats 16 bytes as an IPv6 address in the canonical text form of RFC 5952 section 4. */
export function formatIpv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`an IPv6 address has 16 bytes, not ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952 4.2: the longest run of two or more zero groups becomes "::", the first on a tie.
  let runStart = -1;
  let runLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > runLength) {
      runStart = i;
      runLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (runStart < 0) return hex.join(':');
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLength).join(':')}`;
}

/** Parses a dotted-quad IPv4 address (no leading zeros) into 4 bytes, or returns undefined. */
export function tryParseIpv4(text: string): Buffer | undefined {
  const bytes = Buffer.alloc(4);
  return writeIpv4(text, bytes, 0, 4) ? bytes : undefined;
}

/**
 * Writes the first `n` octets of a dotted-quad IPv4 address into `out` at `at` without
 * allocating (a BGP NLRI carries only the prefix's octets); returns false when the text is
 * not an address, having written nothing the caller may use. No leading zeros.
 */
export function writeIpv4(text: string, out: Uint8Array, at: number, n: number): boolean {
  let octet = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i <= text.length; i += 1) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255 || octet > 3) return false;
      if (octet < n) out[at + octet] = value;
      octet += 1;
      value = 0;
      digits = 0;
      leadingZero = false;
    } else if (c >= 48 && c <= 57) {
      if (leadingZero) return false;
      if (digits === 0 && c === 48) leadingZero = true;
      value = value * 10 + (c - 48);
      digits += 1;
      if (digits > 3) return false;
    } else {
      return false;
    }
  }
  return octet === 4;
}

/** Parses an IPv4 or IPv6 address (no zone, no prefix) into 4 or 16 bytes, or returns undefined. */
export function tryParseIp(text: string): Buffer | undefined {
  return text.includes(':') ? tryParseIpv6(text) : tryParseIpv4(text);
}

/** Parses an IPv4 or IPv6 address into 4 or 16 bytes; throws RangeError otherwise. */
export function parseIp(text: string): Buffer {
  const bytes = tryParseIp(text);
  if (!bytes) throw new RangeError(`not an IPv4 or IPv6 address: ${JSON.stringify(text)}`);
  return bytes;
}

/** Parses an IPv6 address (RFC 4291 section 2.2 text forms, no zone) into 16 bytes, or returns undefined. */
export function tryParseIpv6(text: string): Buffer | undefined {
  // A trailing dotted quad (RFC 4291 2.2 form 3) stands for the last two groups.
  let hexText = text;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    const v4 = tryParseIpv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    hexText = `${text.slice(0, lastColon + 1)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
  }
  const halves = hexText.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const groups =
    halves.length === 2
      ? head.length + tail.length <= 7
        ? [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
        : undefined
      : head.length === 8
        ? head
        : undefined;
  if (!groups) return undefined;
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  for (const group of text.split(':')) {
    if (!HEX_GROUP.test(group)) return undefined;
    groups.push(parseInt(group, 16));
  }
  return groups;
}
