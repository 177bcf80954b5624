// Planned moves on a real cluster, with a client probing a VIP every 50 ms: `kubectl drain` of
// the node that answers for it, that node then shut down as a reboot would (systemd stops the
// kubelet and the speaker gets SIGTERM), and a rolling update of the speaker DaemonSet to a new
// image tag with `kubectl set image`, as a user upgrading would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOutage, parseProbeLines, servedSteadily, type ProbeAttempt } from '../../lab/probe-log.js';
import { waitUntil, type HostProcess } from '../../lab/netns.js';
import {
  Client,
  apply,
  clusterName,
  docker,
  echoWorkload,
  kubectl,
  loadBalancer,
  manifestImage,
  nodeByMac,
  ownerSeenBy,
  restartNode,
  rolledOut,
  script,
  serviceAddresses,
  terminatingPods,
} from './cluster.js';

let client: Client;
let macs: Map<string, string>;
let vip: string;
let probe: HostProcess;

beforeAll(async () => {
  client = await Client.create();
  macs = await nodeByMac();
  await apply(echoWorkload('Deployment', 'echo-planned', { replicas: 3 }));
  await rolledOut('deployment', 'echo-planned');
  await apply(loadBalancer('planned', 'echo-planned', { pool: 'workers' }));
  vip = (await serviceAddresses('default', 'planned')).v4;
  probe = client.probe(vip, 8080);
  await waitUntil(() => parseProbeLines(probe.lines), (a) => servedSteadily(a), 30_000, 100);
});

afterAll(async () => {
  probe?.child.kill('SIGTERM');
  await client?.destroy();
  await kubectl(['delete', 'service/planned', 'deployment/echo-planned', '--ignore-not-found', '--wait=false']).catch(() => undefined);
});

/** What the probe saw from `from` until it has been served steadily for 2 s. */
async function servedAgain(from: number): Promise<{ attempts: ProbeAttempt[]; failed: number; outageMs: number }> {
  const attempts = await waitUntil(() => parseProbeLines(probe.lines, from), (a) => servedSteadily(a, undefined, 40), 120_000, 100);
  return { attempts, failed: attempts.filter((a) => !a.ok).length, outageMs: clientOutage(attempts, from).outageMs };
}

describe('a real cluster, planned moves', () => {
  it('kubectl drain of the node answering for the VIP, then that node shut down: no failed probe during the drain, one planned hand-over at the shutdown', async () => {
    const owner = await waitUntil(() => ownerSeenBy(client, vip, macs), (o) => o !== undefined && o.startsWith(clusterName), 30_000, 200);
    // A node at rest before a planned move: nothing of an earlier file still terminating.
    await waitUntil(terminatingPods, (pods) => pods.length === 0, 120_000, 500);
    const drainedAt = Date.now();
    await kubectl(['drain', owner ?? '', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=120s']);
    const drain = await servedAgain(drainedAt);
    const afterDrain = await ownerSeenBy(client, vip, macs);
    const failures = drain.attempts.filter((a) => !a.ok).map((a) => `${a.at - drainedAt} ms: ${a.answer}`);
    console.log(
      `[cluster] drain of ${owner}: ${drain.failed} of ${drain.attempts.length} probes failed, longest outage ${drain.outageMs} ms; VIP answered by ${afterDrain} afterwards` +
        (failures.length > 0 ? ` (${failures.join('; ')})` : ''),
    );
    expect(failures, 'probes failed while the owner was drained').toEqual([]);

    const stoppedAt = Date.now();
    try {
      // docker stop sends systemd its shutdown signal: units stop in order, as in a reboot.
      await docker(['stop', '-t', '30', owner ?? '']);
      const stop = await servedAgain(stoppedAt);
      const next = await ownerSeenBy(client, vip, macs);
      console.log(`[cluster] ${owner} shut down after the drain: ${stop.failed} of ${stop.attempts.length} probes failed, client outage ${stop.outageMs} ms; VIP now on ${next}`);
      expect(next).not.toBe(owner);
      expect(stop.outageMs, 'a planned shutdown is a hand-over, not a failure detection').toBeLessThan(3000);
    } finally {
      await restartNode(owner ?? '');
      await kubectl(['uncordon', owner ?? '']);
    }
  });

  it('a rolling update of the speaker DaemonSet to a new image tag: the client sees at most one hand-over', async () => {
    const next = `${manifestImage()}-update`;
    await script('cluster', ['load', 'vipcast:dev', '--as', next]);
    const from = Date.now();
    try {
      await kubectl(['-n', 'vipcast-system', 'set', 'image', 'daemonset/vipcast-speaker', `speaker=${next}`]);
      await rolledOut('daemonset', 'vipcast-speaker', 'vipcast-system');
      const update = await servedAgain(from);
      const failures = update.attempts.filter((a) => !a.ok).map((a) => a.at);
      console.log(
        `[cluster] speaker rolling update to ${next}: ${update.failed} of ${update.attempts.length} probes failed, longest client outage ${update.outageMs} ms` +
          (failures.length > 0 ? ` (failures from ${(failures[0] ?? from) - from} to ${(failures.at(-1) ?? from) - from} ms after the update began)` : ''),
      );
      expect(update.outageMs, 'a rolling update hands each address over on SIGTERM').toBeLessThan(3000);
    } finally {
      await kubectl(['-n', 'vipcast-system', 'set', 'image', 'daemonset/vipcast-speaker', `speaker=${manifestImage()}`]);
      await rolledOut('daemonset', 'vipcast-speaker', 'vipcast-system');
    }
  });
});
