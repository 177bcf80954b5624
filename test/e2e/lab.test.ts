// Issue 8: `vipcast lab up`, `lab demo` and `lab down` run as a user runs them (separate
// processes, output read as text), in a state directory of the test's own (VIPCAST_LAB_DIR),
// so a lab a person runs on this machine is never touched. Checked beyond the output: the
// API server really has the RBAC and Ready nodes, the speaker's token is really limited, the
// lab outlives `up`, and `down` leaves none of the recorded processes or namespaces behind.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { kubeExpectOk, kubeRequest, readKubeconfig } from '../../lab/kube-client.js';
import { runHostCommand, waitUntil } from '../../lab/netns.js';
import { builtKubectl } from '../../lab/kube-binaries.js';
import { isOurs, type LabState } from '../../lab/lab-state.js';

const exec = promisify(execFile);
const dir = join(mkdtempSync(join(tmpdir(), 'vipcast-lab-test-')), 'lab');
const figures: string[] = [];

/** Runs `vipcast lab ARGS` as a user would and returns its exit code and output. */
async function lab(...args: string[]): Promise<{ code: number; out: string; seconds: number }> {
  return run([process.execPath, 'bin/vipcast.js', 'lab', ...args]);
}

async function run(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; seconds: number }> {
  const started = performance.now();
  const [file = 'false', ...rest] = argv;
  try {
    const { stdout, stderr } = await exec(file, rest, { env: { ...process.env, VIPCAST_LAB_DIR: dir, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 });
    return { code: 0, out: stdout + stderr, seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}`, seconds: (performance.now() - started) / 1000 };
  }
}

const state = (): LabState => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as LabState;
const namespaces = async (): Promise<string[]> => (await runHostCommand(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
let made: LabState | undefined;

afterAll(async () => {
  if (figures.length > 0) console.log(`lab figures:\n  ${figures.join('\n  ')}`);
  if (existsSync(join(dir, 'state.json'))) await lab('down');
});

describe('vipcast lab refuses to start, saying how to fix it', () => {
  it('as a user other than root', async () => {
    const refused = await run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, 'bin/vipcast.js', 'lab', 'up']);
    expect(refused.code, refused.out).toBe(1);
    expect(refused.out).toMatch(/needs root.*sudo node bin\/vipcast\.js lab up/);
    expect(existsSync(dir)).toBe(false);
  });

  it('when system packages are missing: it names each program, its package and the command that installs it', async () => {
    // A PATH holding only some of what the lab needs: no tcpdump, no tshark.
    const bin = mkdtempSync(join(tmpdir(), 'vipcast-lab-path-'));
    for (const program of ['ip', 'openssl', 'sh']) {
      const found = (await runHostCommand(['sh', '-c', `command -v ${program}`])).stdout.trim();
      symlinkSync(found, join(bin, program));
    }
    const refused = await run([process.execPath, 'bin/vipcast.js', 'lab', 'up'], { PATH: bin });
    rmSync(bin, { recursive: true, force: true });
    expect(refused.code, refused.out).toBe(1);
    expect(refused.out).toContain('missing tcpdump (the demo\'s packet capture), tshark (decoding the demo\'s capture)');
    expect(refused.out).toContain('"sudo apt-get install tcpdump tshark"');
    expect(refused.out).toContain('npm run setup');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('vipcast lab refuses a state directory that is not its own', () => {
  it('up in a directory holding other files changes nothing and names the fix', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'vipcast-lab-shared-'));
    writeFileSync(join(shared, 'logs'), 'a file of someone else');
    const refused = await run([process.execPath, 'bin/vipcast.js', 'lab', 'up'], { VIPCAST_LAB_DIR: shared });
    expect(refused.code, refused.out).toBe(1);
    expect(refused.out).toContain(`${shared} holds other files (logs); set VIPCAST_LAB_DIR to a new or empty directory`);
    expect(readFileSync(join(shared, 'logs'), 'utf8')).toBe('a file of someone else');
    expect(readdirSync(shared).sort()).toEqual(['logs']);
    rmSync(shared, { recursive: true, force: true });
  });
});

describe('Ctrl-C during vipcast lab up', () => {
  it('stops after the current step and removes what was made', async () => {
    const child = spawn(process.execPath, ['bin/vipcast.js', 'lab', 'up'], { env: { ...process.env, VIPCAST_LAB_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let made: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const interruptAt = new Promise<void>((resolve) => {
      const read = (chunk: Buffer): void => {
        out += chunk.toString();
        // Interrupted while the namespaces are being made: some exist, more are coming.
        if (out.includes('lab: creating namespaces')) resolve();
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
    });
    await Promise.race([interruptAt, exited]);
    if (existsSync(join(dir, 'state.json'))) made = state().namespaces;
    child.kill('SIGINT');
    expect(await exited, out).toBe(1);
    expect(out).toContain('interrupted; stopping after the current step');
    expect(out).toContain('starting the lab failed: interrupted');
    expect(out).toContain('removing what was made');
    expect(existsSync(dir), out).toBe(false);
    const recorded = /creating namespaces (vlab[0-9a-f]+)-\*/.exec(out)?.[1];
    expect(recorded).toBeDefined();
    expect((await namespaces()).filter((ns) => ns.startsWith(`${recorded ?? 'none'}-`) || made.includes(ns))).toEqual([]);
  });
});

describe('vipcast lab (layer 2, IPv4, 3 nodes)', () => {
  it('up starts a lab that outlives the command: API server, RBAC, Ready nodes, controller and speakers', async () => {
    const up = await lab('up');
    expect(up.code, up.out).toBe(0);
    figures.push(`lab up: ${up.seconds.toFixed(1)} s (${/up in ([\d.]+) s/.exec(up.out)?.[1] ?? '?'} s inside)`);
    expect(up.out).toMatch(/starting kube-apiserver v\d+\.\d+\.\d+ and etcd/);
    expect(up.out).toMatch(/ready at https:\/\/127\.0\.0\.1:\d+/);
    expect(up.out).toContain(`export KUBECONFIG=${join(dir, 'admin.kubeconfig')}`);
    expect(up.out).toContain('lab demo');
    made = state();
    expect(made.complete).toBe(true);
    expect(made.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    // The command has exited; everything it recorded still runs, and its namespaces exist.
    const roles = made.processes.filter(isOurs).map((p) => p.role);
    expect(roles).toEqual(made.processes.map((p) => p.role));
    expect(roles).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver', 'api-bridge', 'controller', 'speaker node-1', 'speaker node-2', 'speaker node-3']));
    expect(await namespaces()).toEqual(expect.arrayContaining(made.namespaces));

    const admin = readKubeconfig(made.adminKubeconfig);
    const nodes = (await kubeExpectOk(admin, '/api/v1/nodes')) as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] };
    expect(nodes.items.map((n) => [n.metadata.name, n.status.conditions.find((c) => c.type === 'Ready')?.status])).toEqual([['node-1', 'True'], ['node-2', 'True'], ['node-3', 'True']]);
    await kubeExpectOk(admin, '/apis/rbac.authorization.k8s.io/v1/clusterroles/vipcast-speaker');
    const config = (await kubeExpectOk(admin, '/api/v1/namespaces/vipcast-system/configmaps/vipcast-config')) as { data: { config: string } };
    expect(config.data.config).toContain('192.0.2.100-192.0.2.115');
    // The speakers run with their ServiceAccount's token, which RBAC limits as the manifests say.
    const speakerConfig = JSON.parse(readFileSync(join(dir, 'speaker.kubeconfig'), 'utf8')) as { users: { user: { token: string } }[] };
    const token = speakerConfig.users[0]?.user.token ?? '';
    expect((await kubeRequest({ server: admin.server, ca: admin.ca, token }, '/api/v1/services')).status).toBe(200);
    expect((await kubeRequest({ server: admin.server, ca: admin.ca, token }, '/api/v1/secrets')).status).toBe(403);
    // Every speaker holds its Lease.
    const leases = (await kubeExpectOk(admin, '/apis/coordination.k8s.io/v1/namespaces/vipcast-system/leases')) as { items: { metadata: { name: string } }[] };
    expect(leases.items.map((l) => l.metadata.name)).toEqual(expect.arrayContaining(['vipcast-speaker-node-1', 'vipcast-speaker-node-2', 'vipcast-speaker-node-3']));
  });

  it('the steps it printed work: the kubectl setup built creates a Service, vipcast status shows who announces it, the client reaches it', async () => {
    const kubectl = builtKubectl();
    if (kubectl === undefined) throw new Error('no kubectl built by scripts/build-kube: run "npm run setup"');
    const env = { KUBECONFIG: join(dir, 'admin.kubeconfig') };
    const created = await run([kubectl, 'create', 'service', 'loadbalancer', 'web', '--tcp=8080:8080'], env);
    expect(created.code, created.out).toBe(0);
    const ingress = (): Promise<string> => run([kubectl, 'get', 'service', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'], env).then((r) => r.out.trim());
    const ip = await waitUntil(ingress, (found) => /^192\.0\.2\.\d+$/.test(found), 20_000, 100);
    expect(ip).toMatch(/^192\.0\.2\.\d+$/);
    const status = await waitUntil(
      () => run([process.execPath, 'bin/vipcast.js', 'status'], env),
      (r) => new RegExp(`${ip.replace(/[.]/g, '\\.')} +default/web +lab +layer2 +node-\\d`).test(r.out),
      20_000,
      200,
    );
    expect(status.out).toMatch(new RegExp(`${ip.replace(/[.]/g, '\\.')} +default/web +lab +layer2 +node-\\d`));
    const announcer = new RegExp(`default/web +lab +layer2 +(node-\\d)`).exec(status.out)?.[1];
    const reached = await run(['ip', 'netns', 'exec', state().clientNs, 'bash', '-c', `cat < /dev/tcp/${ip}/8080`]);
    expect(reached.out.trim()).toBe(announcer);
    expect((await run([kubectl, 'delete', 'service', 'web'], env)).code).toBe(0);
  });

  it('a second up says a lab is running, changes nothing and exits 0', async () => {
    const again = await lab('up');
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/already running/);
    figures.push(`lab up with a lab running: ${again.seconds.toFixed(1)} s`);
    expect(state().processes.map((p) => p.pid)).toEqual(made?.processes.map((p) => p.pid));
  });

  it('demo: the Service gets an IP, the client reaches it, a hard loss moves it, and the outage and the ARP frames are shown', async () => {
    const demo = await lab('demo');
    expect(demo.code, demo.out).toBe(0);
    const ip = /status\.loadBalancer\.ingress = (192\.0\.2\.\d+)/.exec(demo.out)?.[1];
    expect(ip).toBeDefined();
    const owner = new RegExp(`(node-\\d) answers ARP/NDP for ${ip}`).exec(demo.out)?.[1];
    expect(demo.out).toContain(`reaches ${ip}:8080 — answered by ${owner}`);
    expect(demo.out).toContain(`losing ${owner} hard: its speaker`);
    expect(demo.out).toContain(`frozen, its link unplugged and the speaker SIGKILLed`);
    const next = new RegExp(`(node-\\d) took over ${ip}`).exec(demo.out)?.[1];
    expect(next).toBeDefined();
    expect(next).not.toBe(owner);
    const outage = Number(new RegExp(`client outage for ${ip}: (\\d+) ms`).exec(demo.out)?.[1]);
    figures.push(`demo: client outage ${outage} ms (hard loss, default speaker timings); demo took ${demo.seconds.toFixed(1)} s`);
    // Three nodes: the others declare the lost one dead after 300 ms without a ping (its last
    // ping left up to 50 ms before t = 0), then one claims its address. Never sooner; later only
    // by scheduling (a generous bound).
    expect(demo.out).toContain('expected with the speaker\'s default timings: 0.25 to 0.45 s');
    expect(outage).toBeGreaterThanOrEqual(200);
    expect(outage).toBeLessThan(5000);
    // The frames: the client asked, the old owner answered, the new owner announced itself.
    expect(demo.out).toMatch(new RegExp(`ARP reply +${ip} is at [0-9a-f:]{17} \\(${owner}\\)`));
    expect(demo.out).toMatch(new RegExp(`\\+\\d+\\.\\d+ s +ARP (request|reply) +${ip} is at [0-9a-f:]{17} \\(${next}\\) +\\[gratuitous\\]`));
    expect(demo.out).toContain('tshark found no malformed frame');
    expect(demo.out).toContain(`${ip} is answered by ${next}`);
    // The lost node is back: its speaker runs again, and the demo's probe and capture are gone.
    const after = state();
    expect(after.processes.every(isOurs)).toBe(true);
    expect(after.processes.map((p) => p.role)).toContain(`speaker ${owner}`);
    expect(after.processes.some((p) => /^(probe|capture)/.test(p.role))).toBe(false);
  });

  it('demo --fault api-outage: the API server frozen 10 s, every probe answered by the same node, nothing moves', async () => {
    const demo = await lab('demo', '--fault', 'api-outage');
    expect(demo.code, demo.out).toBe(0);
    const ip = /status\.loadBalancer\.ingress = (192\.0\.2\.\d+)/.exec(demo.out)?.[1];
    const owner = new RegExp(`(node-\\d) answers ARP/NDP for ${ip}`).exec(demo.out)?.[1];
    expect(owner).toBeDefined();
    expect(demo.out).toMatch(/freezing the kube-apiserver \(PID \d+\) with SIGSTOP for 10 s/);
    const answered = new RegExp(`for ${ip}: (\\d+) of (\\d+) probes answered, by ${owner}$`, 'm').exec(demo.out);
    expect(answered, demo.out).not.toBeNull();
    expect(Number(answered?.[2])).toBeGreaterThan(150);
    expect(answered?.[1]).toBe(answered?.[2]);
    figures.push(`demo --fault api-outage: ${answered?.[1]} of ${answered?.[2]} probes answered through a 10 s freeze`);
    expect(demo.out).toContain(`${ip} is answered by ${owner} (as before the freeze: nothing moved)`);
    // The client asked again during the freeze (its cache was flushed at 4 s) and the owner answered.
    expect(demo.out).toMatch(new RegExp(`\\+[4-9]\\.\\d+ s +ARP reply +${ip} is at [0-9a-f:]{17} \\(${owner}\\)$`, 'm'));
    const after = state();
    expect(after.processes.every(isOurs)).toBe(true);
    expect(after.processes.map((p) => p.role)).toContain('controller');
  });

  it('down removes every process and namespace the lab made, and its files', async () => {
    const before = state();
    const down = await lab('down');
    expect(down.code, down.out).toBe(0);
    figures.push(`lab down: ${down.seconds.toFixed(1)} s`);
    expect(down.out).toMatch(/stopped \d+ processes, removed 6 namespaces/);
    expect(before.processes.filter(isOurs).map((p) => p.role)).toEqual([]);
    const left = await namespaces();
    expect(before.namespaces.filter((ns) => left.includes(ns))).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('down with no lab running says so and exits 0', async () => {
    const down = await lab('down');
    expect(down.code, down.out).toBe(0);
    expect(down.out).toMatch(/No lab is running/);
  });
});

describe('vipcast lab --mode bgp --family dual (BIRD router, ECMP, BFD)', () => {
  it('up, demo (a node lost, BFD takes its paths away), down', async () => {
    const up = await lab('up', '--mode', 'bgp', '--family', 'dual', '--nodes', '2');
    expect(up.code, up.out).toBe(0);
    expect(up.out).toContain('starting BIRD 2 in the router namespace');
    const wrong = await lab('demo', '--mode', 'layer2');
    expect(wrong.code, wrong.out).toBe(1);
    expect(wrong.out).toContain('the running lab has 2 nodes, bgp, dual, not layer2');

    const demo = await lab('demo');
    expect(demo.code, demo.out).toBe(0);
    const ips = /status\.loadBalancer\.ingress = (198\.51\.100\.\d+), (2001:db8:100::[0-9a-f]*)/.exec(demo.out)?.slice(1) ?? [];
    expect(ips).toHaveLength(2);
    const lost = /losing (node-\d) hard/.exec(demo.out)?.[1];
    for (const ip of ips) {
      expect(demo.out).toContain(`reaches ${ip}:8080 — answered by node-1, node-2`);
      expect(demo.out).toContain(`BIRD dropped ${lost}'s path to ${ip} at +`);
      const outage = Number(new RegExp(`client outage for ${ip.replace(/[.]/g, '\\.')}: (\\d+) ms`).exec(demo.out)?.[1]);
      figures.push(`bgp demo: client outage for ${ip} ${outage} ms`);
      // Only connections ECMP sent to the lost node fail, until BFD (300 ms) withdraws it.
      expect(outage).toBeLessThan(3000);
      expect(demo.out).toContain(`${lost} announces ${ip} again`);
    }
    expect(demo.out).toMatch(new RegExp(`BFD Down +router -> ${lost}`));
    expect(demo.out).toMatch(new RegExp(`BGP UPDATE +${lost} -> router +announces 198\\.51\\.100\\.`));
    expect(demo.out).toContain('tshark found no malformed frame');

    const before = state();
    const down = await lab('down');
    expect(down.code, down.out).toBe(0);
    expect(down.out).toMatch(/removed 6 namespaces/);
    expect(before.processes.filter(isOurs).map((p) => p.role)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
