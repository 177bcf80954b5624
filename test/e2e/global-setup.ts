// Prerequisites of the e2e tier: everything the wire tier needs, plus the kube-apiserver and
// etcd binaries, BIRD, and the netlink addon. A missing one fails the tier with the fix.
import { existsSync } from 'node:fs';
import checkWirePrerequisites from '../wire/global-setup.js';
import { builtKubectl, findKubeBinaries } from '../../lab/kube-binaries.js';
import { labProgram } from '../../lab/paths.js';
import { runHostCommand } from '../../lab/netns.js';

/** Checks the wire prerequisites, the kube binaries, bird/birdc and the netlink addon. */
export default async function checkE2ePrerequisites(): Promise<void> {
  await checkWirePrerequisites();
  const problems: string[] = [];
  try {
    findKubeBinaries();
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (builtKubectl() === undefined) problems.push('the kubectl scripts/build-kube builds for the lab test is missing');
  for (const command of ['bird', 'birdc']) {
    if ((await runHostCommand(['sh', '-c', `command -v ${command}`], true)).code !== 0) problems.push(`${command} is missing`);
  }
  if (!existsSync('native/build/Release/netlink.node')) problems.push('the netlink addon is not built');
  if (!existsSync(labProgram('loopback-forward'))) problems.push('dist/ is not built');
  if (problems.length > 0) throw new Error(`e2e tier cannot run: ${problems.join('; ')}. Run "npm run setup" (as root).`);
}
