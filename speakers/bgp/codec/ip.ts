// BGP's use of the shared address text forms (speakers/common/ip-text.ts): parsing that
// fails with the codec's own error.
import type { Buffer } from 'node:buffer';
import { tryParseIpv4, tryParseIpv6 } from '../../common/ip-text.js';
import { BgpEncodeError } from './errors.js';

/** Parses an address of the given family, throwing BgpEncodeError on bad text (RFC 4271 section 4.3). */
export function familyAddressBytes(family: 'ipv4' | 'ipv6', text: string): Buffer {
  const b = family === 'ipv4' ? tryParseIpv4(text) : tryParseIpv6(text);
  if (!b) throw new BgpEncodeError(`not an ${family} address: ${JSON.stringify(text)}`);
  return b;
}
