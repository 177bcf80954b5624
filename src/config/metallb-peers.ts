// MetalLB's BGPPeer (v1beta2 and v1beta1), BFDProfile and Community objects, read with the
// rules of vipcast's own `peers`, `bfd-profiles` and `bgp-communities` sections. A BGPPeer
// field vipcast does not implement is accepted only at the value that means "off", and
// refused otherwise, naming the field.
import { parseAddress } from '../net/address.js';
import { parseCommunity } from './community.js';
import type { MetalLbObject, MetalLbReadOptions } from './metallb-objects.js';
import { readSpec } from './metallb-objects.js';
import { camelBfdKeys, readBfdSettings } from './parse-bfd.js';
import { checkPassword, readIp, readTimers } from './parse-peers.js';
import { readSelectors } from './selector.js';
import { didYouMean } from './suggest.js';
import type { BfdProfile, Community, LabelSelector, Peer } from './types.js';
import type { Field, Reader } from './yaml-reader.js';

const maxAsn = 4_294_967_295;

/** BGPPeer fields vipcast implements, in both versions (v1beta2 adds passwordSecret). */
const peerKeys = [
  'myASN', 'peerASN', 'peerAddress', 'sourceAddress', 'peerPort', 'holdTime', 'keepaliveTime',
  'routerID', 'nodeSelectors', 'password', 'bfdProfile', 'ebgpMultiHop',
] as const;

/**
 * v1beta2 fields vipcast does not implement: the value each may keep (MetalLB's default,
 * which asks for nothing), and why any other is refused.
 */
const unimplemented: Readonly<Record<string, { readonly off: string | boolean | undefined; readonly why: string }>> = {
  dynamicASN: { off: undefined, why: 'vipcast needs the peer ASN written in peerASN' },
  connectTime: { off: undefined, why: 'vipcast retries a refused connection on its own schedule and has no setting for it' },
  vrf: { off: '', why: 'vipcast peers from the node\'s main routing table only' },
  enableGracefulRestart: { off: false, why: 'vipcast does not implement BGP graceful restart (RFC 4724)' },
  disableMP: { off: false, why: 'vipcast carries both address families as multiprotocol BGP does' },
  interface: { off: '', why: 'vipcast has no unnumbered (interface) peering; write peerAddress' },
  dualStackAddressFamily: { off: false, why: 'vipcast announces each family over the session of that family when it has one' },
};

/** Reads Community objects into aliases; a name defined twice is an error. */
export function readCommunityObjects(r: Reader, objects: readonly MetalLbObject[]): Map<string, Community> {
  const aliases = new Map<string, Community>();
  const where = new Map<string, string>();
  for (const object of objects) {
    const read = readSpec(r, object, ['communities'], 'a Community spec');
    if (!read) continue;
    for (const item of r.list(read.entries.get('communities') ?? { path: `${read.spec.path}.communities`, node: undefined }, 'communities')) {
      const entries = r.map(item, ['name', 'value'], 'a communities entry');
      if (!entries) continue;
      const nameField = entries.get('name');
      const valueField = entries.get('value');
      if (!nameField) r.error(item, 'a communities entry needs a "name"');
      if (!valueField) r.error(item, 'a communities entry needs a "value" (AS:VALUE or large:GLOBAL:LOCAL1:LOCAL2)');
      const name = nameField && r.string(nameField, 'name');
      const value = valueField && r.string(valueField, 'value');
      if (name === undefined || value === undefined || !nameField || !valueField) continue;
      const parsed = parseCommunity(value.trim());
      if (typeof parsed === 'string') {
        r.error(valueField, parsed);
        continue;
      }
      const earlier = where.get(name);
      if (earlier !== undefined) {
        r.error(nameField, `community alias "${name}" is defined twice (also at ${earlier})`);
        continue;
      }
      where.set(name, nameField.path);
      aliases.set(name, parsed);
    }
  }
  return aliases;
}

/** Reads BFDProfile objects: the object's name is the profile's. */
export function readBfdProfileObjects(r: Reader, objects: readonly MetalLbObject[]): BfdProfile[] {
  const out: BfdProfile[] = [];
  for (const object of objects) {
    const read = readSpec(r, object, Object.values(camelBfdKeys), 'a BFDProfile spec');
    if (!read) continue;
    const errorsBefore = r.errors.length;
    const profile = readBfdSettings(r, read.entries, object.name, camelBfdKeys);
    if (r.errors.length === errorsBefore) out.push(profile);
  }
  return out;
}

/** Reads BGPPeer objects, checking references to BFD profiles and Secrets. */
export function readBgpPeers(r: Reader, objects: readonly MetalLbObject[], bfdProfiles: readonly BfdProfile[], options: MetalLbReadOptions): Peer[] {
  const out: Peer[] = [];
  const seen = new Map<string, string>();
  for (const object of objects) {
    const peer = readBgpPeer(r, object, bfdProfiles, options);
    if (!peer) continue;
    const identity = `${peer.peerAddress}|${peer.peerPort}|${peer.sourceAddress ?? ''}|${JSON.stringify(peer.nodeSelectors)}`;
    const earlier = seen.get(identity);
    if (earlier !== undefined) {
      r.error(object.root, `BGPPeer "${object.name}" peers with ${peer.peerAddress} port ${peer.peerPort} from the same nodes as BGPPeer "${earlier}"`);
      continue;
    }
    seen.set(identity, object.name);
    out.push(peer);
  }
  return out;
}

function readBgpPeer(r: Reader, object: MetalLbObject, bfdProfiles: readonly BfdProfile[], options: MetalLbReadOptions): Peer | undefined {
  const v1beta2 = object.apiVersion.endsWith('/v1beta2');
  const known = v1beta2 ? [...peerKeys, 'passwordSecret', ...Object.keys(unimplemented)] : peerKeys;
  const read = readSpec(r, object, known, `a BGPPeer ${v1beta2 ? 'v1beta2' : 'v1beta1'} spec`);
  if (!read) return undefined;
  const { spec, entries } = read;
  const errorsBefore = r.errors.length;
  const required = (key: string): Field | undefined => {
    const f = entries.get(key);
    if (!f) r.error(spec, `a BGPPeer needs spec.${key}`);
    return f;
  };
  refuseUnimplemented(r, entries);

  const addressField = required('peerAddress');
  const peerAddress = addressField && readIp(r, addressField, 'peerAddress');
  const asnField = required('peerASN');
  const peerAsn = asnField && r.integer(asnField, 'peerASN', 1, maxAsn);
  const myAsnField = required('myASN');
  const myAsn = myAsnField && r.integer(myAsnField, 'myASN', 1, maxAsn);
  const portField = entries.get('peerPort');
  const peerPort = (portField && r.integer(portField, 'peerPort', 1, 65_535)) ?? 179;
  const { holdTime, keepaliveTime } = readTimers(r, entries.get('holdTime'), entries.get('keepaliveTime'), { hold: 'holdTime', keepalive: 'keepaliveTime', crd: true });

  const routerIdField = entries.get('routerID');
  const routerId = routerIdField && readIp(r, routerIdField, 'routerID');
  if (routerIdField && routerId !== undefined && parseAddress(routerId)?.family !== 'IPv4') {
    r.error(routerIdField, `routerID "${routerId}" must be an IPv4 address (RFC 4271 4.2: a 4-octet BGP Identifier)`);
  }
  const sourceField = entries.get('sourceAddress');
  const sourceAddress = sourceField && readIp(r, sourceField, 'sourceAddress');
  if (sourceField && sourceAddress && peerAddress && parseAddress(sourceAddress)?.family !== parseAddress(peerAddress)?.family) {
    r.error(sourceField, `sourceAddress ${sourceAddress} is not of the same family as peerAddress ${peerAddress}`);
  }
  const selectorsField = entries.get('nodeSelectors');
  const nodeSelectors: LabelSelector[] = selectorsField ? readSelectors(r, selectorsField, 'nodeSelectors', 'camel') : [];
  const password = readPassword(r, entries, options);

  const multihopField = entries.get('ebgpMultiHop');
  const ebgpMultihop = (multihopField && r.boolean(multihopField, 'ebgpMultiHop')) ?? false;
  if (multihopField && ebgpMultihop && peerAsn !== undefined && peerAsn === myAsn) {
    r.error(multihopField, 'ebgpMultiHop is set on an iBGP peer (peerASN equals myASN)');
  }
  const bfdField = entries.get('bfdProfile');
  const bfdProfile = bfdField && r.string(bfdField, 'bfdProfile');
  if (bfdField && bfdProfile !== undefined && !bfdProfiles.some((p) => p.name === bfdProfile)) {
    r.error(bfdField, `BFDProfile "${bfdProfile}" does not exist${didYouMean(bfdProfile, bfdProfiles.map((p) => p.name))}`);
  }
  if (r.errors.length > errorsBefore || peerAddress === undefined || peerAsn === undefined || myAsn === undefined) return undefined;
  return {
    name: object.name, peerAddress, peerAsn, myAsn, peerPort, holdTime, keepaliveTime,
    routerId, sourceAddress, nodeSelectors, password, ebgpMultihop, bfdProfile, pools: [],
  };
}

function refuseUnimplemented(r: Reader, entries: ReadonlyMap<string, Field>): void {
  for (const [key, { off, why }] of Object.entries(unimplemented)) {
    const field = entries.get(key);
    if (!field) continue;
    const value = typeof off === 'boolean' ? r.boolean(field, key) : r.string(field, key);
    if (value === undefined || (off !== undefined && value === off)) continue;
    r.error(field, `${key} is not supported: ${why}${off === undefined ? '; remove it' : `; remove it or write ${JSON.stringify(off)}`}`);
  }
}

/**
 * The TCP MD5 password: written in `password`, or read from the `password` key of a
 * `kubernetes.io/basic-auth` Secret named by `passwordSecret`, in the objects' namespace.
 */
function readPassword(r: Reader, entries: ReadonlyMap<string, Field>, options: MetalLbReadOptions): string | undefined {
  const passwordField = entries.get('password');
  const secretField = entries.get('passwordSecret');
  if (passwordField && secretField) {
    r.error(secretField, 'write password or passwordSecret, not both');
    return undefined;
  }
  if (passwordField) {
    const password = r.string(passwordField, 'password');
    if (password !== undefined) checkPassword(r, passwordField, password, 'password');
    return password;
  }
  if (!secretField) return undefined;
  const ref = r.map(secretField, ['name', 'namespace'], 'passwordSecret');
  const nameField = ref?.get('name');
  if (ref && !nameField) r.error(secretField, 'passwordSecret needs a "name"');
  const name = nameField && r.string(nameField, 'passwordSecret.name');
  const namespaceField = ref?.get('namespace');
  const namespace = namespaceField && r.string(namespaceField, 'passwordSecret.namespace');
  if (namespaceField && namespace !== undefined && namespace !== options.namespace) {
    r.error(namespaceField, `the Secret must be in ${options.namespace}, the namespace of these objects (MetalLB reads it there, whatever this says)`);
    return undefined;
  }
  if (!nameField || name === undefined) return undefined;
  const secret = options.secrets.get(name);
  if (!secret) {
    if (options.secretsComplete) r.error(nameField, `no Secret "${name}" of type kubernetes.io/basic-auth in ${options.namespace}`);
    else r.warn(nameField, `Secret "${name}" is not in this file, so its password is not checked here; the controller and the speakers read it from ${options.namespace}`);
    return undefined;
  }
  if (secret.type !== 'kubernetes.io/basic-auth') {
    r.error(nameField, `Secret "${name}" is of type "${secret.type ?? 'Opaque'}"; a BGPPeer's passwordSecret must be of type kubernetes.io/basic-auth`);
    return undefined;
  }
  const encoded = secret.data?.['password'];
  if (encoded === undefined) {
    r.error(nameField, `Secret "${name}" has no "password" key`);
    return undefined;
  }
  const password = Buffer.from(encoded, 'base64').toString('utf8');
  checkPassword(r, nameField, password, `the password in Secret "${name}"`);
  return password;
}
