// The `peers` section of the config.
import { parseAddress } from '../net/address.js';
import type { BfdProfile, Peer, Pool } from './types.js';
import { parseDuration } from './duration.js';
import { readSelectors } from './selector.js';
import { refuseRepeats } from './duplicates.js';
import { didYouMean } from './suggest.js';
import type { Field, Reader } from './yaml-reader.js';

const peerKeys = [
  'peer-address', 'peer-asn', 'my-asn', 'peer-port', 'hold-time', 'keepalive-time', 'router-id',
  'source-address', 'node-selectors', 'password', 'ebgp-multihop', 'bfd-profile', 'pools',
] as const;

const maxAsn = 4_294_967_295;
/** Linux's TCP_MD5SIG_MAXKEYLEN: the longest TCP MD5 key the kernel accepts. */
const maxPasswordLength = 80;

/** Reads `peers`, checking references to BFD profiles and pools. */
export function readPeers(r: Reader, field: Field, bfdProfiles: readonly BfdProfile[], pools: readonly Pool[]): Peer[] {
  const out: Peer[] = [];
  const seen = new Map<string, string>();
  for (const item of r.list(field, 'peers')) {
    const peer = readPeer(r, item, bfdProfiles, pools);
    if (!peer) continue;
    const identity = `${peer.peerAddress}|${peer.peerPort}|${peer.sourceAddress ?? ''}|${JSON.stringify(peer.nodeSelectors)}`;
    const earlier = seen.get(identity);
    if (earlier !== undefined) {
      r.error(item, `duplicate peer: ${earlier} already peers with ${peer.peerAddress} port ${peer.peerPort} from the same nodes`);
      continue;
    }
    seen.set(identity, item.path);
    out.push(peer);
  }
  return out;
}

function readPeer(r: Reader, item: Field, bfdProfiles: readonly BfdProfile[], pools: readonly Pool[]): Peer | undefined {
  const entries = r.map(item, peerKeys, 'a peer');
  if (!entries) return undefined;
  const errorsBefore = r.errors.length;
  const required = (key: string): Field | undefined => {
    const f = entries.get(key);
    if (!f) r.error(item, `a peer needs "${key}"`);
    return f;
  };

  const addressField = required('peer-address');
  const peerAddress = addressField && readIp(r, addressField, 'peer-address');
  const asnField = required('peer-asn');
  const peerAsn = asnField && r.integer(asnField, 'peer-asn', 1, maxAsn);
  const myAsnField = required('my-asn');
  const myAsn = myAsnField && r.integer(myAsnField, 'my-asn', 1, maxAsn);
  const portField = entries.get('peer-port');
  const peerPort = (portField && r.integer(portField, 'peer-port', 1, 65_535)) ?? 179;

  const { holdTime, keepaliveTime } = readTimers(r, entries.get('hold-time'), entries.get('keepalive-time'));

  const routerIdField = entries.get('router-id');
  const routerId = routerIdField && readIp(r, routerIdField, 'router-id');
  if (routerIdField && routerId !== undefined && parseAddress(routerId)?.family !== 'IPv4') {
    r.error(routerIdField, `router-id "${routerId}" must be an IPv4 address (RFC 4271 4.2: a 4-octet BGP Identifier)`);
  }
  const sourceField = entries.get('source-address');
  const sourceAddress = sourceField && readIp(r, sourceField, 'source-address');
  if (sourceField && sourceAddress && peerAddress && parseAddress(sourceAddress)?.family !== parseAddress(peerAddress)?.family) {
    r.error(sourceField, `source-address ${sourceAddress} is not of the same family as peer-address ${peerAddress}`);
  }

  const selectorsField = entries.get('node-selectors');
  const nodeSelectors = selectorsField ? readSelectors(r, selectorsField, 'node-selectors') : [];

  const passwordField = entries.get('password');
  const password = passwordField && r.string(passwordField, 'password');
  if (passwordField && password !== undefined) checkPassword(r, passwordField, password, 'password');

  const multihopField = entries.get('ebgp-multihop');
  const ebgpMultihop = (multihopField && r.boolean(multihopField, 'ebgp-multihop')) ?? false;
  if (multihopField && ebgpMultihop && peerAsn !== undefined && peerAsn === myAsn) {
    r.error(multihopField, 'ebgp-multihop is set on an iBGP peer (peer-asn equals my-asn)');
  }

  const bfdField = entries.get('bfd-profile');
  const bfdProfile = bfdField && r.string(bfdField, 'bfd-profile');
  if (bfdField && bfdProfile !== undefined && !bfdProfiles.some((p) => p.name === bfdProfile)) {
    const names = bfdProfiles.map((p) => p.name);
    r.error(bfdField, `bfd-profile "${bfdProfile}" is not defined in bfd-profiles${didYouMean(bfdProfile, names)}`);
  }

  const poolsField = entries.get('pools');
  const poolItems = poolsField ? r.stringItems(poolsField, 'pools') : [];
  const poolNames = refuseRepeats(r, poolItems, (name) => name, (name) => `pool "${name}"`).map((item) => item.value);
  for (const { field: at, value: name } of poolItems) {
    const pool = pools.find((p) => p.name === name);
    if (!pool) r.error(at, `pool "${name}" is not defined in address-pools${didYouMean(name, pools.map((p) => p.name))}`);
    else if (pool.protocol !== 'bgp') r.error(at, `pool "${name}" is a ${pool.protocol} pool; only bgp pools are announced to peers`);
  }

  if (r.errors.length > errorsBefore || peerAddress === undefined || peerAsn === undefined || myAsn === undefined) return undefined;
  return {
    name: undefined, peerAddress, peerAsn, myAsn, peerPort, holdTime, keepaliveTime,
    routerId, sourceAddress, nodeSelectors, password, ebgpMultihop, bfdProfile, pools: poolNames,
  };
}

/** A TCP MD5 key (RFC 2385) must fit the kernel's key and be one line. */
export function checkPassword(r: Reader, field: Field, password: string, what: string): void {
  if (/[\r\n]/.test(password)) r.error(field, `${what} must not contain line breaks`);
  if (Buffer.byteLength(password) > maxPasswordLength) {
    r.error(field, `${what} is ${Buffer.byteLength(password)} bytes; TCP MD5 keys are at most ${maxPasswordLength}`);
  }
}

/** Reads an IP address, trimmed. */
export function readIp(r: Reader, field: Field, what: string): string | undefined {
  const text = r.string(field, what);
  if (text === undefined) return undefined;
  if (!parseAddress(text.trim())) {
    r.error(field, `${what} "${text}" is not an IP address`);
    return undefined;
  }
  return text.trim();
}

/** How a format names and defaults the two timers. */
export interface TimerRules {
  readonly hold: string;
  readonly keepalive: string;
  /**
   * MetalLB's BGPPeer: a keepalive written alone makes the hold time three times it, and a
   * keepalive of 0 beside a hold time means "the default" (a third of it), with a warning.
   */
  readonly crd?: boolean;
}

/**
 * Hold time: 0 (no keepalives) or 3 s to 65535 s (RFC 4271 4.2), default 90 s. Keepalive:
 * at most the hold time, default a third of it (RFC 4271 10).
 */
export function readTimers(
  r: Reader,
  holdField: Field | undefined,
  keepaliveField: Field | undefined,
  names: TimerRules = { hold: 'hold-time', keepalive: 'keepalive-time' },
): { holdTime: number; keepaliveTime: number } {
  const seconds = (field: Field, what: string): number | undefined => {
    const text = r.string(field, what);
    if (text === undefined) return undefined;
    const ms = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) * 1000 : parseDuration(text);
    if (ms === undefined) {
      r.error(field, `${what} "${text}" is not a duration (write e.g. 90s or 1m30s)`);
      return undefined;
    }
    if (ms % 1000 !== 0) {
      r.error(field, `${what} "${text}" is not a whole number of seconds, which BGP requires`);
      return undefined;
    }
    return ms / 1000;
  };
  let holdTime = 90;
  const keepaliveAlone = names.crd === true && !holdField && keepaliveField ? seconds(keepaliveField, names.keepalive) : undefined;
  if (keepaliveAlone !== undefined) {
    const hold = keepaliveAlone * 3;
    if (hold !== 0 && (hold < 3 || hold > 65_535)) {
      r.error(keepaliveField ?? { path: '', node: undefined }, `${names.keepalive} ${keepaliveAlone}s makes ${names.hold} ${hold}s (three times it), which is invalid: it must be 0 or from 3s to 65535s (RFC 4271 4.2)`);
      return { holdTime, keepaliveTime: 30 };
    }
    return { holdTime: hold, keepaliveTime: keepaliveAlone };
  }
  if (holdField) {
    const hold = seconds(holdField, names.hold);
    if (hold !== undefined && hold !== 0 && (hold < 3 || hold > 65_535)) {
      r.error(holdField, `${names.hold} ${hold}s is invalid: it must be 0 or from 3s to 65535s (RFC 4271 4.2)`);
    } else if (hold !== undefined) {
      holdTime = hold;
    }
  }
  let keepaliveTime = Math.floor(holdTime / 3);
  if (keepaliveField) {
    const keepalive = seconds(keepaliveField, names.keepalive);
    if (keepalive !== undefined && keepalive > holdTime) {
      r.error(keepaliveField, `${names.keepalive} ${keepalive}s is longer than ${names.hold} ${holdTime}s`);
    } else if (keepalive !== undefined && holdTime === 0 && keepalive !== 0) {
      r.error(keepaliveField, `${names.keepalive} must be 0 when ${names.hold} is 0 (no keepalives are sent)`);
    } else if (keepalive === 0 && holdTime !== 0 && names.crd === true) {
      r.warn(keepaliveField, `${names.keepalive} 0s beside ${names.hold} ${holdTime}s: vipcast sends a KEEPALIVE every ${keepaliveTime}s (a third of the hold time), as MetalLB's own speaker does`);
    } else if (keepalive === 0 && holdTime !== 0) {
      r.error(keepaliveField, `${names.keepalive} 0s would send no KEEPALIVEs, and the peer would drop the session after ${names.hold} ${holdTime}s; use at least 1s (or ${names.hold} 0 for neither)`);
    } else if (keepalive !== undefined) {
      keepaliveTime = keepalive;
    }
  }
  return { holdTime, keepaliveTime };
}
