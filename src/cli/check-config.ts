// `vipcast check-config FILE`: the controller's verdict on a config, offline.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseConfigFile } from '../config/source.js';
import { summarizeConfig } from '../config/summary.js';
import { formatIssue } from '../config/types.js';

const help = `usage: vipcast check-config FILE

Checks an address-pool config the way the controller would, without a cluster. FILE is the
bare config YAML or a ConfigMap manifest carrying it in data.config (MetalLB's legacy
ConfigMap works unchanged), kube-vip-cloud-provider's ConfigMap (named kubevip, or with
cidr-/range- keys), read key by key, or MetalLB's objects (metallb.io IPAddressPool,
L2Advertisement, BGPAdvertisement, BGPPeer, BFDProfile, Community; other kinds are skipped
with a note, and Secrets serve the BGPPeers' passwordSecret); "-" reads standard input.

Prints a summary of pools and peers, or every error with its YAML path and line (for
MetalLB's objects, the object and field: IPAddressPool/public.spec.addresses[0]).
Exit status: 0 valid, 1 invalid, 2 usage or unreadable file.`;

/** Runs `check-config`; returns 0 when valid, 1 when invalid, 2 on usage errors. */
export async function checkConfigCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    console.error(`vipcast check-config: ${(error as Error).message}\n\n${help}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(help);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) {
    console.error(help);
    return 2;
  }
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    console.error(`vipcast check-config: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return 2;
  }
  const name = file === '-' ? '<stdin>' : file;
  const result = parseConfigFile(text);
  for (const note of result.notes) console.log(`note: ${note}`);
  if (!result.ok) {
    console.log(`${name}: ${result.resource} is invalid (${result.errors.length} error${result.errors.length === 1 ? '' : 's'}):`);
    for (const issue of result.errors) console.log(`  ${formatIssue(issue)}`);
  } else {
    console.log(`${name}: ${result.resource} is valid`);
    for (const line of summarizeConfig(result.config)) console.log(line);
  }
  if (result.warnings.length > 0) {
    console.log('warnings:');
    for (const issue of result.warnings) console.log(`  ${formatIssue(issue)}`);
  }
  return result.ok ? 0 : 1;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
