// `vipcast lab up`: a real kube-apiserver and etcd on loopback, namespaces for the nodes, a
// client (and a BIRD router in BGP mode), vipcast's RBAC and an address pool applied, and the
// controller and one speaker per node running as they would in a cluster, each a detached
// process recorded in the state file so `lab down` can remove exactly what was made.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { builtKubectl, pinnedVersions, type KubeBinaries } from './kube-binaries.js';
import { repositoryRoot } from './paths.js';
import { startLabApiServer } from './lab-apiserver.js';
import { startLabBird } from './lab-bird.js';
import { removeLab } from './lab-down.js';
import { DetachedLauncher } from './lab-launcher.js';
import { applyPoolConfig, applyRbac, registerReadyNode } from './lab-manifests.js';
import { checkLabPrerequisites, onPath } from './lab-prerequisites.js';
import { isOurs, readState, writeState, type LabFamily, type LabMode, type LabState } from './lab-state.js';
import { serviceAccountToken, writeKubeconfig, type KubeCredentials } from './kube-client.js';
import { holdsLease } from './lab-leases.js';
import { pollValue } from './netns.js';
import { LabTopology, labPoolConfig, labPrograms } from './lab-topology.js';
import { namespaceApiPort } from './api-bridge.js';

/** Names the cluster, context and user in the lab's kubeconfigs. */
const LAB_KUBECONFIG = { cluster: 'vipcast-lab' };
/** The components' ServiceAccount tokens last a year: a lab outlives no such span. */
const TOKEN_SECONDS = 365 * 24 * 3600;

/** What `lab up` builds. */
export interface LabUpOptions {
  readonly dir: string;
  /** Called by `lab demo`: a running lab is simply used. */
  readonly forDemo?: boolean;
  readonly nodes: number;
  readonly mode: LabMode;
  readonly family: LabFamily;
  /** Which of nodes, mode and family the user gave (a demo on a running lab checks only those). */
  readonly asked?: { readonly nodes: boolean; readonly mode: boolean; readonly family: boolean };
  /** Where progress and results go, one line at a time. */
  readonly out: (line: string) => void;
  /** True once the user pressed Ctrl-C: no further step starts, and what was made is removed. */
  readonly interrupted?: () => boolean;
}

/** The outcome of `up`: whether a lab runs now, and whether this call started it. */
export type LabUpResult = { readonly ok: true; readonly state: LabState; readonly started: boolean } | { readonly ok: false };

/** The recorded processes of a lab that are no longer running. */
function deadProcesses(state: LabState): string[] {
  return state.processes.filter((record) => !isOurs(record)).map((record) => record.role);
}

/** Brings a lab up (the caller holds the lock). A lab already running is left as it is. */
export async function labUp(options: LabUpOptions): Promise<LabUpResult> {
  const { out, dir } = options;
  const previous = readState(dir);
  if (previous !== undefined && previous.processes.some(isOurs)) return runningLab(previous, options);
  const binaries = await clearToStart(previous, options);
  if (binaries === undefined) return { ok: false };

  const started = performance.now();
  const state = newLabState(options);
  writeState(dir, state);
  const launcher = new DetachedLauncher(join(dir, 'logs'), repositoryRoot(), (record) => {
    state.processes.push(record);
    writeState(dir, state);
  });
  try {
    await buildLab(state, options, launcher, binaries);
    state.complete = true;
    writeState(dir, state);
    out(`lab: up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { ok: true, state, started: true };
  } catch (error) {
    out(`vipcast lab: starting the lab failed: ${(error as Error).message}`);
    out('lab: removing what was made ...');
    await removeLab(state, out);
    return { ok: false };
  }
}

/** A lab runs already: `up` changes nothing and says how it differs; `demo` uses it when it is whole and as asked. */
function runningLab(previous: LabState, options: LabUpOptions): LabUpResult {
  const { out, dir } = options;
  const asked = options.asked ?? { nodes: true, mode: true, family: true };
  const differs = [
    ...(asked.nodes && previous.nodes.length !== options.nodes ? [`${options.nodes} nodes`] : []),
    ...(asked.mode && previous.mode !== options.mode ? [options.mode] : []),
    ...(asked.family && previous.family !== options.family ? [options.family] : []),
  ];
  const running = describeLab(previous);
  const dead = deadProcesses(previous);
  if (options.forDemo === true && (!previous.complete || dead.length > 0)) {
    out(`vipcast lab demo: the lab in ${dir} ${previous.complete ? `has lost ${dead.join(', ')}` : 'did not finish starting'}: run "vipcast lab down", then "vipcast lab demo" again.`);
    return { ok: false };
  }
  if (options.forDemo === true) {
    if (differs.length > 0) {
      out(`vipcast lab demo: the running lab has ${running}, not ${differs.join(', ')}. Run "vipcast lab down" first for a lab with those, or "vipcast lab demo" without options to use this one.`);
      return { ok: false };
    }
    out(`lab: using the running lab (started ${previous.createdAt}; ${running})`);
    return { ok: true, state: previous, started: false };
  }
  out(`A lab is already running (started ${previous.createdAt}; ${running}); state in ${dir}. Nothing changed.`);
  if (!previous.complete) out('It did not finish starting: run "vipcast lab down", then "vipcast lab up" again.');
  else if (dead.length > 0) out(`These of its processes have died: ${dead.join(', ')}. Run "vipcast lab down", then "vipcast lab up" again.`);
  else if (differs.length > 0) out(`It differs from what was asked (${differs.join(', ')}): run "vipcast lab down" first to get that one.`);
  return { ok: true, state: previous, started: false };
}

/**
 * Checks the machine, removes what is left of a lab that no longer runs, and makes sure the
 * state directory holds nothing else; resolves with the kube binaries, or undefined (said why).
 */
async function clearToStart(previous: LabState | undefined, options: LabUpOptions): Promise<KubeBinaries | undefined> {
  const { out, dir } = options;
  const { problems, binaries } = checkLabPrerequisites(options.mode);
  if (problems.length > 0 || binaries === undefined) {
    out(`vipcast lab: cannot start the lab:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    return undefined;
  }
  if (previous !== undefined) {
    out('A lab recorded here is no longer running; removing what is left of it.');
    if ((await removeLab(previous, out)).left.length > 0) return undefined;
  }
  // The lab deletes what it records by name in this directory: it must not share it with anything else.
  const strangers = readdirSync(dir).filter((name) => !['lock', 'state.json'].includes(name));
  if (strangers.length > 0) {
    out(`vipcast lab: ${dir} holds other files (${strangers.slice(0, 5).join(', ')}); set VIPCAST_LAB_DIR to a new or empty directory for the lab.`);
    return undefined;
  }
  return binaries;
}

/** The state of a lab about to be built: its names, files and pool, nothing made yet. */
function newLabState(options: LabUpOptions): LabState {
  const { dir } = options;
  const id = randomBytes(4).toString('hex');
  const prefix = `vlab${id}`;
  return {
    version: 1,
    id,
    createdAt: new Date().toISOString(),
    mode: options.mode,
    family: options.family,
    dir,
    apiUrl: '',
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    namespaces: [],
    switchNs: `${prefix}-sw`,
    clientNs: `${prefix}-client`,
    controllerNs: `${prefix}-ctl`,
    ...(options.mode === 'bgp' ? { routerNs: `${prefix}-r`, birdSocket: join(dir, 'bird.ctl') } : {}),
    nodes: [],
    poolConfig: labPoolConfig(options.mode, options.family),
    files: ['logs', 'apiserver', 'api.sock', 'admin.kubeconfig', 'speaker.kubeconfig', 'controller.kubeconfig', 'bird.conf', 'bird.ctl', 'demo'].map((f) => join(dir, f)),
    processes: [],
    complete: false,
  };
}

/** Makes everything, step by step, recording each process and namespace in the state as it goes. */
async function buildLab(state: LabState, options: LabUpOptions, launcher: DetachedLauncher, binaries: KubeBinaries): Promise<void> {
  const { out, dir } = options;
  const prefix = `vlab${state.id}`;
  const step = async <T>(what: string, run: () => Promise<T>, done: (value: T, seconds: string) => string = (_, s) => `done in ${s} s`): Promise<T> => {
    if (options.interrupted?.() === true) throw new Error('interrupted');
    const at = performance.now();
    out(`lab: ${what} ...`);
    const value = await run();
    out(`lab:   ${done(value, ((performance.now() - at) / 1000).toFixed(1))}`);
    return value;
  };
  const versions = pinnedVersions();
  const api = await step(`starting kube-apiserver ${versions.kube} and etcd ${versions.etcd} on 127.0.0.1`, () => startLabApiServer(launcher, binaries, join(dir, 'apiserver')), (a, s) => `ready at ${a.url} in ${s} s`);
  state.apiUrl = api.url;
  writeState(dir, state);
  const socket = join(dir, 'api.sock');
  await launcher.start({ role: 'api-bridge', argv: [process.execPath, labPrograms().bridge, socket, String(api.port)], marker: labPrograms().bridge, ready: /^bridging/ });

  const nodeWord = options.nodes === 1 ? 'node' : 'nodes';
  const topology = await step(`creating namespaces ${prefix}-*: a switch, ${options.nodes} ${nodeWord}, a client, the controller's${options.mode === 'bgp' ? ', a router' : ''}`, () =>
    LabTopology.build({
      prefix,
      nodes: options.nodes,
      mode: options.mode,
      onNamespace: (ns) => {
        state.namespaces.push(ns);
        writeState(dir, state);
      },
    }),
  );
  state.nodes = topology.nodes;
  writeState(dir, state);
  await topology.startSupport(launcher, socket);

  const kubeconfigs = await step('applying RBAC from manifests/vipcast.yaml, the address pool ConfigMap and Ready Node objects', async () => {
    await applyRbac(api.admin, join(repositoryRoot(), 'manifests', 'vipcast.yaml'));
    await applyPoolConfig(api.admin, state.poolConfig);
    for (const node of topology.nodes) await registerReadyNode(api.admin, node.name, [node.ipv4, node.ipv6]);
    await writeKubeconfig(api.admin, state.adminKubeconfig, LAB_KUBECONFIG);
    const inNamespace = async (account: string, file: string): Promise<string> =>
      writeKubeconfig({ server: `https://127.0.0.1:${namespaceApiPort}`, ca: api.admin.ca, token: await serviceAccountToken(api.admin, 'vipcast-system', account, TOKEN_SECONDS) }, join(dir, file), LAB_KUBECONFIG);
    return { speaker: await inNamespace('vipcast-speaker', 'speaker.kubeconfig'), controller: await inNamespace('vipcast-controller', 'controller.kubeconfig') };
  });

  if (options.mode === 'bgp' && topology.routerNs !== undefined) {
    await step('starting BIRD 2 in the router namespace (AS 64512, BFD 100 ms x 3)', () => startLabBird(launcher, topology.routerNs ?? '', dir, topology.nodes, options.family));
  }
  await step('starting vipcast controller and one vipcast speaker per node', async () => {
    await topology.startController(launcher, kubeconfigs.controller);
    await Promise.all(topology.nodes.map((node) => topology.startSpeaker(launcher, node, kubeconfigs.speaker)));
    await speakersHoldLeases(api.admin, topology.nodes.map((n) => n.name));
  });
}

/** Resolves once every node's speaker holds its Lease (it then takes part in elections). */
async function speakersHoldLeases(admin: KubeCredentials, nodes: readonly string[], timeoutMs = 30_000): Promise<void> {
  const lacking = async (): Promise<string[]> => (await Promise.all(nodes.map(async (node) => ((await holdsLease(admin, node)) ? [] : [node])))).flat();
  const missing = await pollValue(lacking, (left) => left.length === 0, timeoutMs, 100);
  if (missing.length === 0) return;
  throw new Error(`the speakers of ${missing.join(', ')} hold no Lease after ${timeoutMs / 1000} s; see ${missing.map((node) => `logs/speaker-${node}.log`).join(', ')} in the lab's directory`);
}

/** "3 nodes, layer2, ipv4". */
function describeLab(state: LabState): string {
  return `${state.nodes.length} node${state.nodes.length === 1 ? '' : 's'}, ${state.mode}, ${state.family}`;
}

/** How to get `kubectl` when none is on the PATH: the one scripts/build-kube built, if any. */
function kubectlHint(kubectl: string | undefined): string[] {
  if (kubectl === 'kubectl') return [];
  return [kubectl === undefined ? '  # no kubectl here: "npm run setup" builds one; vipcast status reads the same API' : `  alias kubectl=${kubectl}    # the kubectl "npm run setup" built`];
}

/** What to tell the user once a lab runs. */
export function nextSteps(state: LabState, env: NodeJS.ProcessEnv = process.env): string[] {
  const prefix = `vlab${state.id}`;
  // Run through sudo, the user's own shell cannot read root's kubeconfig (or root's ~/.cache):
  // then every command says sudo and names the kubeconfig.
  const sudo = env['SUDO_UID'] !== undefined && env['SUDO_UID'] !== '';
  const kubectl = onPath('kubectl') ? 'kubectl' : builtKubectl();
  const use = sudo
    ? [
        ...(kubectl === undefined ? ['  # no kubectl here: "npm run setup" builds one; vipcast status reads the same API'] : [`  sudo ${kubectl} --kubeconfig ${state.adminKubeconfig} create service loadbalancer web --tcp=8080:8080`]),
        `  sudo node bin/vipcast.js status --kubeconfig ${state.adminKubeconfig}    # each LoadBalancer IP and the node announcing it`,
      ]
    : [
        `  export KUBECONFIG=${state.adminKubeconfig}`,
        ...kubectlHint(kubectl),
        '  kubectl create service loadbalancer web --tcp=8080:8080',
        '  node bin/vipcast.js status    # each LoadBalancer IP and the node announcing it',
      ];
  const nodes = state.nodes.map((n) => `${n.name} ${n.ns} ${n.ipv4} ${n.mac}`);
  return [
    '',
    `The lab is running: ${describeLab(state)}; kube-apiserver at ${state.apiUrl}.`,
    `  nodes: ${nodes.join('\n         ')}`,
    `  client: ${state.clientNs}${state.routerNs === undefined ? '' : `, router (BIRD): ${state.routerNs}`}`,
    `  logs: ${join(state.dir, 'logs')}`,
    '',
    'Use it with kubectl or vipcast status:',
    ...use,
    `  sudo ip netns exec ${state.clientNs} bash -c 'cat < /dev/tcp/IP/8080'    # the client asks; the serving node says its name`,
    '',
    'Try next:',
    '  sudo node bin/vipcast.js lab demo    # a Service gets an IP, its node is lost, another takes over',
    `  sudo ip netns exec ${prefix}-client ip neigh    # who the client thinks owns each address`,
    '  sudo node bin/vipcast.js lab down    # removes everything the lab made',
  ];
}
