// The work queue: one run per key however often it is queued, never two runs of a key at
// once, a key queued while running runs again afterwards, failures retried with backoff.
import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../src/controller/work-queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('runs a key queued many times before it starts once', async () => {
    const runs: string[] = [];
    const gate = deferred();
    const queue = new WorkQueue(
      async (key) => {
        runs.push(key);
        if (key === 'busy') await gate.promise;
      },
      { concurrency: 1, initialRetryMs: 1, maxRetryMs: 1, onError: () => undefined },
    );
    queue.add('busy');
    for (let i = 0; i < 5; i++) queue.add('b');
    expect(queue.size).toBe(2);
    gate.resolve();
    await queue.idle();
    expect(runs).toEqual(['busy', 'b']);
  });

  it('never runs one key twice at once, and runs it again when queued while running', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const gates = [deferred(), deferred()];
    const queue = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await gates[runs++]?.promise;
        active--;
      },
      { concurrency: 4, initialRetryMs: 1, maxRetryMs: 1, onError: () => undefined },
    );
    queue.add('k');
    queue.add('k');
    queue.add('k');
    expect(runs).toBe(1);
    gates[0]?.resolve();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(runs).toBe(2);
    gates[1]?.resolve();
    await queue.idle();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('retries a failing key with growing delays until it succeeds', async () => {
    let attempts = 0;
    const delays: number[] = [];
    const queue = new WorkQueue(
      () => (++attempts < 4 ? Promise.reject(new Error('boom')) : Promise.resolve()),
      { concurrency: 1, initialRetryMs: 2, maxRetryMs: 6, onError: (_key, _error, retryInMs) => delays.push(retryInMs) },
    );
    queue.add('k');
    for (let i = 0; i < 100 && attempts < 4; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(attempts).toBe(4);
    expect(delays).toEqual([2, 4, 6]);
  });

  it('limits how many keys run at once', async () => {
    let active = 0;
    let maxActive = 0;
    const queue = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 2));
        active--;
      },
      { concurrency: 3, initialRetryMs: 1, maxRetryMs: 1, onError: () => undefined },
    );
    for (let i = 0; i < 20; i++) queue.add(`k${i}`);
    await queue.idle();
    expect(maxActive).toBe(3);
  });
});
