// Run detached on the host by `vipcast lab up`: serves a Unix socket whose connections it pipes
// to the lab's API server on the host's loopback. The forwarders inside the lab's namespaces
// (loopback-forward.js) connect to this socket, so the speakers and the controller reach the
// API server with no traffic leaving loopback. The long-running twin of ApiBridge.
//   node api-bridge-daemon.js UNIX_PATH API_PORT
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { pipeServer } from '../pipe-server.js';

const [unixPath, portText] = process.argv.slice(2);
const port = Number(portText);
if (unixPath === undefined || !Number.isInteger(port)) {
  console.error('usage: api-bridge-daemon.js UNIX_PATH API_PORT');
  process.exit(2);
}
rmSync(unixPath, { force: true });
pipeServer(() => connect(port, '127.0.0.1')).listen(unixPath, () => console.log(`bridging ${unixPath} -> 127.0.0.1:${port}`));
const stop = (): void => {
  rmSync(unixPath, { force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
