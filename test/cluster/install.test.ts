// vipcast as the manifests install it on a real cluster: the processes run with exactly the
// manifests' securityContext (read from the kernel, not from the Pod spec); the speaker's
// kubelet-issued token may write its own node's Lease and no other (RBAC plus the admission
// policy); metrics are served by the Pods; Events are where kubectl shows them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/netns.js';
import { apply, docker, echoWorkload, getJson, kubectl, loadBalancer, nodeAddress, nodeNames, rolledOut, serviceAddresses } from './cluster.js';

interface Pod {
  metadata: { name: string };
  spec: { nodeName: string };
  status: { podIP?: string; containerStatuses?: { containerID?: string }[] };
}

let speakers: Pod[];
let controllers: Pod[];

beforeAll(async () => {
  speakers = (await getJson<{ items: Pod[] }>(['-n', 'vipcast-system', 'pods', '-l', 'app.kubernetes.io/component=speaker'])).items;
  controllers = (await getJson<{ items: Pod[] }>(['-n', 'vipcast-system', 'pods', '-l', 'app.kubernetes.io/component=controller'])).items;
});

afterAll(async () => {
  await kubectl(['delete', 'service/installed', 'deployment/echo-installed', '--ignore-not-found', '--wait=false']).catch(() => undefined);
});

/** /proc/PID/status and the root mount of a Pod's main process, read on its node. */
async function processFacts(pod: Pod, program: string): Promise<{ uid: string; capEff: string; noNewPrivs: string; rootReadOnly: boolean }> {
  const pids = (await docker(['exec', pod.spec.nodeName, 'pgrep', '-f', `bin/vipcast.js ${program}`])).trim().split('\n');
  // The node runs one speaker, and maybe one controller; pick the process in this Pod's container.
  const containerId = pod.status.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '') ?? '';
  for (const pid of pids) {
    const cgroup = await docker(['exec', pod.spec.nodeName, 'cat', `/proc/${pid}/cgroup`]);
    if (!cgroup.includes(containerId)) continue;
    const status = await docker(['exec', pod.spec.nodeName, 'cat', `/proc/${pid}/status`]);
    const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
    const mounts = await docker(['exec', pod.spec.nodeName, 'cat', `/proc/${pid}/mountinfo`]);
    const root = mounts.split('\n').find((line) => line.split(' ')[4] === '/');
    return { uid: field('Uid'), capEff: field('CapEff'), noNewPrivs: field('NoNewPrivs'), rootReadOnly: root?.split(' ')[5]?.split(',').includes('ro') ?? false };
  }
  throw new Error(`no ${program} process of Pod ${pod.metadata.name} on ${pod.spec.nodeName} (PIDs ${pids.join(', ')})`);
}

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;

describe('a real cluster, vipcast as the manifests install it', () => {
  it('the speaker runs as UID 0 with only NET_RAW and NET_ADMIN, the controller as UID 65532 with none; both on a read-only root, no privilege escalation', async () => {
    expect(speakers).toHaveLength((await nodeNames()).length);
    for (const pod of speakers) {
      const facts = await processFacts(pod, 'speaker');
      expect(facts.uid.split(/\s+/)[0], `${pod.metadata.name} UID`).toBe('0');
      expect(BigInt(`0x${facts.capEff}`), `${pod.metadata.name} CapEff ${facts.capEff}`).toBe((1n << BigInt(CAP_NET_ADMIN)) | (1n << BigInt(CAP_NET_RAW)));
      expect(facts.noNewPrivs).toBe('1');
      expect(facts.rootReadOnly, `${pod.metadata.name}: root filesystem read-only`).toBe(true);
    }
    expect(controllers.length).toBeGreaterThan(0);
    for (const pod of controllers) {
      const facts = await processFacts(pod, 'controller');
      expect(facts.uid.split(/\s+/)[0], `${pod.metadata.name} UID`).toBe('65532');
      expect(BigInt(`0x${facts.capEff}`), `${pod.metadata.name} CapEff`).toBe(0n);
      expect(facts.noNewPrivs).toBe('1');
      expect(facts.rootReadOnly).toBe(true);
    }
  });

  it("a speaker's kubelet-issued token writes its own node's Lease and is refused another node's", async () => {
    const [pod] = speakers;
    if (pod === undefined) throw new Error('no speaker Pod');
    const other = (await nodeNames()).find((n) => n !== pod.spec.nodeName) ?? '';
    // Inside the speaker's container, with its own projected token and the in-cluster address.
    const script = `
const fs = require('fs');
const token = fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token', 'utf8');
const ca = fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/ca.crt');
const https = require('https');
const host = process.env.KUBERNETES_SERVICE_HOST, port = process.env.KUBERNETES_SERVICE_PORT;
function call(method, path, body) {
  return new Promise((resolve) => {
    const req = https.request({ host, port, method, path, ca, headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' } }, (res) => {
      let text = ''; res.on('data', (d) => (text += d)); res.on('end', () => resolve(res.statusCode + ' ' + text.replace(/\\n/g, ' ')));
    });
    req.on('error', (e) => resolve('error ' + e.message));
    req.end(body);
  });
}
// An update (the verb RBAC grants; the speaker never patches) of a Lease read just before.
async function update(name) {
  const path = '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases/' + name;
  const got = await call('GET', path, undefined);
  if (!got.startsWith('200 ')) return 'read ' + got;
  const lease = JSON.parse(got.slice(4));
  delete lease.metadata.managedFields;
  return call('PUT', path, JSON.stringify(lease));
}
(async () => {
  console.log('OWN ' + await update('vipcast-speaker-' + process.env.NODE_NAME));
  console.log('OTHER ' + await update('vipcast-speaker-${other}'));
  console.log('SECRETS ' + await call('GET', '/api/v1/namespaces/kube-system/secrets', undefined));
})();`;
    const out = await kubectl(['-n', 'vipcast-system', 'exec', pod.metadata.name, '-c', 'speaker', '--', 'node', '-e', script]);
    const line = (tag: string): string => out.split('\n').find((l) => l.startsWith(`${tag} `))?.slice(tag.length + 1) ?? '';
    console.log(`[cluster] speaker token on ${pod.spec.nodeName}: update of its own Lease ${line('OWN').slice(0, 3)}, of ${other}'s ${line('OTHER').slice(0, 200)}; kube-system Secrets ${line('SECRETS').slice(0, 3)}`);
    expect(line('OWN').slice(0, 3)).toBe('200');
    expect(line('OTHER')).toMatch(/^403 .*may write only the Lease of its own node/);
    expect(line('SECRETS').slice(0, 3)).toBe('403');
  });

  it('metrics are served by the Pods, and Events about a Service are where kubectl shows them', async () => {
    await apply(echoWorkload('Deployment', 'echo-installed', { replicas: 1 }));
    await rolledOut('deployment', 'echo-installed');
    await apply(loadBalancer('installed', 'echo-installed'));
    const { v4 } = await serviceAddresses('default', 'installed');
    // The controller's metrics through the API server's Pod proxy, from each replica.
    const leaderSeen: string[] = [];
    for (const pod of controllers) {
      const text = await kubectl(['get', '--raw', `/api/v1/namespaces/vipcast-system/pods/${pod.metadata.name}:7472/proxy/metrics`]);
      expect(text, pod.metadata.name).toMatch(/^vipcast_controller_/m);
      if (/^vipcast_controller_leader(?:\{[^}]*\})? 1$/m.test(text)) leaderSeen.push(pod.metadata.name);
    }
    expect(leaderSeen, 'exactly one controller replica leads').toHaveLength(1);
    // A speaker's metrics on its node's address (hostNetwork).
    const node = speakers[0]?.spec.nodeName ?? '';
    const address = await nodeAddress(node);
    const speakerText = await (await fetch(`http://${address}:7473/metrics`)).text();
    expect(speakerText).toMatch(/^vipcast_speaker_announced_vips\{mode="layer2"\} \d+$/m);
    // Events: the controller's allocation and a speaker's announcement, as kubectl lists them.
    const reasons = await waitUntil(
      async () => {
        const out = await kubectl(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.kind=Service,involvedObject.name=installed', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
        return out.split('\n').filter((r) => r !== '');
      },
      (found) => found.includes('IPAllocated') && found.includes('AnnouncingL2'),
      30_000,
      500,
    );
    const described = await kubectl(['describe', 'service', 'installed']);
    expect(described).toContain('IPAllocated');
    expect(described).toContain(v4);
    console.log(`[cluster] metrics from ${controllers.length} controller Pods (leader ${leaderSeen.join()}) and the speaker on ${node}; Events on the Service: ${[...new Set(reasons)].join(', ')}`);
  });
});
