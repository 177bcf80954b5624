// Time as the layer-2 speaker sees it: a monotonic clock and one-shot timers, behind an
// interface so tests drive announcement bursts and rate limits with a fake clock.

/** An opaque handle of a pending timer. */
export type TimerHandle = unknown;

/** A monotonic clock in milliseconds and one-shot timers; tests pass a fake one. */
export interface Scheduler {
  /** Milliseconds on a monotonic clock (never jumps with wall-clock changes). */
  now(): number;
  /** Calls `callback` once after `delayMs` milliseconds. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer that has not fired yet; harmless if it has. */
  clearTimeout(handle: TimerHandle): void;
}

/** The process's real clock (performance.now) and Node's timers. */
export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
