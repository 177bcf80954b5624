// `vipcast announce --interface IF --ip VIP...`: hold VIPs on one interface by hand, without a
// cluster: gratuitous ARP / unsolicited NA on start and periodically, answers to ARP and NS,
// and a clean release on SIGTERM or SIGINT.
import { parseArgs } from 'node:util';
import { Layer2Speaker } from '../../speakers/layer2/speaker.js';
import type { Layer2SpeakerOptions } from '../../speakers/layer2/speaker.js';
import { defaultAnnouncementTiming, validateAnnouncementTiming } from '../../speakers/layer2/announcer.js';
import type { AnnouncementTiming } from '../../speakers/layer2/announcer.js';
import { malformedTotal } from '../../speakers/layer2/responder.js';
import { parseVip } from '../../speakers/layer2/vip.js';
import type { Vip } from '../../speakers/layer2/vip.js';
import { waitForStop } from './stop.js';

const help = `usage: vipcast announce --interface IF --ip VIP [--ip VIP...] [--refresh SECONDS]

Announces each VIP on interface IF at once (gratuitous ARP in both forms for IPv4, unsolicited
Neighbor Advertisements for IPv6), repeats the announcement every SECONDS (default ${defaultAnnouncementTiming.refreshIntervalMs / 1000};
0 turns refreshing off), and answers ARP requests and Neighbor Solicitations for the VIPs
until SIGTERM or SIGINT, when it stops at once and exits 0.

The VIPs are not added to any interface: to accept traffic for them, route them locally
(e.g. "ip route add local VIP dev lo") and set arp_ignore=1 on IF so that only vipcast
answers for them. Needs CAP_NET_RAW.
Exit status: 0 after a signal, 1 if the interface cannot be used, 2 on usage errors.`;

/** Parsed, validated arguments of `announce`. */
interface AnnounceArgs {
  readonly interfaceName: string;
  readonly vips: readonly Vip[];
  readonly timing: AnnouncementTiming;
}

/** Parses the arguments; returns the problems instead when there are any. */
function parseAnnounceArgs(args: string[]): AnnounceArgs | { help: true } | { errors: string[] } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      interface: { type: 'string', short: 'i' },
      ip: { type: 'string', multiple: true },
      refresh: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  const errors: string[] = [];
  if (positionals.length > 0) errors.push(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const interfaceName = values.interface ?? '';
  if (interfaceName === '') errors.push('--interface is required');
  const vips: Vip[] = [];
  for (const text of values.ip ?? []) {
    try {
      const vip = parseVip(text);
      if (!vips.some((v) => v.address === vip.address)) vips.push(vip);
    } catch (error) {
      errors.push(`--ip ${text}: ${(error as Error).message}`);
    }
  }
  if ((values.ip ?? []).length === 0) errors.push('at least one --ip is required');
  let timing = defaultAnnouncementTiming;
  if (values.refresh !== undefined) {
    const seconds = Number(values.refresh);
    try {
      if (values.refresh.trim() === '' || !Number.isFinite(seconds)) throw new RangeError('not a number');
      timing = validateAnnouncementTiming({ ...defaultAnnouncementTiming, refreshIntervalMs: Math.round(seconds * 1000) });
    } catch {
      errors.push(`--refresh ${values.refresh}: must be 0 (off) or a number of seconds of at least 1`);
    }
  }
  return errors.length > 0 ? { errors } : { interfaceName, vips, timing };
}

/** Runs `announce`: 0 after SIGTERM/SIGINT released everything, 1 if the interface is unusable, 2 on usage errors. */
export async function announceCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseAnnounceArgs(args);
  } catch (error) {
    console.error(`vipcast announce: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if ('help' in parsed) {
    console.log(help);
    return 0;
  }
  if ('errors' in parsed) {
    for (const error of parsed.errors) console.error(`vipcast announce: ${error}`);
    console.error(`\n${help}`);
    return 2;
  }
  const { interfaceName, vips, timing } = parsed;
  const options: Layer2SpeakerOptions = { timing, onError: (message) => console.error(`vipcast announce: ${message}`) };
  let speaker: Layer2Speaker;
  try {
    speaker = Layer2Speaker.open(interfaceName, options);
  } catch (error) {
    console.error(`vipcast announce: cannot use interface ${interfaceName}: ${(error as Error).message}`);
    return 1;
  }
  const stopped = waitForStop().reason;
  const refresh = timing.refreshIntervalMs > 0 ? `refresh every ${timing.refreshIntervalMs / 1000} s` : 'no refresh';
  for (const vip of vips) {
    speaker.announce(vip.address);
    console.log(`announcing ${vip.address} on ${interfaceName} at ${speaker.mac} (${refresh})`);
  }
  const signal = await stopped;
  const counters = speaker.counters();
  speaker.close();
  const r = counters.responder;
  console.log(
    `${signal}: released ${vips.map((v) => v.address).join(', ')}; answered ${r.answered}, rate-limited ${r.rateLimited}, ` +
      `malformed ${malformedTotal(r)}, announcement frames ${counters.announcer.framesSent}`,
  );
  return 0;
}
