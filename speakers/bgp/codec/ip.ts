// BGP's use of the shared address text forms: parsing that fails with the codec's own error.
import type { Buffer } from 'node:buffer';
import { tryParseIpv4, tryParseIpv6 } from '../../common/ip-text.js';
import { BgpEncodeError } from './errors.js';

/** Parses an address of the given family, throwing BgpEncodeError on bad text (RFC 4271 section 4.3). */
export function addressBytes(family: 'ipv4' | 'ipv6', text: string): Buffer {
  const b = family === 'ipv4' ? tryParseIpv4(text) : tryParseIpv6(text);
  if (!b) throw new BgpEncodeError(`not an ${family} address: ${JSON.stringify(text)}`);
  return b;
}

/**
 * Writes the first `n` octets of a dotted-quad IPv4 address into `out` at `at` without
 * allocating; returns false (writing nothing useful) when the text is not one, so the caller
 * can fall back to addressBytes for the error. Same rules as tryParseIpv4: no leading zeros.
 */
export function writeIpv4Prefix(text: string, out: Buffer, at: number, n: number): boolean {
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
