// Lab benchmark (root; runs dist/): runs `vipcast lab demo` several times on one `vipcast lab
// up`, exactly as a user would, and sets the outages it printed beside the speaker benchmark's
// hard-loss trials (the same loss, measured by the same code in lab/probe-log.ts, in the
// test harness's lab). The issue asks that the demo's figure match the benchmark's.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { distribution, hardLossOutages } from './speaker.js';

const exec = promisify(execFile);
const trials = Number(process.env['VIPCAST_BENCH_TRIALS'] ?? 10);
/** The demo's median may differ from the benchmark's by this fraction and still "match". */
const tolerance = 0.2;

async function lab(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, ['bin/vipcast.js', 'lab', ...args], { env: { ...process.env, VIPCAST_LAB_DIR: dir }, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 });
  return stdout;
}

/** The outage each of `count` demos printed, on one lab. */
async function demoOutages(count: number): Promise<{ outages: number[]; upSeconds: number; demoSeconds: number[] }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'vipcast-bench-lab-')), 'lab');
  const outages: number[] = [];
  const demoSeconds: number[] = [];
  const started = performance.now();
  try {
    await lab(dir, 'up');
    const upSeconds = (performance.now() - started) / 1000;
    for (let i = 0; i < count; i++) {
      const at = performance.now();
      const out = await lab(dir, 'demo');
      demoSeconds.push((performance.now() - at) / 1000);
      const printed = /client outage for \S+: (\d+) ms/.exec(out)?.[1];
      if (printed === undefined) throw new Error(`demo ${i + 1} printed no outage:\n${out}`);
      outages.push(Number(printed));
    }
    return { outages, upSeconds, demoSeconds };
  } finally {
    await lab(dir, 'down').catch((error: unknown) => console.error(`lab down failed: ${String(error)}`));
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

/** Runs the lab benchmark; true when the demo's median outage is within 20 % of the speaker benchmark's. */
export async function benchLab(): Promise<boolean> {
  console.log(`\nlab: "vipcast lab up", then "vipcast lab demo" ${trials} times (layer 2, IPv4, 3 nodes), beside ${trials} hard-loss trials of the speaker benchmark`);
  const demo = await demoOutages(trials);
  const bench = await hardLossOutages(trials);
  const d = distribution(demo.outages);
  const b = distribution(bench);
  const ratio = d.p50 / b.p50;
  const seconds = distribution(demo.demoSeconds);
  console.log(`  lab up: ${demo.upSeconds.toFixed(1)} s; one demo: p50 ${seconds.p50.toFixed(1)} s, max ${seconds.max.toFixed(1)} s`);
  console.log(`  outage printed by lab demo:         ${d.text}`);
  console.log(`  outage in the speaker bench (hard): ${b.text}`);
  console.log(`  demo/bench: p50 ${ratio.toFixed(2)}, p95 ${(d.p95 / b.p95).toFixed(2)}`);
  console.log(`  target: demo p50 within ${tolerance * 100} % of the bench's p50`);
  return Math.abs(ratio - 1) <= tolerance;
}
