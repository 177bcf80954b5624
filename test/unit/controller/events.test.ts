// Event recording: a repeat of the same Event becomes one Event with a series count, patched
// at most once per interval; names are valid for the API.
import { describe, expect, it } from 'vitest';
import { EventRecorder, reportDroppedEvents } from '../../../src/k8s/events.js';
import type { KubeRest } from '../../../src/k8s/rest.js';

function fakeRest(): { rest: KubeRest; calls: { verb: string; path: string; body: unknown }[] } {
  const calls: { verb: string; path: string; body: unknown }[] = [];
  const rest: KubeRest = {
    get: () => Promise.reject(new Error('unused')),
    create: <T>(path: string, body: unknown) => {
      calls.push({ verb: 'create', path, body });
      return Promise.resolve({ metadata: { name: (body as { metadata: { name: string } }).metadata.name } } as T);
    },
    replace: () => Promise.reject(new Error('unused')),
    mergePatch: <T>(path: string, body: unknown) => {
      calls.push({ verb: 'patch', path, body });
      return Promise.resolve({} as T);
    },
  };
  return { rest, calls };
}

const subject = { apiVersion: 'v1', kind: 'Service', namespace: 'apps', name: 'web', uid: 'u1' };
const failed = { type: 'Warning', reason: 'AllocationFailed', action: 'Allocate', note: 'pool exhausted' } as const;

describe('EventRecorder', () => {
  it('creates an events.k8s.io/v1 Event with a valid unique name', async () => {
    const { rest, calls } = fakeRest();
    const recorder = new EventRecorder(rest, { controller: 'vipcast.io/controller', instance: 'pod-1' });
    await recorder.record(subject, failed);
    await recorder.record(subject, { ...failed, note: 'another reason' });
    expect(calls.map((c) => c.path)).toEqual(['/apis/events.k8s.io/v1/namespaces/apps/events', '/apis/events.k8s.io/v1/namespaces/apps/events']);
    const names = calls.map((c) => (c.body as { metadata: { name: string } }).metadata.name);
    for (const name of names) expect(name).toMatch(/^web\.[0-9a-f]+$/);
    expect(new Set(names).size).toBe(2);
    expect(calls[0]?.body).toMatchObject({ reason: 'AllocationFailed', type: 'Warning', reportingController: 'vipcast.io/controller', reportingInstance: 'pod-1', regarding: { kind: 'Service', name: 'web', uid: 'u1' } });
  });

  it('writes an Event about a cluster-scoped object (a Node) to default, regarding it without a namespace', async () => {
    const { rest, calls } = fakeRest();
    const recorder = new EventRecorder(rest, { controller: 'vipcast.io/speaker', instance: 'n1' });
    await recorder.record({ apiVersion: 'v1', kind: 'Node', namespace: '', name: 'n1' }, failed);
    expect(calls.map((c) => c.path)).toEqual(['/apis/events.k8s.io/v1/namespaces/default/events']);
    expect(calls[0]?.body).toMatchObject({ metadata: { namespace: 'default' }, regarding: { kind: 'Node', name: 'n1', namespace: '' } });
  });

  it('merges repeats into a series, patching its count at most once per interval', async () => {
    const { rest, calls } = fakeRest();
    const clock = { now: 0 };
    const recorder = new EventRecorder(rest, { controller: 'c', instance: 'i', patchIntervalMs: 30_000, now: () => clock.now });
    await recorder.record(subject, failed);
    for (let i = 0; i < 5; i++) {
      clock.now += 1_000;
      await recorder.record(subject, failed);
    }
    expect(calls.map((c) => c.verb)).toEqual(['create']);
    clock.now += 30_000;
    await recorder.record(subject, failed);
    expect(calls.map((c) => c.verb)).toEqual(['create', 'patch']);
    expect(calls[1]?.body).toMatchObject({ series: { count: 7 } });
  });

  it('cuts a note to the 1 kB the API accepts', async () => {
    const { rest, calls } = fakeRest();
    await new EventRecorder(rest, { controller: 'c', instance: 'i' }).record(subject, { ...failed, note: 'x'.repeat(5_000) });
    const note = (calls[0]?.body as { note: string }).note;
    expect(Buffer.byteLength(note)).toBeLessThanOrEqual(1024);
    expect(note.endsWith('…(truncated)')).toBe(true);
  });

  it('writes a burst a few at a time, in order, and counts what it cannot queue as dropped', async () => {
    const started: string[] = [];
    const release: (() => void)[] = [];
    const rest: KubeRest = {
      get: () => Promise.reject(new Error('unused')),
      create: <T>(_path: string, body: unknown) => {
        const name = (body as { regarding: { name: string } }).regarding.name;
        started.push(name);
        return new Promise<T>((resolve) => release.push(() => resolve({ metadata: { name } } as T)));
      },
      replace: () => Promise.reject(new Error('unused')),
      mergePatch: () => Promise.reject(new Error('unused')),
    };
    const dropped: string[] = [];
    const recorder = new EventRecorder(rest, { controller: 'c', instance: 'i', maxInFlight: 2, maxWaiting: 3, onDropped: (intent) => dropped.push(intent.note) });
    const writes = Array.from({ length: 7 }, (_, i) => recorder.record({ ...subject, name: `s${i}` }, { ...failed, note: `n${i}` }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['s0', 's1']);
    expect(recorder.backlog).toBe(3);
    expect(dropped).toEqual(['n5', 'n6']);
    while (release.length > 0) {
      release.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
      expect(release.length).toBeLessThanOrEqual(2); // never more than two in flight
    }
    await Promise.all(writes);
    expect(started).toEqual(['s0', 's1', 's2', 's3', 's4']);
    expect(recorder.backlog).toBe(0);
    // A dropped Event leaves no series behind: the same Event later is created, not merged.
    const later = recorder.record({ ...subject, name: 's5' }, { ...failed, note: 'n5' });
    await new Promise((resolve) => setImmediate(resolve));
    release.shift()?.();
    await later;
    expect(started.at(-1)).toBe('s5');
  });

  it('reports dropped Events: every one counted, a warning at most once per interval with the count since the last', () => {
    const warnings: Record<string, unknown>[] = [];
    let counted = 0;
    const clock = { now: 0 };
    const onDropped = reportDroppedEvents((_message, fields) => warnings.push(fields), () => counted++, 30_000, () => clock.now);
    for (let i = 0; i < 5; i++) onDropped(failed);
    expect(counted).toBe(5);
    expect(warnings).toEqual([{ dropped: 1, lastReason: 'AllocationFailed' }]);
    clock.now += 30_000;
    onDropped(failed);
    expect(warnings.at(-1)).toEqual({ dropped: 5, lastReason: 'AllocationFailed' });
    expect(counted).toBe(6);
  });

  it('close() drops what waits, reported as dropped, lets what is in flight finish, and refuses later Events', async () => {
    const release: (() => void)[] = [];
    let created = 0;
    const rest: KubeRest = {
      get: () => Promise.reject(new Error('unused')),
      create: <T>(_path: string, body: unknown) => new Promise<T>((resolve) => release.push(() => (created++, resolve({ metadata: { name: (body as { metadata: { name: string } }).metadata.name } } as T)))),
      replace: () => Promise.reject(new Error('unused')),
      mergePatch: () => Promise.reject(new Error('unused')),
    };
    const dropped: string[] = [];
    const recorder = new EventRecorder(rest, { controller: 'c', instance: 'i', maxInFlight: 1, onDropped: (intent) => dropped.push(intent.note) });
    const writes = [0, 1, 2].map((i) => recorder.record({ ...subject, name: `s${i}` }, { ...failed, note: `n${i}` }));
    await new Promise((resolve) => setImmediate(resolve));
    recorder.close();
    await recorder.record({ ...subject, name: 's3' }, { ...failed, note: 'n3' });
    expect(dropped.sort()).toEqual(['n1', 'n2', 'n3']);
    release.shift()?.();
    await Promise.all(writes);
    expect(created).toBe(1);
    expect(release).toEqual([]);
  });
});
