// A test agent run inside a namespace (compiled to dist/): sends or receives frames through
// vipcast's packet socket so tests can check what a real kernel makes of them.
//   frame-agent send IF HEX...            send each frame, print "sent N", exit
//   frame-agent listen IF arp|ns [MAC]    print "ready", then each received frame as hex
import { arpRequestFilter, neighborSolicitationFilter } from '../../../speakers/layer2/bpf.js';
import { interfaceInfo, openFrameSocket } from '../../../speakers/layer2/packet-io.js';

const [command, interfaceName = 'eth0', ...rest] = process.argv.slice(2);
if (command === 'send') {
  const socket = openFrameSocket(interfaceName, 0x0003, undefined, () => undefined);
  for (const hex of rest) socket.send(Buffer.from(hex, 'hex'));
  socket.close();
  console.log(`sent ${rest.length}`);
} else if (command === 'listen') {
  const [kind, joinMac] = rest;
  const ns = kind === 'ns';
  const socket = openFrameSocket(interfaceName, ns ? 0x86dd : 0x0806, ns ? neighborSolicitationFilter : arpRequestFilter, (frame) => {
    console.log(frame.toString('hex'));
  });
  if (joinMac) socket.addMulticast(Buffer.from(joinMac.replace(/:/g, ''), 'hex'));
  console.log(`ready ${interfaceInfo(interfaceName).mac.toString('hex')}`);
  process.on('SIGTERM', () => {
    socket.close();
    process.exit(0);
  });
} else {
  console.error('usage: frame-agent send IF HEX... | listen IF arp|ns [MAC]');
  process.exit(2);
}
