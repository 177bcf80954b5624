// A test agent run inside a namespace (compiled to dist/) for the layer-2 wire tests and
// benchmark. Signals drive it, so the caller controls exactly when a takeover happens:
//   layer2-agent speaker IF REFRESH_MS VIP...   print "ready MAC"; SIGUSR1 announces every VIP,
//       SIGUSR2 releases them, SIGHUP prints "stats JSON"; each announce/release prints
//       "announced|released VIP t=NS" with the monotonic time (ns) just before the call
//   layer2-agent flood IF TARGET_IP RATE SECONDS same|random
//       send ARP requests for TARGET_IP at RATE/s from one forged MAC (02:ee:00:00:00:00) or a
//       new forged MAC each time,
//       then print "flooded N in S s"
import { encodeArpFrame } from '../../speakers/layer2/codec/arp.js';
import { openFrameSocket } from '../../speakers/layer2/packet-io.js';
import { Layer2Speaker } from '../../speakers/layer2/speaker.js';

const [command, interfaceName = 'eth0', ...rest] = process.argv.slice(2);

function speaker(refreshMs: number, vips: string[]): void {
  const timing = { burstCount: 3, burstIntervalMs: 1000, refreshIntervalMs: refreshMs };
  const l2 = Layer2Speaker.open(interfaceName, { timing, onError: (message) => console.error(message) });
  process.on('SIGUSR1', () => {
    for (const vip of vips) {
      const t = process.hrtime.bigint();
      l2.announce(vip);
      console.log(`announced ${vip} t=${t}`);
    }
  });
  process.on('SIGUSR2', () => {
    for (const vip of vips) {
      const t = process.hrtime.bigint();
      l2.release(vip);
      console.log(`released ${vip} t=${t}`);
    }
  });
  process.on('SIGHUP', () => {
    console.log(`stats ${JSON.stringify({ ...l2.counters(), cpu: process.cpuUsage(), rss: process.memoryUsage().rss })}`);
  });
  process.on('SIGTERM', () => {
    l2.close();
    process.exit(0);
  });
  console.log(`ready ${l2.mac}`);
}

async function flood(targetIp: string, rate: number, seconds: number, forged: boolean): Promise<void> {
  const socket = openFrameSocket(interfaceName, 0x0003, undefined, () => undefined);
    const frameFor = (i: number): Buffer => {
    const mac = `02:ee:${[(i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
    return encodeArpFrame({
      ethernet: { destination: 'ff:ff:ff:ff:ff:ff', source: mac },
      arp: { operation: 'request', senderMac: mac, senderIp: '192.0.2.66', targetMac: '00:00:00:00:00:00', targetIp },
    });
  };
  const fixed = frameFor(0);
  const start = performance.now();
  let sent = 0;
  let failed = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      try {
        socket.send(forged ? frameFor(sent) : fixed);
      } catch {
        failed++;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  socket.close();
  console.log(`flooded ${sent - failed} in ${((performance.now() - start) / 1000).toFixed(2)} s (${failed} refused)`);
}

if (command === 'speaker') {
  const [refresh = '10000', ...vips] = rest;
  speaker(Number(refresh), vips);
} else if (command === 'flood') {
  const [target = '', rate = '50000', seconds = '3', mode = 'same'] = rest;
  await flood(target, Number(rate), Number(seconds), mode === 'random');
} else {
  console.error('usage: layer2-agent speaker IF REFRESH_MS VIP... | flood IF TARGET_IP RATE SECONDS same|random');
  process.exit(2);
}
