// Run inside a lab namespace (by ApiBridge): listens on the namespace's own loopback and pipes
// each connection into a Unix socket served by the test process, which connects it to the
// API server on the host's loopback. Unix socket paths cross network namespaces, so the
// speakers reach the API server without any traffic leaving loopback.
//   node loopback-forward.js LISTEN_PORT UNIX_PATH
import { connect } from 'node:net';
import { pipeServer } from '../pipe-server.js';

const [portText, unixPath] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || unixPath === undefined) {
  console.error('usage: loopback-forward.js LISTEN_PORT UNIX_PATH');
  process.exit(2);
}
pipeServer(() => connect(unixPath)).listen(port, '127.0.0.1', () => console.log(`forwarding 127.0.0.1:${port} -> ${unixPath}`));
process.on('SIGTERM', () => process.exit(0));
