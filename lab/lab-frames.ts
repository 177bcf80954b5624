// The demo's captured frames as readable lines. tshark decodes the capture (an independent
// decoder: it shares no code with vipcast) and hands over the fields; this module only words
// them: who asked, who answered, which MAC claims the VIP, at what time around the failover.
import { runHostCommand } from './netns.js';

const layer2Fields = [
  'frame.time_epoch', 'eth.src', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4',
  'icmpv6.type', 'icmpv6.nd.ns.target_address', 'icmpv6.nd.na.target_address', 'icmpv6.nd.na.flag.s', 'icmpv6.nd.na.flag.o', 'icmpv6.opt.linkaddr', 'ipv6.dst',
] as const;
const bgpFields = ['frame.time_epoch', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'bgp.type', 'bfd.sta', 'bgp.nlri_prefix', 'bgp.mp_reach_nlri_ipv6_prefix', 'bgp.withdrawn_prefix'] as const;

/** One decoded frame: tshark's field values by name. */
export type FrameFields = Record<string, string>;

/** Runs tshark on a capture with a display filter and returns the named fields of each frame. */
async function tsharkFields(file: string, filter: string, fields: readonly string[]): Promise<FrameFields[]> {
  const { stdout } = await runHostCommand(['tshark', '-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])]);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const values = line.split('\t');
      return Object.fromEntries(fields.map((f, i) => [f, values[i] ?? '']));
    });
}

/** The display filter selecting ARP and NDP about the given addresses. */
export function layer2Filter(addresses: readonly string[]): string {
  return addresses
    .map((a) => (a.includes(':') ? `icmpv6.nd.ns.target_address == ${a} || icmpv6.nd.na.target_address == ${a}` : `arp.src.proto_ipv4 == ${a} || arp.dst.proto_ipv4 == ${a}`))
    .join(' || ');
}

/** The display filter selecting BGP messages other than KEEPALIVE, and BFD packets whose state is not Up. */
export const bgpFilter = '(bgp && bgp.type != 4) || (bfd && bfd.sta != 3)';

/** A time in milliseconds from the demo's moment zero, as seconds with a sign: `+1.234 s`. */
export function sinceZero(ms: number): string {
  return `${ms >= 0 ? '+' : '-'}${(Math.abs(ms) / 1000).toFixed(3)} s`;
}

const seconds = (fields: FrameFields, zeroMs: number): string => sinceZero(Number(fields['frame.time_epoch']) * 1000 - zeroMs);

/** Words one ARP or NDP frame; `names` maps MACs (lower case) to host names. */
export function describeLayer2(fields: FrameFields, zeroMs: number, names: ReadonlyMap<string, string>): string {
  const who = (mac: string | undefined): string => {
    const m = (mac ?? '').toLowerCase();
    const name = names.get(m);
    return name === undefined ? m : `${m} (${name})`;
  };
  const at = seconds(fields, zeroMs);
  const opcode = fields['arp.opcode'];
  if (opcode === '1' || opcode === '2') {
    const sender = fields['arp.src.proto_ipv4'] ?? '';
    const target = fields['arp.dst.proto_ipv4'] ?? '';
    const gratuitous = sender === target;
    if (opcode === '1' && !gratuitous) return `${at}  ARP request  who has ${target}? tell ${sender}, from ${who(fields['eth.src'])}`;
    const kind = opcode === '1' ? 'ARP request' : 'ARP reply  ';
    return `${at}  ${kind}  ${sender} is at ${who(fields['arp.src.hw_mac'])}${gratuitous ? '  [gratuitous]' : ''}`;
  }
  if (fields['icmpv6.type'] === '135') return `${at}  NDP NS       who has ${fields['icmpv6.nd.ns.target_address'] ?? ''}? from ${who(fields['eth.src'])}`;
  if (fields['icmpv6.type'] === '136') {
    const solicited = fields['icmpv6.nd.na.flag.s'] === '1' || fields['icmpv6.nd.na.flag.s'] === 'True';
    const override = fields['icmpv6.nd.na.flag.o'] === '1' || fields['icmpv6.nd.na.flag.o'] === 'True';
    const flags = `${solicited ? 'solicited' : 'unsolicited, to all nodes'}${override ? ', override' : ''}`;
    return `${at}  NDP NA       ${fields['icmpv6.nd.na.target_address'] ?? ''} is at ${who(fields['icmpv6.opt.linkaddr'] || fields['eth.src'])}  [${flags}]`;
  }
  return `${at}  (other frame from ${who(fields['eth.src'])})`;
}

const bgpTypes: Record<string, string> = { '1': 'OPEN', '2': 'UPDATE', '3': 'NOTIFICATION', '4': 'KEEPALIVE', '5': 'ROUTE-REFRESH' };
const bfdStates: Record<string, string> = { '0': 'AdminDown', '1': 'Down', '2': 'Init', '3': 'Up' };

/** Words one BGP or BFD packet; `names` maps addresses to host names. */
export function describeBgp(fields: FrameFields, zeroMs: number, names: ReadonlyMap<string, string>): string {
  const name = (address: string): string => names.get(address) ?? address;
  const from = name(fields['ip.src'] || fields['ipv6.src'] || '');
  const to = name(fields['ip.dst'] || fields['ipv6.dst'] || '');
  const at = seconds(fields, zeroMs);
  const type = fields['bgp.type'] ?? '';
  if (type !== '') {
    const announced = [fields['bgp.nlri_prefix'], fields['bgp.mp_reach_nlri_ipv6_prefix']].filter((p) => p !== undefined && p !== '');
    const withdrawn = fields['bgp.withdrawn_prefix'] ?? '';
    let detail = [...(announced.length > 0 ? [`announces ${announced.join(', ')}`] : []), ...(withdrawn !== '' ? [`withdraws ${withdrawn}`] : [])].join('; ');
    if (type === '2' && detail === '') detail = 'no prefixes (End-of-RIB or an IPv6 change)';
    return `${at}  BGP ${(bgpTypes[type] ?? type).padEnd(12)} ${from} -> ${to}${detail === '' ? '' : `  ${detail}`}`;
  }
  const sta = fields['bfd.sta'] ?? '';
  const state = sta === '' ? '?' : (bfdStates[String(Number(sta))] ?? '?');
  return `${at}  BFD ${state.padEnd(12)} ${from} -> ${to}`;
}

/** Folds runs of lines that differ only in their time into the first, with a count and the last time. */
export function foldRepeats(lines: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i] ?? '';
    const body = first.replace(/^\S+ s/, '');
    let j = i + 1;
    while (j < lines.length && (lines[j] ?? '').replace(/^\S+ s/, '') === body) j++;
    const last = /^\S+ s/.exec(lines[j - 1] ?? '')?.[0] ?? '';
    out.push(j - i > 2 ? `${first}  (and ${j - i - 1} more like it, until ${last})` : first);
    if (j - i === 2) out.push(lines[i + 1] ?? '');
    i = j;
  }
  return out;
}

/** The capture's ARP/NDP frames about `addresses`, one line each. */
export async function layer2Lines(file: string, addresses: readonly string[], zeroMs: number, names: ReadonlyMap<string, string>): Promise<string[]> {
  return (await tsharkFields(file, layer2Filter(addresses), layer2Fields)).map((f) => describeLayer2(f, zeroMs, names));
}

/** The capture's BGP (without KEEPALIVEs) and BFD (not Up) packets, one line each. */
export async function bgpLines(file: string, zeroMs: number, names: ReadonlyMap<string, string>): Promise<string[]> {
  return foldRepeats((await tsharkFields(file, bgpFilter, bgpFields)).map((f) => describeBgp(f, zeroMs, names)));
}

/** What tshark calls malformed in the capture (empty when nothing is). */
export async function malformedFrames(file: string): Promise<string> {
  return (await runHostCommand(['tshark', '-r', file, '-Y', '_ws.malformed'])).stdout.trim();
}
