import { describe, expect, it } from 'vitest';
import { clientOutage, parseProbeLines, servedSteadily, type ProbeAttempt } from '../../../lab/probe-log.js';

const ok = (at: number, answer = 'node-1'): ProbeAttempt => ({ at, ok: true, answer });
const fail = (at: number, answer = 'timeout'): ProbeAttempt => ({ at, ok: false, answer });

describe('parseProbeLines', () => {
  it('reads ok and fail lines, with and without a reason', () => {
    const lines = ['1000 ok node-1', '1050 fail ECONNREFUSED', '1100 fail', '1150 ok node-2 and more words'];
    expect(parseProbeLines(lines)).toEqual([
      { at: 1000, ok: true, answer: 'node-1' },
      { at: 1050, ok: false, answer: 'ECONNREFUSED' },
      { at: 1100, ok: false, answer: '' },
      { at: 1150, ok: true, answer: 'node-2 and more words' },
    ]);
  });

  it('skips lines that are not attempts', () => {
    const lines = ['', 'probe starting', 'ok node-1', '12a4 ok node-1', ' 1000 ok node-1', '1000 maybe node-1', '1000', '2000 ok node-3'];
    expect(parseProbeLines(lines)).toEqual([{ at: 2000, ok: true, answer: 'node-3' }]);
  });

  it('keeps only the attempts that began at or after `from`', () => {
    const lines = ['999 ok node-1', '1000 fail timeout', '1001 ok node-2'];
    expect(parseProbeLines(lines, 1000).map((a) => a.at)).toEqual([1000, 1001]);
    expect(parseProbeLines(lines, 1002)).toEqual([]);
  });

  it('reads any iterable, e.g. a generator', () => {
    function* lines(): Generator<string> {
      yield '5 ok a';
      yield '6 fail';
    }
    expect(parseProbeLines(lines())).toEqual([ok(5, 'a'), fail(6, '')]);
  });
});

describe('servedSteadily', () => {
  const fiveOk = [fail(0), ok(50), ok(100), ok(150), ok(200), ok(250)];

  it('holds when the last five attempts succeeded', () => {
    expect(servedSteadily(fiveOk)).toBe(true);
  });

  it('fails when one of the last five failed', () => {
    expect(servedSteadily([...fiveOk.slice(0, 4), fail(200), ok(250)])).toBe(false);
    expect(servedSteadily([...fiveOk, fail(300)])).toBe(false);
  });

  it('fails with fewer than five attempts, even all good', () => {
    expect(servedSteadily([ok(1), ok(2), ok(3), ok(4)])).toBe(false);
    expect(servedSteadily([])).toBe(false);
  });

  it('with `by`, needs every one of the last five answered by that node', () => {
    expect(servedSteadily(fiveOk, 'node-1')).toBe(true);
    expect(servedSteadily(fiveOk, 'node-2')).toBe(false);
    const mixed = [ok(50, 'node-2'), ok(100, 'node-2'), ok(150, 'node-2'), ok(200, 'node-2'), ok(250, 'node-1')];
    expect(servedSteadily(mixed, 'node-2')).toBe(false);
    expect(servedSteadily([ok(0, 'node-1'), ...mixed.slice(0, 4), ok(300, 'node-2')], 'node-2')).toBe(true);
  });

  it('honours another run length', () => {
    expect(servedSteadily([fail(0), ok(1), ok(2)], undefined, 2)).toBe(true);
    expect(servedSteadily([fail(0), ok(1), ok(2)], undefined, 3)).toBe(false);
  });
});

describe('clientOutage', () => {
  it('is 0 when no attempt failed, and servedAfterMs is the first answer', () => {
    const result = clientOutage([ok(1000), ok(1050), ok(1100)], 1020);
    expect(result).toEqual({ outageMs: 0, lastAnswerAt: 1020, nextAnswerAt: 1020, servedAfterMs: 30 });
  });

  it('measures one run of failures from the last answer before it to the next answer', () => {
    const attempts = [ok(1000), ok(1050), fail(1100), fail(1150), fail(1200), ok(1250), ok(1300)];
    expect(clientOutage(attempts, 1000)).toEqual({ outageMs: 200, lastAnswerAt: 1050, nextAnswerAt: 1250, servedAfterMs: 0 });
  });

  it('reports the longest of two runs of failures, wherever it falls', () => {
    const longFirst = [ok(1000), fail(1050), fail(1100), fail(1150), ok(1200), fail(1250), ok(1300)];
    expect(clientOutage(longFirst, 1000)).toMatchObject({ outageMs: 200, lastAnswerAt: 1000, nextAnswerAt: 1200 });
    const longSecond = [ok(1000), fail(1050), ok(1100), ok(1150), fail(1200), fail(1250), fail(1300), fail(1350), ok(1400)];
    expect(clientOutage(longSecond, 1000)).toMatchObject({ outageMs: 250, lastAnswerAt: 1150, nextAnswerAt: 1400 });
  });

  it('counts from the event when the first attempt after it fails', () => {
    const attempts = [fail(2010), fail(2060), ok(2110), ok(2160)];
    expect(clientOutage(attempts, 2000)).toEqual({ outageMs: 110, lastAnswerAt: 2000, nextAnswerAt: 2110, servedAfterMs: 110 });
  });

  it('ignores attempts that began before the event', () => {
    const attempts = [ok(500), fail(600), fail(700), fail(800), ok(900), ok(1000), fail(1050), ok(1100)];
    expect(clientOutage(attempts, 1000)).toEqual({ outageMs: 100, lastAnswerAt: 1000, nextAnswerAt: 1100, servedAfterMs: 0 });
  });

  it('gives servedAfterMs as the time from the event to the first answer by `by`', () => {
    const attempts = [ok(1000, 'node-1'), fail(1050), fail(1100), ok(1150, 'node-1'), ok(1200, 'node-2'), ok(1250, 'node-2')];
    const result = clientOutage(attempts, 990, 'node-2');
    expect(result.servedAfterMs).toBe(210);
    // The outage does not depend on who answered.
    expect(result).toMatchObject({ outageMs: 150, lastAnswerAt: 1000, nextAnswerAt: 1150 });
    expect(clientOutage(attempts, 990).servedAfterMs).toBe(10);
  });

  it('gives NaN for servedAfterMs when `by` never answered', () => {
    const result = clientOutage([ok(1000, 'node-1'), fail(1050), ok(1100, 'node-1')], 1000, 'node-3');
    expect(result.servedAfterMs).toBeNaN();
    expect(result.outageMs).toBe(100);
  });

  it('gives NaN for servedAfterMs when `by` answered only before the event', () => {
    expect(clientOutage([ok(900, 'node-2'), ok(1000, 'node-1')], 950, 'node-2').servedAfterMs).toBeNaN();
  });

  // Known bug (see the report): tcp-probe.ts prints a line when an attempt ENDS, stamped with
  // when it BEGAN, so attempts that time out (300 ms) are logged after quicker successes that
  // began later. clientOutage walks the list in log order and then sees a 50 ms gap instead of
  // the real one. Remove `.fails` once probe-log sorts attempts by `at`.
  it('measures the same outage when timed-out attempts are logged after later successes', () => {
    // Attempts every 50 ms; the ones begun at 1050..1200 timed out at +300 ms; 1250 succeeded at once.
    const log = ['1000 ok node-1', '1250 ok node-2', '1300 ok node-2', '1050 fail timeout', '1350 ok node-2', '1100 fail timeout', '1400 ok node-2', '1150 fail timeout', '1450 ok node-2', '1200 fail timeout', '1500 ok node-2'];
    expect(clientOutage(parseProbeLines(log), 1000, 'node-2')).toMatchObject({ outageMs: 250, lastAnswerAt: 1000, nextAnswerAt: 1250 });
  });
});
