// Prerequisites of the wire tier. A missing one fails the tier with the fix, never skips it.
import { existsSync } from 'node:fs';
import { namespaceSupportProblem, runHostCommand } from '../../lab/netns.js';

const commands = ['tcpdump', 'tshark', 'arping', 'ndisc6', 'ping'];

/** Checks root, iproute2, the witnesses' commands, the addon and the compiled agents. */
export default async function checkWirePrerequisites(): Promise<void> {
  const problems: string[] = [];
  const namespaces = await namespaceSupportProblem();
  if (namespaces) problems.push(namespaces);
  for (const command of commands) {
    const found = await runHostCommand(['sh', '-c', `command -v ${command}`], true);
    if (found.code !== 0) problems.push(`${command} is missing`);
  }
  if (!existsSync('native/build/Release/packet_socket.node')) problems.push('the packet socket addon is not built');
  if (!existsSync('native/build/Release/udp_ttl.node')) problems.push('the UDP TTL addon BFD receives through is not built');
  if (!existsSync('dist/test/wire/agents/frame-agent.js')) problems.push('dist/ is not built');
  if (problems.length > 0) throw new Error(`wire tier cannot run: ${problems.join('; ')}. Run "npm run setup" (as root).`);
}
