// Issue 14, BGP side (ADR 0017, "BGP sessions never depended on the API"): three nodes running
// `vipcast speaker` peer with BIRD over IPv4 and IPv6 and announce an IPv4 and an IPv6 VIP. The
// API server is frozen (SIGSTOP) for 10 s, longer than the 9 s hold time: BIRD keeps every
// node's path to both VIPs at every look, through the freeze and after it thaws, and no BGP
// session restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/netns.js';
import type { BgpRouter } from '../../lab/routers.js';
import { birdProtocolName } from '../../lab/routers.js';
import { SpeakerLab, bgpLabConfig as bgpConfig } from '../../lab/speaker-lab.js';


let lab: SpeakerLab;
let bird: BgpRouter;
const figures: string[] = [];
const prefixes = new Map<string, string[]>();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The next hops BIRD holds for a prefix, one per path (each node's session is a path). */
async function nextHops(prefix: string): Promise<string[]> {
  const text = await bird.cli(['show', 'route', prefix]);
  return [...text.matchAll(/via\s+([0-9a-f.:]+)/gi)].map((m) => (m[1] ?? '').toLowerCase()).sort();
}

/** Where BIRD stands with one node's session: its state, since when, and the routes it received and withdrew. */
interface Session {
  readonly state: string;
  /** Time of day of the last state change, ms (BIRD prints it from its monotonic clock: a ms of jitter between looks). */
  readonly sinceMs: number;
  readonly updates: number;
  readonly withdraws: number;
}

/** Every node's two sessions (IPv4 and IPv6) as BIRD shows them. */
async function sessions(): Promise<Map<string, Session>> {
  const out = new Map<string, Session>();
  for (const node of lab.nodes) {
    for (const address of [node.ipv4, `2001:db8::${node.ipv4.split('.')[3]}`]) {
      const text = await bird.cli(['show', 'protocols', 'all', birdProtocolName(address)]);
      const head = text.split('\n').find((l) => l.startsWith(`${birdProtocolName(address)} `))?.trim().split(/\s+/) ?? [];
      const [h, m, sec] = (head[4] ?? '').split(':').map(Number);
      const received = (what: string): number => [...text.matchAll(new RegExp(`Import ${what}:\\s+(\\d+)`, 'g'))].reduce((sum, match) => sum + Number(match[1]), 0);
      out.set(address, { state: head[3] ?? '?', sinceMs: ((h ?? 0) * 3600 + (m ?? 0) * 60 + (sec ?? 0)) * 1000, updates: received('updates'), withdraws: received('withdraws') });
    }
  }
  return out;
}

beforeAll(async () => {
  lab = await SpeakerLab.create(3, bgpConfig);
  bird = await lab.addBird();
  await lab.startController();
  await Promise.all(lab.nodes.map((node) => lab.startSpeaker(node)));
  const v4 = await lab.createService('web', 'IPv4');
  const v6 = await lab.createService('web6', 'IPv6');
  prefixes.set(`${v4}/32`, ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  prefixes.set(`${v6}/128`, ['2001:db8::1', '2001:db8::2', '2001:db8::3']);
  for (const [prefix, hops] of prefixes) {
    const got = await waitUntil(() => nextHops(prefix), (found) => JSON.stringify(found) === JSON.stringify(hops), 30_000, 100);
    expect(got).toEqual(hops);
  }
});

afterAll(async () => {
  if (figures.length > 0) console.log(`speaker BGP outage figures:\n  ${figures.join('\n  ')}`);
  await lab?.destroy();
});

describe('BGP announcements through an API-server outage', () => {
  it('a 10 s API-server freeze (SIGSTOP): BIRD keeps every path to both VIPs throughout and after it thaws, and no session restarts', async () => {
    const before = await sessions();
    expect([...before.values()].every((s) => s.state === 'up'), JSON.stringify([...before])).toBe(true);
    const pid = lab.api.pids.apiserver;
    const looks: { at: number; prefix: string; hops: string[] }[] = [];
    const look = async (from: number): Promise<void> => {
      for (const prefix of prefixes.keys()) looks.push({ at: Date.now() - from, prefix, hops: await nextHops(prefix) });
    };
    const frozenAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    let thawedAt: number;
    try {
      while (Date.now() - frozenAt < 10_000) {
        await look(frozenAt);
        await sleep(200);
      }
    } finally {
      thawedAt = Date.now();
      process.kill(pid, 'SIGCONT');
    }
    while (Date.now() - thawedAt < 5000) {
      await look(frozenAt);
      await sleep(200);
    }
    const after = await sessions();
    // A session that went down and up again has a later "since" (by more than BIRD's display jitter) or received withdrawals.
    const restarted = [...after].filter(([a, s]) => s.state !== 'up' || Math.abs(s.sinceMs - (before.get(a)?.sinceMs ?? 0)) > 1000).map(([a]) => a);
    const withdrew = [...after].filter(([a, s]) => s.withdraws > (before.get(a)?.withdraws ?? 0)).map(([a, s]) => `${a} +${s.withdraws - (before.get(a)?.withdraws ?? 0)}`);
    const updated = [...after].filter(([a, s]) => s.updates > (before.get(a)?.updates ?? 0)).map(([a, s]) => `${a} +${s.updates - (before.get(a)?.updates ?? 0)}`);
    const short = looks.filter((l) => JSON.stringify(l.hops) !== JSON.stringify(prefixes.get(l.prefix)));
    const during = looks.filter((l) => l.at <= thawedAt - frozenAt);
    figures.push(
      `API server frozen ${thawedAt - frozenAt} ms: ${during.length} looks at BIRD's routes during the freeze and ${looks.length - during.length} in the 5 s after, ` +
        `${short.length} missing a path${short.length > 0 ? ` (first at +${short[0]?.at} ms: ${short[0]?.prefix} via ${short[0]?.hops.join(', ')})` : ''}; sessions restarted: ${restarted.join(', ') || 'none'} (${before.size} sessions, ${[...before.values()].reduce((n, b) => n + b.updates, 0)} updates received before the freeze); withdrawals received: ${withdrew.join(', ') || 'none'}; updates received: ${updated.join(', ') || 'none'}`,
    );
    expect(during.length).toBeGreaterThan(20);
    expect(short).toEqual([]);
    expect(restarted).toEqual([]);
    expect(withdrew).toEqual([]);
  });
});
