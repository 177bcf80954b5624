// Issue 6, layer 2, end to end: a real API server, the controller, three nodes running
// `vipcast speaker`, a client probing the Service every 50 ms. Owner loss (SIGKILL and
// unplug), planned stop (SIGTERM) and an API partition each move the VIP; the capture proves
// no two nodes ever answered the same ARP request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arpRequestAnswers, readCapture, tsharkMalformed } from '../../lab/layer2-lab.js';
import { readFileSync } from 'node:fs';
import { kubeExpectOk, kubeRequest } from '../../lab/kube-client.js';
import type { Capture, HostProcess } from '../../lab/netns.js';
import { runHostCommand, waitUntil } from '../../lab/netns.js';
import { SpeakerLab, outageUntilServedBy, probeResults, startArping, startProbe } from '../../lab/speaker-lab.js';

let lab: SpeakerLab;
let capture: Capture;
let probe: HostProcess;
let arping: HostProcess;
let vip = '';
const figures: string[] = [];

beforeAll(async () => {
  lab = await SpeakerLab.create(3);
  capture = await lab.topo.capture(lab.sw, 'p-client', 'client-port');
  await lab.startController();
  await Promise.all(lab.nodes.map((node) => lab.startSpeaker(node)));
});

afterAll(async () => {
  if (figures.length > 0) console.log(`speaker layer-2 figures:\n  ${figures.join('\n  ')}`);
  await lab?.destroy();
});

describe('speaker, layer 2, end to end', () => {
  it('a LoadBalancer Service gets an IP, exactly one node answers for it, and the client reaches that node', async () => {
    vip = await lab.createService('web', 'IPv4');
    const owner = await lab.waitForOwner(vip);
    probe = startProbe(lab, vip);
    arping = startArping(lab, vip, 0.1);
    const { outageMs } = await outageUntilServedBy(probe, owner, Date.now());
    expect(outageMs).toBe(0);
    // The speaker writes its Events in the background (at most 4 in flight): wait for this one.
    type EventList = { items: { reason?: string; note?: string; regarding?: { name?: string } }[] };
    const announcing = (list: EventList): boolean => list.items.some((e) => e.regarding?.name === 'web' && e.reason === 'AnnouncingL2' && e.note?.includes(owner.name) === true);
    const events = await waitUntil(async () => (await kubeExpectOk(lab.admin, '/apis/events.k8s.io/v1/namespaces/default/events')) as EventList, announcing, 15_000, 200).catch(() => undefined);
    expect(events, `no AnnouncingL2 Event naming ${owner.name} for web`).toBeDefined();
  });

  it('moves the VIP when the owner is lost hard (speaker SIGKILLed and node unplugged), declared dead by its peers', async () => {
    await lab.waitForPeerQuorum();
    const owner = await lab.waitForOwner(vip);
    const at = Date.now();
    owner.speaker?.child.kill('SIGKILL');
    await lab.topo.run(owner.host, ['ip', 'link', 'set', 'eth0', 'down']);
    const next = await lab.waitForOwner(vip, owner.name);
    const { outageMs, servedAfterMs } = await outageUntilServedBy(probe, next, at);
    figures.push(`hard loss (SIGKILL + unplug): client outage ${outageMs} ms, new owner ${next.name} serving after ${servedAfterMs} ms`);
    expect(outageMs).toBeGreaterThan(0);
    expect(outageMs).toBeLessThan(6000);
    // Bring the node back: link up, speaker restarted.
    await lab.topo.run(owner.host, ['ip', 'link', 'set', 'eth0', 'up']);
    await lab.startSpeaker(owner);
  });

  it('does not move the VIP back to a node that returns', async () => {
    const owner = await lab.waitForOwner(vip);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await lab.holders(vip)).toEqual([owner.name]);
    const recent = probeResults(probe, Date.now() - 2500);
    expect(recent.length).toBeGreaterThan(20);
    expect(recent.every((r) => r.ok && r.answer === owner.name)).toBe(true);
  });

  it('hands over at once on a planned stop (SIGTERM)', async () => {
    const owner = await lab.waitForOwner(vip);
    const at = Date.now();
    owner.speaker?.child.kill('SIGTERM');
    expect(await owner.speaker?.exited).toBe(0);
    const next = await lab.waitForOwner(vip, owner.name, 5000);
    const handoverMs = Date.now() - at;
    const { outageMs, servedAfterMs } = await outageUntilServedBy(probe, next, at);
    figures.push(`planned stop (SIGTERM): new owner ${next.name} in the Lease after <= ${handoverMs} ms, serving after ${servedAfterMs} ms, client outage ${outageMs} ms`);
    // At once: the speaker exits, the new owner's Lease shows the VIP and the client reaches it,
    // each well before a lost node's Lease (1.8 s) could lapse.
    expect(handoverMs).toBeLessThan(1500);
    expect(servedAfterMs).toBeLessThan(1500);
    expect(outageMs).toBeLessThan(1500);
    await lab.startSpeaker(owner);
  });

  it('an owner cut off from the API server (its peers are not) steps down, another node takes over, and it keeps away when it returns', async () => {
    await lab.waitForPeerQuorum();
    const owner = await lab.waitForOwner(vip);
    const at = Date.now();
    await lab.partition(owner);
    const next = await lab.waitForOwner(vip, owner.name);
    await owner.speaker?.waitForLine(/stepped down/, 10_000);
    const { outageMs, servedAfterMs } = await outageUntilServedBy(probe, next, at);
    figures.push(`API partition of the owner: new owner ${next.name} serving after ${servedAfterMs} ms, client outage ${outageMs} ms`);
    await lab.heal(owner);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await lab.holders(vip)).toEqual([next.name]);
  });

  it('an IPv6 Service is answered by one node through NDP', async () => {
    const v6 = await lab.createService('web6', 'IPv6');
    const owner = await lab.waitForOwner(v6);
    const { stdout } = await lab.topo.run(lab.client, ['ndisc6', '-1', '-r', '3', '-w', '500', v6, 'eth0']);
    expect(/Target link-layer address: ([0-9A-Fa-f:]{17})/.exec(stdout)?.[1]?.toLowerCase()).toBe(owner.mac);
    const { stdout: reply } = await lab.topo.run(lab.client, [process.execPath, '-e', `const s=require('net').connect(8080,'${v6}');s.setEncoding('utf8');s.on('data',d=>process.stdout.write(d));setTimeout(()=>process.exit(3),5000).unref();`]);
    expect(reply.trim()).toBe(owner.name);
  });

  it('a dual-stack Service gets one owner per address, and the client reaches both', async () => {
    await kubeExpectOk(lab.admin, '/api/v1/namespaces/default/services', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'dual' }, spec: { type: 'LoadBalancer', ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], ports: [{ port: 8080 }], selector: { app: 'dual' } } },
    });
    type WithStatus = { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
    const ips = await waitUntil(
      async () => ((await kubeExpectOk(lab.admin, '/api/v1/namespaces/default/services/dual')) as WithStatus).status?.loadBalancer?.ingress?.map((i) => i.ip ?? '') ?? [],
      (found) => found.length === 2,
      30_000,
      100,
    );
    expect(ips.map((ip) => ip.includes(':'))).toEqual([false, true]);
    for (const ip of ips) {
      const owner = await lab.waitForOwner(ip);
      const { stdout } = await lab.topo.run(lab.client, [process.execPath, '-e', `const s=require('net').connect(8080,'${ip}');s.setEncoding('utf8');s.on('data',d=>process.stdout.write(d));setTimeout(()=>process.exit(3),5000).unref();`]);
      expect(stdout.trim()).toBe(owner.name);
    }
  });

  it("a speaker may write its own node's Lease and no other (admission policy on Pod-bound tokens)", async () => {
    const kubeconfig = JSON.parse(readFileSync(lab.speakerKubeconfigs.get('node-1') ?? '', 'utf8')) as { users: { user: { token: string } }[] };
    const speaker = { server: lab.admin.server, ca: lab.admin.ca, token: kubeconfig.users[0]?.user.token ?? '' };
    const path = (node: string): string => `/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/vipcast-speaker-${node}`;
    for (const [node, allowed] of [['node-1', true], ['node-2', false]] as const) {
      const lease = (await kubeExpectOk(lab.admin, path(node))) as Record<string, unknown>;
      const answer = await kubeRequest(speaker, `${path(node)}?dryRun=All`, { method: 'PUT', body: lease });
      expect(answer.status, `${node}: ${answer.text.slice(0, 300)}`).toBe(allowed ? 200 : 403);
      if (!allowed) expect(answer.text).toContain('only the Lease of its own node');
    }
    const other = await kubeRequest(speaker, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases?dryRun=All', {
      method: 'POST',
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'vipcast-controller-x' }, spec: {} },
    });
    expect(other.status).toBe(403);
  });

  it('vipcast status shows the Service, pool, mode and announcing node of each VIP', async () => {
    const owner = await lab.waitForOwner(vip);
    const kubeconfig = await lab.api.writeKubeconfig();
    const { stdout } = await runHostCommand([process.execPath, 'bin/vipcast.js', 'status', '--kubeconfig', kubeconfig]);
    const row = stdout.split('\n').find((line) => line.startsWith(`${vip} `));
    expect(row?.split(/\s+/)).toEqual([vip, 'default/web', 'lab', 'layer2', owner.name]);
  });

  it('never had two nodes answer one ARP request, and tshark finds nothing malformed', async () => {
    probe.child.kill('SIGTERM');
    arping.child.kill('SIGTERM');
    const file = await capture.stop();
    const { requests, replies, doubled } = arpRequestAnswers(readCapture(file), vip);
    figures.push(`capture: ${requests} ARP requests for the VIP, ${replies} replies, ${doubled} answered by more than one MAC`);
    expect(requests).toBeGreaterThan(50);
    expect(doubled).toBe(0);
    expect(await tsharkMalformed(file)).toBe('');
  });
});
