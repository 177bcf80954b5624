// A test agent run inside a namespace (compiled to dist/) for the link-watch wire test: the
// speaker's view of links and routes (LinkFacts) refreshed by the kernel's notifications.
//   links-agent VIP...   print "ready STATE" at once and "change N STATE" after each burst of
//       kernel messages, STATE being JSON { routed: { VIP: interface or null }, carries:
//       { interface: boolean } } for every VIP and link; SIGTERM closes the watch and exits 0
import { listLinks, watchNetwork } from '../../../src/net/netlink.js';
import { LinkFacts } from '../../../src/speaker/links.js';

const vips = process.argv.slice(2);
const facts = new LinkFacts((what, error) => console.error(`${what}: ${String(error)}`));

function state(): string {
  const routed = Object.fromEntries(vips.map((vip) => [vip, facts.routedInterface(vip) ?? null]));
  const carries = Object.fromEntries(listLinks().map((link) => [link.name, facts.carries(link.name)]));
  return JSON.stringify({ routed, carries });
}

let changes = 0;
const watch = watchNetwork(() => {
  facts.invalidate();
  console.log(`change ${++changes} ${state()}`);
});
process.on('SIGTERM', () => {
  watch.close();
  process.exit(0);
});
console.log(`ready ${state()}`);
