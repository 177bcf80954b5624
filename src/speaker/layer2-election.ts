// Who answers for a layer-2 VIP: a pure decision over what the speaker sees. Each speaker
// holds one Lease of its own and lists in it the VIPs it claims; a claim is honoured while
// that Lease is live. The rules (ADR 0013):
// - a live claim by an eligible node stands: VIPs do not move back to a returning node;
// - with no live claim, the eligible live node that ranks highest for the VIP by rendezvous
//   hashing claims it, so VIPs spread over nodes and every speaker agrees on the choice;
// - a claim counts only after a fresh, consistent read shows no other live claim for the VIP
//   (confirmClaim), so two speakers that claim at once never both answer;
// - a node whose Lease declines a VIP (its link is down, ADR 0022) is passed over, as only it
//   can see that.
import { createHash } from 'node:crypto';
import type { SpeakerLeaseRecord } from './lease-clock.js';

/** Everything the decision needs, as one speaker sees it now. */
export interface ElectionView {
  /** This speaker's node. */
  readonly self: string;
  /** Whether our own Lease is valid now (renewed recently enough). */
  readonly selfValid: boolean;
  /** The VIPs whose claim we confirmed and answer for now (not those awaiting confirmation). */
  readonly ownClaims: ReadonlySet<string>;
  /** Live Leases of other speakers. */
  readonly others: readonly SpeakerLeaseRecord[];
  /** The layer-2 VIPs that exist now, with the nodes eligible to answer for each. */
  readonly vips: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Why a VIP is or is not ours, for logs and `vipcast status`. */
export type ClaimReason =
  | 'held'
  | 'won'
  | 'held-by-other'
  | 'waiting-for-release'
  | 'lost-to-other'
  | 'not-eligible'
  | 'own-lease-invalid'
  | 'lost-peer-quorum'
  | 'api-unreachable'
  | 'vip-gone'
  | 'no-candidate';

/** The decision: which claims to add and drop, and a reason per VIP. */
export interface ElectionDecision {
  /** VIPs to add to our Lease's claims (each to be confirmed before answering). */
  readonly claim: readonly string[];
  /** VIPs to stop answering at once and remove from our claims. */
  readonly retract: readonly string[];
  /** The VIPs we keep answering for. */
  readonly keep: readonly string[];
  /** For each VIP we know of (and each we claim), why. */
  readonly reasons: ReadonlyMap<string, { readonly reason: ClaimReason; readonly owner?: string | undefined }>;
}

/**
 * Scores already computed. A decision ranks every eligible node for every VIP, and the watch
 * makes one decision per Lease change: without this, 100 nodes and 100 VIPs cost 10,000
 * SHA-256 digests (about 15 ms) per change. Bounded so a huge cluster costs CPU, not memory.
 */
const scores = new Map<string, bigint>();
const MAX_SCORES = 65_536;

/** The rendezvous (highest random weight) score of a node for a VIP. */
export function rendezvousScore(node: string, vip: string): bigint {
  const key = `${node}\0${vip}`;
  let score = scores.get(key);
  if (score === undefined) {
    score = createHash('sha256').update(node).update('\0').update(vip).digest().readBigUInt64BE(0);
    if (scores.size >= MAX_SCORES) scores.clear();
    scores.set(key, score);
  }
  return score;
}

/** The node that ranks highest for a VIP among candidates; ties (never in practice) by name. */
export function rendezvousWinner(vip: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const node of candidates) {
    const score = rendezvousScore(node, vip);
    if (score > bestScore || (score === bestScore && best !== undefined && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

/** Per set of eligible nodes (treated as immutable), each VIP's nodes best first. */
const rankings = new WeakMap<ReadonlySet<string>, Map<string, readonly string[]>>();

/** The eligible nodes of a VIP in rendezvous order, best first; computed once per eligible set. */
function ranked(vip: string, eligible: ReadonlySet<string>): readonly string[] {
  let byVip = rankings.get(eligible);
  if (!byVip) rankings.set(eligible, (byVip = new Map<string, readonly string[]>()));
  let order = byVip.get(vip);
  if (!order) {
    const scored = [...eligible].map((node) => ({ node, score: rendezvousScore(node, vip) }));
    scored.sort((a, b) => (a.score === b.score ? (a.node < b.node ? -1 : 1) : a.score > b.score ? -1 : 1));
    order = scored.map((s) => s.node);
    byVip.set(vip, order);
  }
  return order;
}

/** Decides, for every VIP, whether this speaker keeps, claims or drops it. */
export function decideLayer2(view: ElectionView): ElectionDecision {
  const claim: string[] = [];
  const retract: string[] = [];
  const keep: string[] = [];
  const reasons = new Map<string, { reason: ClaimReason; owner?: string | undefined }>();
  const claimants = claimantsByVip(view.others, 'claims');
  const holders = claimantsByVip(view.others, 'held');
  const decliners = claimantsByVip(view.others, 'declined');
  const live = new Set([view.self, ...view.others.map((lease) => lease.node)]);

  for (const vip of view.ownClaims) {
    const eligible = view.vips.get(vip);
    const rivals = holders.get(vip) ?? [];
    if (!view.selfValid) reasons.set(vip, { reason: 'own-lease-invalid' });
    else if (!eligible) reasons.set(vip, { reason: 'vip-gone' });
    else if (!eligible.has(view.self)) reasons.set(vip, { reason: 'not-eligible' });
    else if (rivals.length > 0 && rendezvousWinner(vip, [view.self, ...rivals]) !== view.self) {
      // Two confirmed claims never stand together under the protocol; should one ever be
      // seen, the lower-ranked node yields so it cannot last. A rival's unconfirmed claim
      // is ignored: its own confirmation read sees ours and it withdraws.
      reasons.set(vip, { reason: 'lost-to-other', owner: rendezvousWinner(vip, rivals) });
    } else {
      reasons.set(vip, { reason: 'held' });
      keep.push(vip);
      continue;
    }
    retract.push(vip);
  }

  for (const [vip, eligible] of view.vips) {
    if (view.ownClaims.has(vip)) continue;
    const others = claimants.get(vip) ?? [];
    const declined = decliners.get(vip) ?? [];
    const eligibleHolder = others.find((node) => eligible.has(node) && !declined.includes(node));
    if (eligibleHolder !== undefined) {
      reasons.set(vip, { reason: 'held-by-other', owner: eligibleHolder });
      continue;
    }
    if (others.length > 0) {
      // The holder has become ineligible; it sees that too and will retract, or its Lease
      // will expire. Claiming before then could make two nodes answer.
      reasons.set(vip, { reason: 'waiting-for-release', owner: others[0] });
      continue;
    }
    if (!view.selfValid) {
      reasons.set(vip, { reason: 'own-lease-invalid' });
      continue;
    }
    const winner = ranked(vip, eligible).find((node) => live.has(node) && !declined.includes(node));
    if (winner === undefined) reasons.set(vip, { reason: 'no-candidate' });
    else if (winner === view.self) {
      reasons.set(vip, { reason: 'won' });
      claim.push(vip);
    } else reasons.set(vip, { reason: eligible.has(view.self) ? 'held-by-other' : 'not-eligible', owner: winner });
  }
  return { claim, retract, keep, reasons };
}

/**
 * Whether a claim we just wrote stands: a consistent read made after our write shows no other
 * live Lease claiming the VIP. Etcd orders the two writes, so of two simultaneous claimants
 * at least the later one sees the earlier claim and yields; both may yield, never both win.
 */
export function confirmClaim(vip: string, self: string, liveOthers: readonly SpeakerLeaseRecord[]): boolean {
  return !liveOthers.some((lease) => lease.node !== self && lease.claims.has(vip));
}

function claimantsByVip(leases: readonly SpeakerLeaseRecord[], which: 'claims' | 'held' | 'declined'): Map<string, string[]> {
  const byVip = new Map<string, string[]>();
  for (const lease of leases) {
    for (const vip of lease[which] ?? []) {
      const list = byVip.get(vip);
      if (list) list.push(lease.node);
      else byVip.set(vip, [lease.node]);
    }
  }
  return byVip;
}
