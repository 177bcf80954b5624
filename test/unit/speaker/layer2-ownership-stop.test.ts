// A planned stop leaves nothing behind that keeps the process alive: a renewal still in flight
// when SIGTERM arrives must not arm the own-Lease expiry timer again after stop() cleared it
// (seen in the e2e lab: the speaker said "speaker stopped" and exited 1.6 s later).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeRest } from '../../../src/k8s/rest.js';
import { Layer2Ownership } from '../../../src/speaker/layer2-ownership.js';
import { SpeakerLease, defaultSpeakerLeaseTiming, type SpeakerLeaseObject } from '../../../src/speaker/speaker-lease.js';

/** A KubeRest whose writes wait until the test lets them through. */
function gatedRest(): { rest: KubeRest; writes: SpeakerLeaseObject[]; release: () => void } {
  const writes: SpeakerLeaseObject[] = [];
  let open: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (open = resolve));
  let version = 0;
  const save = async <T>(body: unknown): Promise<T> => {
    await gate;
    const object = body as SpeakerLeaseObject;
    writes.push(object);
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(++version) } } as T;
  };
  return {
    rest: {
      get: <T>() => Promise.resolve({ items: [] } as T),
      create: <T>(_path: string, body: unknown) => save<T>(body),
      replace: <T>(_path: string, body: unknown) => save<T>(body),
      mergePatch: () => Promise.reject(new Error('not used')),
    },
    writes,
    release: () => {
      open();
      gate = Promise.resolve();
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Layer2Ownership.stop', () => {
  it('leaves no timer armed when a renewal was in flight at the stop', async () => {
    vi.useFakeTimers();
    const { rest, writes, release } = gatedRest();
    const lease = new SpeakerLease(rest, 'vipcast-system', 'node-1', defaultSpeakerLeaseTiming, () => performance.now());
    const ownership = new Layer2Ownership(lease, () => performance.now(), { answer: () => undefined, silence: () => undefined });
    ownership.start();
    await vi.advanceTimersByTimeAsync(0); // the own-Lease read is done; the first renewal waits at the gate
    const stopped = ownership.stop();
    release(); // the renewal succeeds after stop() began, then the release is written
    await stopped;
    await vi.advanceTimersByTimeAsync(0);
    expect(writes.map((w) => w.spec?.holderIdentity)).toEqual(['node-1', '']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
