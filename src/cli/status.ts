// `vipcast status`: for each LoadBalancer IP, the Service(s), the pool, the mode and which
// node(s) announce it now, read from the API server.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfigOnce } from '../k8s/config-feed.js';
import { configMapRef } from '../config/source.js';
import { configMapHelp, configMapOptions, formatLocation, readConfigMapFlags } from './config-map-flags.js';
import { loadApiAccess } from '../k8s/kubeconfig.js';
import { createKubeRest } from '../k8s/rest.js';
import type { ServiceView } from '../speaker/desired.js';
import type { SpeakerLeaseObject } from '../speaker/speaker-lease.js';
import { formatSpeakers, formatStatus, speakerRows, statusRows } from '../speaker/status-report.js';

const help = `usage: vipcast status [--kubeconfig PATH] [--namespace NS] [--config-source SOURCE]
                      [--config-map [NS/]NAME] [--metallb-namespace NS]
                      [--load-balancer-class CLASS] [--nodes] [--json]

Prints, for each address of a LoadBalancer Service, the Service(s) using it, its pool, the
mode (layer2 or bgp) and the node(s) announcing it now, as the speakers' Leases say.
--nodes prints one row per speaker instead: how it holds its layer-2 addresses (peer-quorum,
or lease with one or two speakers), its epoch and configuration, when its Lease was last
written (every 30 s in peer-quorum mode), what it announces and whom it took over from.
The kubeconfig defaults to $KUBECONFIG, then ~/.kube/config, then the in-cluster account.
Pass the speakers' --config-source and --config-map so that pools are read from the same
ConfigMap; --namespace is that of the speakers' Leases (vipcast-system).

options:
${configMapHelp}`;

/** Runs `status`: 0 when printed, 1 when the API cannot be read, 2 on usage errors. */
export async function statusCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', default: configMapRef.namespace },
        ...configMapOptions,
        'load-balancer-class': { type: 'string' },
        json: { type: 'boolean' },
        nodes: { type: 'boolean' },
      },
    }));
  } catch (error) {
    console.error(`vipcast status: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  const configFlags = readConfigMapFlags(values, values.namespace);
  if (!configFlags.ok) {
    console.error(`vipcast status: ${configFlags.message}`);
    return 2;
  }
  const config = configFlags.location;
  const home = join(homedir(), '.kube', 'config');
  const kubeconfig = values.kubeconfig ?? process.env['KUBECONFIG'] ?? (existsSync(home) ? home : undefined);
  try {
    const rest = createKubeRest(await loadApiAccess({ kubeconfig }), { fieldManager: 'vipcast-status', timeoutMs: 10_000 });
    const ns = encodeURIComponent(values.namespace);
    const [services, leases, verdict] = await Promise.all([
      rest.get<{ items?: ServiceView[] }>('/api/v1/services'),
      rest.get<{ items?: SpeakerLeaseObject[] }>(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`),
      readConfigOnce(rest, config),
    ]);
    if (values.nodes) {
      const speakers = speakerRows(leases.items ?? [], Date.now());
      if (values.json) console.log(JSON.stringify(speakers, null, 2));
      else console.log(speakers.length === 0 ? 'no speaker Lease found' : formatSpeakers(speakers));
      return 0;
    }
    const rows = statusRows(services.items ?? [], leases.items ?? [], verdict.ok ? verdict.config : undefined, Date.now(), values['load-balancer-class']);
    if (values.json) console.log(JSON.stringify(rows, null, 2));
    else console.log(rows.length === 0 ? 'no LoadBalancer Service has an address' : formatStatus(rows));
    if (!verdict.ok) console.error(`vipcast status: ${formatLocation(config)} (${config.source} format) is missing or invalid; pools are unknown`);
    return 0;
  } catch (error) {
    console.error(`vipcast status: ${(error as Error).message}`);
    return 1;
  }
}
