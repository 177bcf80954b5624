// The speaker's /metrics as Prometheus scrapes it: monotonic counts are Counters named
// `_total` that only ever go up, however their sources move between scrapes; the layer-2
// frames counter has one series per reason.
import { describe, expect, it } from 'vitest';
import { createSpeakerMetrics, type Layer2FrameCounts, type SpeakerCounts } from '../../../src/speaker/metrics.js';

/** The value of one sample in Prometheus text format (undefined when absent). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const noFrames: Layer2FrameCounts = { answered: 0, rateLimited: 0, malformed: 0, hopLimit: 0, otherHost: 0, conflict: 0 };

describe('speaker metrics', () => {
  it('exports the election, Lease-failure and answered counts as counters named _total', async () => {
    const counts: SpeakerCounts = { layer2Elections: 3, leaseWriteFailures: 1, layer2RequestsAnswered: 40 };
    const metrics = createSpeakerMetrics({ counts: () => counts, announced: () => ({ layer2: 2, bgp: 1 }) });
    const text = await metrics.registry.metrics();
    for (const name of ['vipcast_speaker_layer2_elections_total', 'vipcast_speaker_lease_write_failures_total', 'vipcast_speaker_layer2_requests_answered_total', 'vipcast_speaker_layer2_frames_total', 'vipcast_speaker_api_writes_total']) {
      expect(text, name).toContain(`# TYPE ${name} counter`);
    }
    expect(sample(text, 'vipcast_speaker_layer2_elections_total')).toBe(3);
    expect(sample(text, 'vipcast_speaker_lease_write_failures_total')).toBe(1);
    expect(sample(text, 'vipcast_speaker_layer2_requests_answered_total')).toBe(40);
    expect(sample(text, 'vipcast_speaker_announced_vips{mode="layer2"}')).toBe(2);
    expect(sample(text, 'vipcast_speaker_announced_vips{mode="bgp"}')).toBe(1);
    // The gauges these replace are gone.
    expect(text).not.toMatch(/^vipcast_speaker_layer2_elections_won|^vipcast_speaker_lease_write_failures |^vipcast_speaker_layer2_requests_answered /m);
  });

  it('follows its sources up and never goes down when a source does (an interface closed)', async () => {
    let counts: SpeakerCounts = { layer2Elections: 1, leaseWriteFailures: 0, layer2RequestsAnswered: 100 };
    const metrics = createSpeakerMetrics({ counts: () => counts, announced: () => ({ layer2: 0, bgp: 0 }) });
    await metrics.registry.metrics();
    counts = { layer2Elections: 2, leaseWriteFailures: 5, layer2RequestsAnswered: 150 };
    let text = await metrics.registry.metrics();
    expect(sample(text, 'vipcast_speaker_layer2_elections_total')).toBe(2);
    expect(sample(text, 'vipcast_speaker_lease_write_failures_total')).toBe(5);
    expect(sample(text, 'vipcast_speaker_layer2_requests_answered_total')).toBe(150);
    counts = { ...counts, layer2RequestsAnswered: 30 };
    text = await metrics.registry.metrics();
    expect(sample(text, 'vipcast_speaker_layer2_requests_answered_total')).toBe(150);
    counts = { ...counts, layer2RequestsAnswered: 45 };
    text = await metrics.registry.metrics();
    expect(sample(text, 'vipcast_speaker_layer2_requests_answered_total')).toBe(165);
  });

  it('counts layer-2 frames by reason, from a source read at each scrape or from observeLayer2Frames', async () => {
    let frames: Layer2FrameCounts = { ...noFrames, answered: 7, hopLimit: 2 };
    const counts: SpeakerCounts = { layer2Elections: 0, leaseWriteFailures: 0, layer2RequestsAnswered: 0 };
    const metrics = createSpeakerMetrics({ counts: () => counts, announced: () => ({ layer2: 0, bgp: 0 }), layer2Frames: () => frames });
    let text = await metrics.registry.metrics();
    expect(sample(text, 'vipcast_speaker_layer2_frames_total{reason="answered"}')).toBe(7);
    expect(sample(text, 'vipcast_speaker_layer2_frames_total{reason="hop-limit"}')).toBe(2);
    for (const reason of ['rate-limited', 'malformed', 'other-host', 'conflict']) expect(sample(text, `vipcast_speaker_layer2_frames_total{reason="${reason}"}`), reason).toBe(0);
    frames = { ...frames, rateLimited: 4, conflict: 1 };
    text = await metrics.registry.metrics();
    expect(sample(text, 'vipcast_speaker_layer2_frames_total{reason="rate-limited"}')).toBe(4);
    expect(sample(text, 'vipcast_speaker_layer2_frames_total{reason="conflict"}')).toBe(1);

    const pushed = createSpeakerMetrics({ counts: () => counts, announced: () => ({ layer2: 0, bgp: 0 }) });
    pushed.observeLayer2Frames({ ...noFrames, malformed: 3 });
    pushed.observeLayer2Frames({ ...noFrames, malformed: 5, otherHost: 9 });
    text = await pushed.registry.metrics();
    expect(sample(text, 'vipcast_speaker_layer2_frames_total{reason="malformed"}')).toBe(5);
    expect(sample(text, 'vipcast_speaker_layer2_frames_total{reason="other-host"}')).toBe(9);
  });
});
