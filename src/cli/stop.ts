// How every long-running command waits to stop: the first SIGTERM or SIGINT, or the program's
// own reason (a failed start, a lost Lease), whichever comes first. The signal listeners are
// removed once it settles, so a second signal gets Node's default (exit at once).

/** A stop that has not happened yet. */
export interface Stop {
  /** Resolves with `SIGTERM`, `SIGINT` or the reason given to stop(). */
  readonly reason: Promise<string>;
  /** Stops for a reason of the program's own; the first stop wins. */
  stop(reason: string): void;
}

/** Starts listening for SIGTERM and SIGINT. */
export function waitForStop(): Stop {
  let settle: (reason: string) => void = () => undefined;
  const reason = new Promise<string>((resolve) => (settle = resolve));
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  const stop = (why: string): void => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    settle(why);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { reason, stop };
}

/** Whether a stop came from a signal, the planned way to stop (exit 0). */
export function isSignal(reason: string): boolean {
  return reason === 'SIGTERM' || reason === 'SIGINT';
}
