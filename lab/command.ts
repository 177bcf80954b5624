// `vipcast lab up|demo|down`: a whole vipcast installation on one Linux machine, no cluster
// needed — a real API server on loopback, network namespaces for nodes, a client and a router,
// and the real controller and speakers — plus a guided failover demo.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labDemo, type LabFault } from './lab-demo.js';
import { labDown, removeEmptyDir } from './lab-down.js';
import { acquireLock, labDir, stateFile, type LabFamily, type LabMode } from './lab-state.js';
import { repositoryRoot } from './paths.js';
import { hostProblem } from './lab-prerequisites.js';
import { labUp, nextSteps } from './lab-up.js';

const help = `usage: vipcast lab up [--nodes N] [--mode layer2|bgp] [--family ipv4|ipv6|dual]
       vipcast lab demo [--fault node-loss|api-outage] [same options, used when no lab runs yet]
       vipcast lab down
       vipcast lab up|demo|down --cluster

Runs vipcast on one Linux machine with no cluster (root needed): a real kube-apiserver and
etcd on 127.0.0.1, network namespaces for the nodes, a client and (BGP mode) a BIRD router,
vipcast's RBAC and an address pool applied, and "vipcast controller" plus one
"vipcast speaker" per node running as they would in a cluster.

  up     start the lab and leave it running; prints a kubeconfig to use with kubectl
  demo   create a Service, show its IP and the client reaching it, lose the owning node
         hard, show the takeover, the measured outage and the frames on the wire
         (starts a lab first when none runs)
         --fault api-outage instead freezes the API server for 10 s and shows every
         address still answered by the same node, and nothing moving when it thaws
  down   stop and remove everything the lab made, and only that

options:
  --nodes N        node namespaces (default 3, at most 9)
  --mode M         layer2 (ARP/NDP, default) or bgp (BIRD router, ECMP, BFD)
  --family F       the pool's addresses: ipv4 (default), ipv6 or dual
  --cluster        a real cluster instead (scripts/cluster; Docker needed): three kubeadm
                   node containers on a Docker bridge with vipcast installed from
                   manifests/vipcast.yaml as Pods of its own image; demo kills the node
                   container answering for a Service and shows the takeover

The lab keeps its state in $VIPCAST_LAB_DIR (default /run/vipcast-lab).`;

/** Runs `vipcast lab ...`; 0 on success (also when a lab already runs, or none runs for down). */
export async function labCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        nodes: { type: 'string' },
        mode: { type: 'string' },
        family: { type: 'string' },
        fault: { type: 'string' },
        cluster: { type: 'boolean' },
      },
    });
  } catch (error) {
    console.error(`vipcast lab: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [action, ...extra] = positionals;
  if (values.help || action === 'help') {
    console.log(help);
    return 0;
  }
  // Options left out take their defaults, and `demo` then uses whatever lab runs.
  const asked = { nodes: values.nodes !== undefined, mode: values.mode !== undefined, family: values.family !== undefined };
  const wanted = { nodes: values.nodes ?? '3', mode: values.mode ?? 'layer2', family: values.family ?? 'ipv4' };
  const nodes = Number(wanted.nodes);
  const problems = [
    ...(action === undefined || !['up', 'demo', 'down'].includes(action) || extra.length > 0 ? [`expected one of up, demo, down (got "${positionals.join(' ')}")`] : []),
    ...(!/^[1-9]$/.test(wanted.nodes) ? [`--nodes must be 1 to 9 (got "${wanted.nodes}")`] : []),
    ...(!['layer2', 'bgp'].includes(wanted.mode) ? [`--mode must be layer2 or bgp (got "${wanted.mode}")`] : []),
    ...(!['ipv4', 'ipv6', 'dual'].includes(wanted.family) ? [`--family must be ipv4, ipv6 or dual (got "${wanted.family}")`] : []),
    ...(values.fault !== undefined && !['node-loss', 'api-outage'].includes(values.fault) ? [`--fault must be node-loss or api-outage (got "${values.fault}")`] : []),
    ...(values.fault !== undefined && action !== 'demo' ? ['--fault is an option of "lab demo" only'] : []),
  ];
  if (values.cluster === true && (asked.nodes || asked.mode || asked.family || values.fault !== undefined)) {
    problems.push('--cluster takes no --nodes, --mode, --family or --fault (the cluster has 3 nodes and layer-2 pools; scripts/cluster --help)');
  }
  if (problems.length > 0) {
    console.error(`vipcast lab: ${problems.join('; ')}\n\n${help}`);
    return 2;
  }
  if (values.cluster === true) return clusterLab(action ?? '');
  const host = hostProblem(process.platform, process.getuid?.(), action);
  if (host !== undefined) {
    console.error(`vipcast lab: ${host}`);
    return 1;
  }
  const dir = labDir();
  const lock = acquireLock(dir);
  if ('heldBy' in lock) {
    console.error(`vipcast lab: another "vipcast lab" command (PID ${lock.heldBy}) is working on the lab in ${dir}; wait for it to finish.`);
    return 1;
  }
  const out = (line: string): void => console.log(line);
  // Ctrl-C: let the step in progress finish its clean-up (the demo restores the node) rather than dying midway.
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('vipcast lab: interrupted; stopping after the current step (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSignal);
  try {
    const options = { dir, nodes, mode: wanted.mode as LabMode, family: wanted.family as LabFamily, asked, out };
    if (action === 'down') return (await labDown(dir, out)) ? 0 : 1;
    const up = await labUp({ ...options, forDemo: action === 'demo', interrupted: () => interrupted });
    if (!up.ok) return 1;
    if (action === 'up') {
      for (const line of nextSteps(up.state)) out(line);
      return 0;
    }
    const shown = await labDemo(up.state, out, () => interrupted, (values.fault ?? 'node-loss') as LabFault);
    // A lab the demo started stays up for the user to explore: say how.
    if (up.started) for (const line of nextSteps(up.state)) out(line);
    return shown ? 0 : 1;
  } catch (error) {
    console.error(`vipcast lab: ${(error as Error).message}`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    lock.release();
    // No lab here now (taken down, or failed to start): leave no empty directory behind.
    if (!existsSync(stateFile(dir))) removeEmptyDir(dir);
  }
}

/** `vipcast lab ACTION --cluster`: scripts/cluster of this source tree does the work. */
function clusterLab(action: string): number {
  const script = join(repositoryRoot(), 'scripts', 'cluster');
  if (!existsSync(script)) {
    console.error(`vipcast lab: --cluster needs the source tree's ${script} (it is not in the image)`);
    return 1;
  }
  const run = spawnSync('bash', [script, action], { stdio: 'inherit' });
  if (run.error !== undefined) {
    console.error(`vipcast lab: cannot run ${script}: ${run.error.message}`);
    return 1;
  }
  return run.status ?? 1;
}
