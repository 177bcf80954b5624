// Polling in the harness: a condition that never holds fails the caller instead of handing
// back whatever was last seen, so a test cannot pass by ignoring a timeout.
import { describe, expect, it } from 'vitest';
import { WaitTimeoutError, pollUntil, waitUntil } from '../../../lab/netns.js';

describe('waitUntil', () => {
  it('returns the value that met the condition', async () => {
    let n = 0;
    expect(await waitUntil(() => ++n, (v) => v >= 3, 5000, 1)).toBe(3);
  });

  it('throws with the last value when the condition never holds', async () => {
    const error = await waitUntil(() => 'still waiting', (v) => v === 'done', 30, 5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError<string>).last).toBe('still waiting');
    expect(String(error)).toMatch(/within 30 ms; last value: "still waiting"/);
  });

  it('pollUntil says whether the condition held, for callers that explain a timeout themselves', async () => {
    expect(await pollUntil(() => 1, (v) => v === 2, 20, 5)).toEqual({ met: false, value: 1 });
    expect(await pollUntil(() => 2, (v) => v === 2, 20, 5)).toEqual({ met: true, value: 2 });
  });
});
