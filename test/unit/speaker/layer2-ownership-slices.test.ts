// A large batch of newly confirmed VIPs is answered in slices, with the event loop free
// between them (issue 18: 5,000 answers in one run stalled the loop past the peers' ping
// timeout). What the hooks hear stays consistent: each VIP answered once, silenced once and
// only after its answer, nothing answered after a stop, and held() is what was answered.
import { describe, expect, it } from 'vitest';
import type { KubeRest } from '../../../src/k8s/rest.js';
import { Layer2Ownership } from '../../../src/speaker/layer2-ownership.js';
import { SpeakerLease, defaultSpeakerLeaseTiming, type SpeakerLeaseObject } from '../../../src/speaker/speaker-lease.js';

function memoryRest(): KubeRest {
  let version = 0;
  let stored: SpeakerLeaseObject | undefined;
  const save = <T>(body: unknown): Promise<T> => {
    const object = body as SpeakerLeaseObject;
    stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++version) } };
    return Promise.resolve(stored as T);
  };
  return {
    get: <T>(path: string) => (path.endsWith('/leases') ? Promise.resolve({ items: stored ? [stored] : [] } as T) : stored ? Promise.resolve(stored as T) : Promise.reject(Object.assign(new Error('not found'), { code: 404 }))),
    create: <T>(_path: string, body: unknown) => save<T>(body),
    replace: <T>(_path: string, body: unknown) => save<T>(body),
    mergePatch: () => Promise.reject(new Error('not used')),
  };
}

const vips = (n: number): Map<string, ReadonlySet<string>> => new Map(Array.from({ length: n }, (_, i) => [`10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, new Set(['node-1'])]));

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('Layer2Ownership answering a large batch', () => {
  it('answers 1,000 VIPs in slices, each once, yielding to the event loop between slices', async () => {
    const lease = new SpeakerLease(memoryRest(), 'vipcast-system', 'node-1', defaultSpeakerLeaseTiming, () => performance.now());
    const answered: string[] = [];
    const sliceEnds: number[] = [];
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    const ownership = new Layer2Ownership(lease, () => performance.now(), {
      answer: (vip) => {
        answered.push(vip);
        if (answered.length % 200 === 0) sliceEnds.push(ticks);
      },
      silence: () => undefined,
    });
    ownership.setVips(vips(1000));
    ownership.start();
    try {
      await until(() => answered.length === 1000, '1,000 answers');
      expect(new Set(answered).size).toBe(1000);
      expect(ownership.held().size).toBe(1000);
      // Timers ran between the slices: the loop was free at least once between the first and the last.
      expect(sliceEnds.length).toBe(5);
      expect((sliceEnds.at(-1) ?? 0) - (sliceEnds[0] ?? 0)).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
      await ownership.stop();
    }
  });

  it('a stop in the middle of a batch: nothing is answered after it, and every answered VIP is silenced once', async () => {
    const lease = new SpeakerLease(memoryRest(), 'vipcast-system', 'node-1', defaultSpeakerLeaseTiming, () => performance.now());
    const events: string[] = [];
    let stopping: Promise<void> | undefined;
    let heldAtFirstSlice = -1;
    const ownership: Layer2Ownership = new Layer2Ownership(lease, () => performance.now(), {
      answer: (vip) => {
        events.push(`answer ${vip}`);
        if (events.length === 200) {
          heldAtFirstSlice = ownership.held().size;
          stopping = ownership.stop();
        }
      },
      silence: (vip) => events.push(`silence ${vip}`),
    });
    ownership.setVips(vips(1000));
    ownership.start();
    await until(() => stopping !== undefined, 'the first slice');
    await stopping;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const answers = events.filter((e) => e.startsWith('answer '));
    const silences = events.filter((e) => e.startsWith('silence '));
    expect(answers.length).toBe(200);
    expect(heldAtFirstSlice).toBe(200); // held() is what was answered, not all 1,000 confirmed
    expect(silences.map((e) => e.slice(8)).sort()).toEqual(answers.map((e) => e.slice(7)).sort());
    // Every silence comes after every answer: nothing was answered once the stop began.
    expect(events.findIndex((e) => e.startsWith('silence '))).toBe(200);
    expect(ownership.held().size).toBe(0);
  });
});
