// What a client saw during a failover, read from the probe's log (programs/tcp-probe.ts prints one line
// per TCP connection attempt: "<ms since epoch> ok <answer>" or "<ms since epoch> fail <why>").
// One definition of "outage" serves the lab demo, the e2e tests and the speaker benchmark, so
// the figure the demo prints is the figure the benchmark measures.

/** One connection attempt of the probe. */
export interface ProbeAttempt {
  /** When the attempt began, in ms since the epoch. */
  readonly at: number;
  readonly ok: boolean;
  /** What the server said (the node's name), or why the attempt failed. */
  readonly answer: string;
}

/** The attempts in the probe's output lines that began at or after `from`. */
export function parseProbeLines(lines: Iterable<string>, from = Number.NEGATIVE_INFINITY): ProbeAttempt[] {
  const attempts: ProbeAttempt[] = [];
  for (const line of lines) {
    const match = /^(\d+) (ok|fail)(?: (.*))?$/.exec(line);
    if (match === null) continue;
    const at = Number(match[1]);
    if (at >= from) attempts.push({ at, ok: match[2] === 'ok', answer: match[3] ?? '' });
  }
  // An attempt is printed when it ends (a timeout 300 ms later) but stamped with when it
  // began: put them back in the order they began.
  return attempts.sort((a, b) => a.at - b.at);
}

/** True when the last `run` attempts all succeeded (answered by `by`, when given). */
export function servedSteadily(attempts: readonly ProbeAttempt[], by?: string, run = 5): boolean {
  const last = attempts.slice(-run);
  return last.length === run && last.every((a) => a.ok && (by === undefined || a.answer === by));
}

/** A failover as the client saw it. */
export interface ClientOutage {
  /**
   * The longest stretch without an answer since the event: from the last success before a run
   * of failures (or the event itself) to the next success. 0 when no failure was followed by
   * a success: callers first wait for the client to be served again.
   */
  readonly outageMs: number;
  /** When that stretch began and ended (ms since the epoch). */
  readonly lastAnswerAt: number;
  readonly nextAnswerAt: number;
  /** From the event to the first answer by `by` (NaN when `by` never answered). */
  readonly servedAfterMs: number;
}

/** Measures the outage in the attempts that began at or after `eventAt`. */
export function clientOutage(attempts: readonly ProbeAttempt[], eventAt: number, by?: string): ClientOutage {
  let outage = { outageMs: 0, lastAnswerAt: eventAt, nextAnswerAt: eventAt };
  let lastOk = eventAt;
  let failing = false;
  let firstByAt = Number.NaN;
  for (const a of attempts) {
    if (a.at < eventAt) continue;
    if (!a.ok) {
      failing = true;
      continue;
    }
    if (failing && a.at - lastOk > outage.outageMs) outage = { outageMs: a.at - lastOk, lastAnswerAt: lastOk, nextAnswerAt: a.at };
    if (Number.isNaN(firstByAt) && (by === undefined || a.answer === by)) firstByAt = a.at;
    failing = false;
    lastOk = a.at;
  }
  return { ...outage, servedAfterMs: firstByAt - eventAt };
}
