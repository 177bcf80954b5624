// Test agent: forwards Unix-socket connections to TCP addresses inside the network namespace it
// runs in, so the test process (in the root namespace) can reach API servers that listen only
// on namespace addresses. Arguments: SOCKET=HOST:PORT... Prints "ready" once listening.
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

let pending = process.argv.length - 2;
for (const spec of process.argv.slice(2)) {
  const [path = '', target = ''] = spec.split('=');
  const at = target.lastIndexOf(':');
  const host = target.slice(0, at);
  const port = Number(target.slice(at + 1));
  rmSync(path, { force: true });
  createServer((inbound) => {
    const outbound = connect(port, host);
    inbound.pipe(outbound).pipe(inbound);
    const end = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end);
    outbound.on('error', end);
  }).listen(path, () => {
    if (--pending === 0) console.log('ready');
  });
}
