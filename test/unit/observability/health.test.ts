// What /healthz says, on an injected clock: it fails for wedges a restart cures (a restart
// that never comes, a watch gone silent, a reconcile that never ends, an event loop that
// stays behind, a Lease renewal loop that stopped) and never merely because the API server
// cannot be reached, since a liveness restart during an outage only makes things worse.
import { describe, expect, it } from 'vitest';
import { EventLoopLag, RenewalWrites, evaluateHealth, informersCheck, judgeInformer, stuckWorkCheck, trackRequests } from '../../../src/observability/health.js';
import type { InformerHealth } from '../../../src/k8s/informer.js';
import { KubeApiError, type KubeRest } from '../../../src/k8s/rest.js';

const minute = 60_000;
const limits = { restartOverdueMs: minute, failingMs: 5 * minute };

function informer(extra: Partial<InformerHealth> = {}): InformerHealth {
  return { name: 'services', synced: true, lastProgressAt: 0, restartDueAt: undefined, failingSince: undefined, lastError: undefined, maxQuietMs: 10 * minute, restarts: 0, lists: 1, ...extra };
}

describe('informer health', () => {
  it('passes for a synced informer whose watch is renewed in time', () => {
    expect(judgeInformer(informer(), 9 * minute, limits, true)).toMatchObject({ ok: true, message: 'services: synced, 1 list(s), 0 restart(s)' });
  });

  it('fails when no list, watch or event happened for longer than a watch may last', () => {
    const verdict = judgeInformer(informer(), 11 * minute, limits, true);
    expect(verdict.ok).toBe(false);
    expect(verdict.message).toContain('services: no list, watch or event for 660 s');
  });

  it('fails when its restart after an error is long overdue: the restart loop is stuck', () => {
    const waiting = informer({ restartDueAt: 10_000, failingSince: 0, lastError: 'connect ECONNREFUSED' });
    expect(judgeInformer(waiting, 30_000, limits, false).ok).toBe(true);
    expect(judgeInformer(waiting, 10_000 + minute + 1, limits, false)).toMatchObject({ ok: false, message: 'services: its restart after an error is 60 s overdue' });
  });

  it('keeps passing while the API server is unreachable, however long the errors last', () => {
    const retrying = informer({ restartDueAt: 60 * minute - 1_000, failingSince: 0, lastProgressAt: 60 * minute - 1_000, lastError: 'connect ECONNREFUSED' });
    expect(judgeInformer(retrying, 60 * minute, limits, false)).toMatchObject({ ok: true, message: 'services: retrying after errors for 3600 s (connect ECONNREFUSED)' });
  });

  it('fails after failing for the limit while the API server answers other requests', () => {
    const refused = informer({ restartDueAt: 6 * minute, failingSince: 0, lastProgressAt: 6 * minute - 1_000, lastError: 'Forbidden' });
    expect(judgeInformer(refused, 4 * minute, limits, true).ok).toBe(true);
    expect(judgeInformer(refused, 6 * minute, limits, true)).toMatchObject({ ok: false, message: 'services: failing for 360 s while the API server answers (Forbidden)' });
  });

  it('can keep a synced cache serving through errors, failing only one that never synced', () => {
    const beforeSync = { ...limits, failingOnlyBeforeSync: true };
    const failing = { restartDueAt: 6 * minute, failingSince: 0, lastProgressAt: 6 * minute - 1_000 };
    expect(judgeInformer(informer({ ...failing, synced: true }), 6 * minute, beforeSync, true).ok).toBe(true);
    expect(judgeInformer(informer({ ...failing, synced: false }), 6 * minute, beforeSync, true).ok).toBe(false);
  });

  it('names the failing informers and passes with none running', () => {
    const check = informersCheck(() => [informer({ name: 'nodes' }), informer({ name: 'leases', restartDueAt: 0 })], limits, () => false);
    expect(check(2 * minute)).toMatchObject({ ok: false, message: 'leases: its restart after an error is 120 s overdue' });
    expect(informersCheck(() => [], limits, () => true)(0)).toEqual({ ok: true, message: 'no informer running' });
  });
});

describe('the reconcile check', () => {
  it('fails while one reconcile has been running longer than the limit', () => {
    const running: { since: number | undefined } = { since: undefined };
    const check = stuckWorkCheck('reconcile', () => running.since, 2 * minute);
    expect(check(0).ok).toBe(true);
    running.since = 1_000;
    expect(check(minute).ok).toBe(true);
    expect(check(3 * minute)).toEqual({ ok: false, message: 'a reconcile has been running for 179 s' });
  });
});

describe('event-loop lag', () => {
  it('fails when every tick has been late for the sustained time, and recovers with the first tick on time', () => {
    const lag = new EventLoopLag({ thresholdMs: 2_000, sustainedMs: 30_000 });
    for (let t = 0; t <= 20_000; t += 3_000) lag.record(2_500, t);
    expect(lag.check(21_000).ok).toBe(true);
    for (let t = 21_000; t <= 33_000; t += 3_000) lag.record(2_500, t);
    const wedged = lag.check(33_000);
    expect(wedged.ok).toBe(false);
    expect(wedged.message).toContain('over 2000 ms behind for 33 s');
    lag.record(3, 34_000);
    expect(lag.check(34_000)).toEqual({ ok: true, message: 'last tick 3 ms late, worst 2500 ms' });
  });

  it('does not fail for one long pause that is already over', () => {
    const lag = new EventLoopLag({ thresholdMs: 2_000, sustainedMs: 30_000 });
    lag.record(45_000, 50_000);
    expect(lag.check(50_000).ok).toBe(true);
    lag.record(1, 51_000);
    expect(lag.check(51_000).ok).toBe(true);
  });
});

describe('the Lease renewal check', () => {
  const renewals = (): RenewalWrites => new RenewalWrites('Lease renewal', { stalledMs: 30_000, refusedMs: 60_000 });

  it('passes before the first renewal and while renewals keep succeeding', () => {
    const writes = renewals();
    expect(writes.check(minute)).toMatchObject({ ok: true });
    writes.attempted(0);
    writes.succeeded(100);
    expect(writes.check(500)).toEqual({ ok: true, message: '1 Lease renewal(s), last succeeded 0 s ago' });
  });

  it('fails when no renewal was attempted for longer than the limit: the renewal loop is stuck', () => {
    const writes = renewals();
    writes.attempted(0);
    writes.succeeded(100);
    expect(writes.check(30_100).ok).toBe(true);
    expect(writes.check(30_200)).toMatchObject({ ok: false, message: 'no Lease renewal attempted or finished for 30 s: the renewal loop is stuck' });
  });

  it('keeps passing while the API server cannot be reached, and fails when it answers with refusals', () => {
    const away = renewals();
    for (let t = 0; t <= 10 * minute; t += 1_500) {
      away.attempted(t);
      away.failed(t + 1_100, 0, 'PUT /apis/... timed out after 1100 ms');
    }
    expect(away.check(10 * minute + 1_200)).toMatchObject({ ok: true });
    const refused = renewals();
    for (let t = 0; t <= 2 * minute; t += 1_500) {
      refused.attempted(t);
      refused.failed(t + 10, 403, 'forbidden by the admission policy');
    }
    expect(refused.check(2 * minute)).toMatchObject({ ok: false, message: 'the API server has refused every Lease renewal for 120 s (last: 403: forbidden by the admission policy)' });
    refused.attempted(2 * minute);
    refused.succeeded(2 * minute + 10);
    expect(refused.check(2 * minute + 20).ok).toBe(true);
  });

  it('reports each kind of failure once, not every retry, and the first success after failures', () => {
    const heard: { failing: boolean; message: string }[] = [];
    const writes = new RenewalWrites('Lease renewal', { stalledMs: 30_000, refusedMs: 60_000 }, (change) => heard.push(change));
    writes.attempted(0);
    writes.succeeded(10);
    expect(heard).toEqual([]);
    for (let t = 500; t <= 5_000; t += 500) writes.failed(t, 403, 'leases "vipcast-speaker-a" is forbidden: a vipcast speaker may write only the Lease of its own node');
    for (let t = 5_500; t <= 8_000; t += 500) writes.failed(t, 0, `PUT /apis/... timed out after ${1_100 + t} ms`);
    writes.succeeded(8_500);
    writes.failed(9_000, 0, 'PUT /apis/... timed out after 1100 ms');
    expect(heard).toEqual([
      { failing: true, message: 'Lease renewal failed: 403: leases "vipcast-speaker-a" is forbidden: a vipcast speaker may write only the Lease of its own node' },
      { failing: true, message: 'Lease renewal failed: PUT /apis/... timed out after 6600 ms' },
      { failing: false, message: 'Lease renewal succeeded again after: PUT /apis/... timed out after 6600 ms' },
      { failing: true, message: 'Lease renewal failed: PUT /apis/... timed out after 1100 ms' },
    ]);
  });

  it('records every request made through a tracked client, reads included (the peer-quorum Lease loop mostly reads)', async () => {
    let now = 0;
    const writes = renewals();
    const failing: KubeRest = {
      get: <T>() => Promise.resolve({} as T),
      create: () => Promise.reject(new KubeApiError('POST', '/leases', 422, { message: 'invalid' })),
      replace: <T>() => Promise.resolve({} as T),
      mergePatch: <T>() => Promise.resolve({} as T),
    };
    const tracked = trackRequests(failing, writes, () => now);
    expect(writes.check(0).message).toContain('no Lease renewal yet');
    await tracked.get('/leases');
    expect(writes.check(minute).message).toContain('no Lease renewal attempted or finished for');
    for (now = 0; now <= 61_000; now += 500) await tracked.create('/leases', {}).catch(() => undefined);
    expect(writes.check(now)).toMatchObject({ ok: false });
    await tracked.replace('/leases/x', {});
    expect(writes.check(now).ok).toBe(true);
  });

  it('counts a 404 (our Lease does not exist yet) as an answer, not as a refusal', async () => {
    let now = 0;
    const heard: string[] = [];
    const writes = new RenewalWrites('Lease renewal', { stalledMs: 30_000, refusedMs: 60_000 }, (change) => heard.push(change.message));
    const absent: KubeRest = {
      get: () => Promise.reject(new KubeApiError('GET', '/leases/x', 404, { message: 'not found' })),
      create: <T>() => Promise.resolve({} as T),
      replace: <T>() => Promise.resolve({} as T),
      mergePatch: <T>() => Promise.resolve({} as T),
    };
    const tracked = trackRequests(absent, writes, () => now);
    for (now = 0; now <= 61_000; now += 500) await expect(tracked.get('/leases/x')).rejects.toThrow('404');
    expect(writes.check(now)).toMatchObject({ ok: true });
    expect(heard).toEqual([]);
  });
});

describe('the /healthz report', () => {
  it('is ok only when every check passes, and turns a check that throws into a failure', () => {
    const pass = () => ({ ok: true, message: 'fine' });
    expect(evaluateHealth({ a: pass, b: pass }, 0)).toEqual({ ok: true, checks: { a: { ok: true, message: 'fine' }, b: { ok: true, message: 'fine' } } });
    const report = evaluateHealth({
      a: pass,
      b: () => {
        throw new Error('boom');
      },
    }, 0);
    expect(report).toEqual({ ok: false, checks: { a: { ok: true, message: 'fine' }, b: { ok: false, message: 'the check failed: boom' } } });
  });
});
