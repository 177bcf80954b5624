// Run in each lab node by `vipcast lab up`, standing in for kube-proxy and a Pod: accepts TCP
// on port 8080 (any address, so also the VIPs the node routes locally) and answers each
// connection with the node's name, so a client sees which node served it.
//   node echo-server.js NODE_NAME [PORT]
import { createServer } from 'node:net';

const [name, portText = '8080'] = process.argv.slice(2);
if (name === undefined) {
  console.error('usage: echo-server.js NODE_NAME [PORT]');
  process.exit(2);
}
createServer((socket) => {
  socket.on('error', () => socket.destroy());
  socket.end(`${name}\n`);
}).listen(Number(portText), '::', () => console.log(`listening on port ${portText} as ${name}`));
process.on('SIGTERM', () => process.exit(0));
