// The IP allocator: pure bookkeeping of which Service holds which address, no I/O and no
// clock. Its memory follows the number of allocations, never the size of a pool.
import type { Config, Pool } from '../config/types.js';
import { formatAddress, parseAddress } from '../net/address.js';
import type { Address, Family } from '../net/address.js';
import { RangeCursor } from './range-cursor.js';
import { poolHasFamily, poolIsRestricted, poolRefusal, sharingConflict, wantedFamilies } from './rules.js';
import type { AllocationFailure, AllocationResult, Assignment, Invalidation, ServiceRequest } from './types.js';

interface PoolState {
  readonly pool: Pool;
  readonly cursors: readonly RangeCursor[];
}

/** An address in use and the Services holding it (more than one only when shared). */
interface Holder {
  readonly pool: string;
  readonly services: Map<string, ServiceRequest>;
}

/** What one Service holds. */
interface Held {
  request: ServiceRequest;
  readonly pool: string;
  readonly addresses: readonly Address[];
}

/**
 * Why an assignment stopped being valid: the config changed, the Service's own request
 * changed, or it clashes with another holder of the same address.
 */
interface Problem {
  readonly cause: 'config' | 'request' | 'conflict';
  readonly text: string;
}

type Outcome = { ok: true; pool: string; addresses: Address[] } | { ok: false; failure: AllocationFailure };

/** Assigns addresses from the configured pools to Services and remembers who holds what. */
export class Allocator {
  private pools = new Map<string, PoolState>();
  private readonly holders: Record<Family, Map<bigint, Holder>> = { IPv4: new Map(), IPv6: new Map() };
  private readonly held = new Map<string, Held>();
  /** `pool|sharing key|family` → addresses held under that key, to find a shareable one fast. */
  private readonly shared = new Map<string, Set<bigint>>();

  constructor(config: Config) {
    this.usePools(config);
  }

  /** The addresses a Service holds, if any. */
  assignmentOf(key: string): Assignment | undefined {
    const held = this.held.get(key);
    return held && toAssignment(held);
  }

  /** The number of Services holding addresses. */
  get serviceCount(): number {
    return this.held.size;
  }

  /** The number of distinct addresses in use in a pool. */
  addressesInUse(pool: string): number {
    let count = 0;
    for (const map of Object.values(this.holders)) for (const holder of map.values()) if (holder.pool === pool) count++;
    return count;
  }

  /**
   * Gives a Service its addresses: keeps what it holds while that stays valid, otherwise
   * allocates anew. When the Service's own request changed and cannot be met, it keeps
   * what it had, so a mistake in an annotation never takes an address away.
   */
  allocate(request: ServiceRequest): AllocationResult {
    // A bad requested-addresses annotation is reported as written, entry by entry; what the
    // Service holds stays held.
    const invalid = request.requestProblems.length > 0 ? request.requestProblems.join('; ') : requestProblem(request);
    if (invalid) return { ok: false, failure: { reason: 'invalid-request', message: invalid } };
    const held = this.held.get(request.key);
    if (held) {
      const problem = this.problemWith(request, held.pool, held.addresses);
      const kept = problem ? undefined : this.keep(request, held);
      if (kept) return kept;
      this.unregister(held);
      const outcome = this.allocateAnew(request);
      if (outcome.ok) return this.commit(request, outcome.pool, outcome.addresses, true);
      if (problem === undefined || problem.cause === 'request') this.register({ ...held, request });
      return { ok: false, failure: outcome.failure };
    }
    const outcome = this.allocateAnew(request);
    return outcome.ok ? this.commit(request, outcome.pool, outcome.addresses, true) : { ok: false, failure: outcome.failure };
  }

  /** Frees everything a Service holds; returns whether it held anything. */
  release(key: string): boolean {
    const held = this.held.get(key);
    if (held) this.unregister(held);
    return held !== undefined;
  }

  /**
   * Records addresses a Service already had (from its status, after a restart). Returns
   * why they cannot be kept, or undefined when they were recorded. As in allocate, a
   * Service whose own request no longer matches what it holds keeps it, so a restart
   * moves nothing; only a config that excludes the address or a clash refuses it.
   */
  restore(request: ServiceRequest, ips: readonly string[]): string | undefined {
    const addresses: Address[] = [];
    for (const ip of ips) {
      const address = parseAddress(ip);
      if (!address) return `status address "${ip}" is not an IP address`;
      addresses.push(address);
    }
    const pool = addresses[0] && this.poolOffering(addresses[0]);
    if (!pool) return `${ips.join(', ')} is not in any pool`;
    const problem = this.problemWith(request, pool.pool.name, addresses);
    if (problem && problem.cause !== 'request') return problem.text;
    this.register({ request, pool: pool.pool.name, addresses });
    return undefined;
  }

  /**
   * Switches to a new config and drops every assignment it makes invalid, saying why; the
   * caller allocates those Services again. Valid assignments are untouched.
   */
  setConfig(config: Config): Invalidation[] {
    this.usePools(config);
    const dropped: Invalidation[] = [];
    for (const held of [...this.held.values()]) {
      const problem = this.problemWith(held.request, held.pool, held.addresses);
      if (problem) {
        this.unregister(held);
        dropped.push({ key: held.request.key, assignment: toAssignment(held), reason: problem.text });
      }
    }
    return dropped;
  }

  private usePools(config: Config): void {
    this.pools = new Map(
      config.pools.map((pool) => [pool.name, { pool, cursors: pool.ranges.map((range) => new RangeCursor(range, pool.avoidBuggyIps)) }]),
    );
  }

  /**
   * Keeps a valid assignment, re-recorded with the current request (its ports or labels
   * may have changed), adding a missing family for a dual-stack Service when the pool has
   * one. Returns undefined when a RequireDualStack Service cannot be completed here.
   */
  private keep(request: ServiceRequest, held: Held): AllocationResult | undefined {
    this.unregister(held, false);
    const missing = wantedFamilies(request).filter((f) => !held.addresses.some((a) => a.family === f));
    const state = this.pools.get(held.pool);
    const added = missing.length === 0 || request.requestedIps.length > 0 || !state ? [] : (this.takeFamilies(state, missing, request, false) ?? []);
    if (request.ipFamilyPolicy === 'RequireDualStack' && added.length < missing.length) {
      for (const address of added) this.giveBack(address);
      this.register(held);
      return undefined;
    }
    return this.commit(request, held.pool, [...held.addresses, ...added], added.length > 0);
  }

  private commit(request: ServiceRequest, pool: string, addresses: Address[], changed: boolean): AllocationResult {
    const order = wantedFamilies(request);
    addresses.sort((a, b) => order.indexOf(a.family) - order.indexOf(b.family));
    const held: Held = { request, pool, addresses };
    this.register(held);
    return { ok: true, assignment: toAssignment(held), changed };
  }

  private allocateAnew(request: ServiceRequest): Outcome {
    return request.requestedIps.length > 0 ? this.allocateRequested(request) : this.allocateFromPools(request);
  }

  private allocateRequested(request: ServiceRequest): Outcome {
    const wanted = wantedFamilies(request);
    const addresses: Address[] = [];
    for (const ip of request.requestedIps) {
      const address = parseAddress(ip.trim());
      if (!address) return invalidRequest(`requested address "${ip}" is not an IP address`);
      if (!wanted.includes(address.family)) return invalidRequest(`requested address ${ip} is ${address.family}, but the Service's ipFamilies are ${wanted.join(', ')}`);
      if (addresses.some((a) => a.family === address.family)) return invalidRequest(`the Service requests two ${address.family} addresses`);
      addresses.push(address);
    }
    if (request.ipFamilyPolicy === 'RequireDualStack' && addresses.length < wanted.length) {
      return invalidRequest('RequireDualStack needs one requested address of each family');
    }
    let pool: PoolState | undefined;
    for (const address of addresses) {
      const ip = formatAddress(address);
      const found = this.poolOffering(address);
      if (!found || (request.requestedPool !== undefined && found.pool.name !== request.requestedPool)) {
        return { ok: false, failure: { reason: 'ip-not-in-pool', ip, pool: request.requestedPool } };
      }
      if (pool && pool !== found) return invalidRequest('the requested addresses lie in different pools');
      pool = found;
      const holder = this.holders[address.family].get(address.value);
      for (const other of holder?.services.values() ?? []) {
        const why = other.key === request.key ? undefined : sharingConflict(request, other);
        if (why) return { ok: false, failure: { reason: 'ip-in-use', ip, by: [...(holder?.services.keys() ?? [])], why } };
      }
    }
    if (!pool) return invalidRequest('no address requested');
    const refusal = poolRefusal(pool.pool, request);
    if (refusal) return { ok: false, failure: { reason: 'pool-not-allowed', pool: pool.pool.name, why: refusal } };
    return { ok: true, pool: pool.pool.name, addresses };
  }

  private allocateFromPools(request: ServiceRequest): Outcome {
    const wanted = wantedFamilies(request);
    const primary = wanted[0] ?? 'IPv4';
    let candidates: PoolState[];
    if (request.requestedPool !== undefined) {
      const state = this.pools.get(request.requestedPool);
      if (!state) return { ok: false, failure: { reason: 'unknown-pool', pool: request.requestedPool } };
      const refusal = poolRefusal(state.pool, request);
      if (refusal) return { ok: false, failure: { reason: 'pool-not-allowed', pool: state.pool.name, why: refusal } };
      candidates = [state];
    } else {
      const open = [...this.pools.values()].filter((s) => s.pool.autoAssign && poolRefusal(s.pool, request) === undefined);
      // Pools reserved for this Service's namespace or labels come before general ones.
      candidates = [...open.filter((s) => poolIsRestricted(s.pool)), ...open.filter((s) => !poolIsRestricted(s.pool))];
    }
    const complete = candidates.filter((s) => wanted.every((f) => poolHasFamily(s.pool, f)));
    const partial = request.ipFamilyPolicy === 'PreferDualStack' ? candidates.filter((s) => !complete.includes(s) && poolHasFamily(s.pool, primary)) : [];
    const usable = [...complete, ...partial];
    if (usable.length === 0) return { ok: false, failure: { reason: 'no-pool', families: wanted } };
    for (const state of usable) {
      const families = wanted.filter((f) => poolHasFamily(state.pool, f));
      const taken = this.takeFamilies(state, families, request, request.ipFamilyPolicy !== 'PreferDualStack');
      if (taken && taken.length > 0) return { ok: true, pool: state.pool.name, addresses: taken };
    }
    return { ok: false, failure: { reason: 'pool-exhausted', pools: usable.map((s) => s.pool.name), families: wanted } };
  }

  /** Takes one address per family from a pool; with `all`, none unless every family has one. */
  private takeFamilies(state: PoolState, families: readonly Family[], request: ServiceRequest, all: boolean): Address[] | undefined {
    const taken: { address: Address; fresh: boolean }[] = [];
    for (const family of families) {
      const shared = this.findShareable(state.pool.name, family, request);
      if (shared !== undefined) {
        taken.push({ address: { family, value: shared }, fresh: false });
        continue;
      }
      const free = (value: bigint): boolean => !this.holders[family].has(value);
      const value = firstDefined(state.cursors.filter((c) => c.range.family === family), (c) => c.take(free));
      if (value !== undefined) taken.push({ address: { family, value }, fresh: true });
      else if (all) {
        for (const t of taken) if (t.fresh) this.giveBack(t.address);
        return undefined;
      }
    }
    return taken.map((t) => t.address);
  }

  private findShareable(pool: string, family: Family, request: ServiceRequest): bigint | undefined {
    if (request.sharingKey === undefined) return undefined;
    for (const value of this.shared.get(`${pool}|${request.sharingKey}|${family}`) ?? []) {
      const holder = this.holders[family].get(value);
      if (holder && [...holder.services.values()].every((other) => sharingConflict(request, other) === undefined)) return value;
    }
    return undefined;
  }

  /** Why a Service may not hold these addresses from this pool, or undefined if it may. */
  private problemWith(request: ServiceRequest, poolName: string, addresses: readonly Address[]): Problem | undefined {
    const state = this.pools.get(poolName);
    if (!state) return { cause: 'config', text: `pool "${poolName}" no longer exists` };
    for (const address of addresses) {
      if (!state.cursors.some((c) => c.range.family === address.family && c.offers(address.value))) {
        return { cause: 'config', text: `${formatAddress(address)} is no longer in pool "${poolName}"` };
      }
    }
    const refusal = poolRefusal(state.pool, request);
    if (refusal) return { cause: 'config', text: `pool "${poolName}" is no longer open to this Service: ${refusal}` };
    // A clash with another holder is checked before the Service's own wishes: it must never be kept.
    for (const address of addresses) {
      for (const other of this.holders[address.family].get(address.value)?.services.values() ?? []) {
        const why = other.key === request.key ? undefined : sharingConflict(request, other);
        if (why) return { cause: 'conflict', text: `${formatAddress(address)} is also held by ${other.key}: ${why}` };
      }
    }
    const wanted = wantedFamilies(request);
    if (addresses.some((a) => !wanted.includes(a.family)) || new Set(addresses.map((a) => a.family)).size !== addresses.length) {
      return { cause: 'request', text: `the Service's ipFamilies (${wanted.join(', ')}) no longer match its addresses` };
    }
    if (request.requestedPool !== undefined && request.requestedPool !== poolName) {
      return { cause: 'request', text: `the Service now asks for pool "${request.requestedPool}"` };
    }
    const ips = addresses.map(formatAddress);
    if (request.requestedIps.length > 0) {
      const asked = request.requestedIps.map((ip) => {
        const address = parseAddress(ip.trim());
        return address ? formatAddress(address) : ip;
      });
      if (asked.length !== ips.length || asked.some((ip) => !ips.includes(ip))) {
        return { cause: 'request', text: `the Service now asks for ${request.requestedIps.join(', ')}` };
      }
    }
    return undefined;
  }

  private poolOffering(address: Address): PoolState | undefined {
    for (const state of this.pools.values()) {
      if (state.cursors.some((c) => c.range.family === address.family && c.offers(address.value))) return state;
    }
    return undefined;
  }

  private register(held: Held): void {
    for (const address of held.addresses) {
      const map = this.holders[address.family];
      let holder = map.get(address.value);
      if (!holder) map.set(address.value, (holder = { pool: held.pool, services: new Map() }));
      holder.services.set(held.request.key, held.request);
      const key = held.request.sharingKey;
      if (key !== undefined) {
        const index = `${held.pool}|${key}|${address.family}`;
        let set = this.shared.get(index);
        if (!set) this.shared.set(index, (set = new Set()));
        set.add(address.value);
      }
    }
    this.held.set(held.request.key, held);
  }

  private unregister(held: Held, returnToPool = true): void {
    this.held.delete(held.request.key);
    for (const address of held.addresses) {
      const holder = this.holders[address.family].get(address.value);
      if (!holder) continue;
      holder.services.delete(held.request.key);
      const key = held.request.sharingKey;
      const index = `${held.pool}|${key}|${address.family}`;
      if (key !== undefined && ![...holder.services.values()].some((s) => s.sharingKey === key)) this.shared.get(index)?.delete(address.value);
      if (holder.services.size === 0) {
        this.holders[address.family].delete(address.value);
        if (returnToPool) this.giveBack(address);
      }
    }
  }

  private giveBack(address: Address): void {
    this.poolOffering(address)?.cursors.find((c) => c.range.family === address.family && c.offers(address.value))?.giveBack(address.value);
  }
}

function toAssignment(held: Held): Assignment {
  return { pool: held.pool, ips: held.addresses.map(formatAddress) };
}

function invalidRequest(message: string): Outcome {
  return { ok: false, failure: { reason: 'invalid-request', message } };
}

function requestProblem(request: ServiceRequest): string | undefined {
  if (request.ipFamilies.length > 2 || new Set(request.ipFamilies).size !== request.ipFamilies.length) return `ipFamilies ${request.ipFamilies.join(', ')} is not valid`;
  if (request.ipFamilyPolicy === 'RequireDualStack' && request.ipFamilies.length !== 2) return 'RequireDualStack needs two ipFamilies';
  if (request.requestedIps.length > 2) return `at most two addresses may be requested, one per family (got ${request.requestedIps.length})`;
  return undefined;
}

function firstDefined<T, R>(items: readonly T[], f: (item: T) => R | undefined): R | undefined {
  for (const item of items) {
    const r = f(item);
    if (r !== undefined) return r;
  }
  return undefined;
}
