// A test agent run inside a namespace (compiled to dist/) for the responder's wire tests: a
// layer-2 speaker that holds its VIPs from the start and says what its hooks and counters see.
//   responder-agent IF VIP...   announce every VIP, print "ready MAC"; print "conflict VIP MAC"
//       for each onConflict call; SIGHUP prints "stats JSON" (the speaker's counters());
//       SIGTERM closes the speaker and exits 0
import { Layer2Speaker } from '../../../speakers/layer2/speaker.js';

const [interfaceName = 'eth0', ...vips] = process.argv.slice(2);
const speaker = Layer2Speaker.open(interfaceName, {
  onError: (message) => console.error(message),
  onConflict: (vip, mac) => console.log(`conflict ${vip} ${mac}`),
});
for (const vip of vips) speaker.announce(vip);
process.on('SIGHUP', () => {
  console.log(`stats ${JSON.stringify(speaker.counters())}`);
});
process.on('SIGTERM', () => {
  speaker.close();
  process.exit(0);
});
console.log(`ready ${speaker.mac}`);
