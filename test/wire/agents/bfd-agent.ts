// A test agent run inside a namespace (compiled to dist/) for the BFD wire tests.
//   bfd-agent session PEER LOCAL     vipcast's BfdSession with PEER; prints "ready", then "up",
//       "down DIAG", "discarded COUNT REASON" and "error MESSAGE" as it reports them; SIGHUP
//       prints "ttl-discards N"; SIGTERM stops the session and exits 0
//   bfd-agent peer TARGET LOCAL TTL  a scripted BFD peer that follows RFC 5880 section 6.8.6 but
//       sends every 200 ms with the given IP TTL / IPv6 hop limit; prints "ready", then
//       "state N" whenever its state changes
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { decodeBfdControl, encodeBfdControl, type BfdControl } from '../../../speakers/bfd/codec.js';
import { BFD_CONTROL_PORT, BfdSession } from '../../../speakers/bfd/session.js';
import { bfdPacket, bfdReceive, initialBfdVars } from '../../../speakers/bfd/state.js';

const [mode, peer = '', local = '', ttlText = '255'] = process.argv.slice(2);

if (mode === 'session') {
  const session = new BfdSession({ peer, localAddress: local, intervalMs: 100 }, (e) => {
    if (e.type === 'up') console.log('up');
    else if (e.type === 'down') console.log(`down ${e.diag}`);
    else if (e.type === 'discarded') console.log(`discarded ${e.count} ${e.reason}`);
    else console.log(`error ${e.message}`);
  });
  await session.start();
  process.on('SIGHUP', () => console.log(`ttl-discards ${session.ttlDiscards}`));
  process.on('SIGTERM', () => {
    session.stop();
    setTimeout(() => process.exit(0), 100);
  });
  console.log('ready');
} else if (mode === 'peer') {
  const type = isIPv6(peer) ? 'udp6' : 'udp4';
  let vars = initialBfdVars(0x7e57, 100_000, 3);
  const rx = dgram.createSocket(type);
  rx.on('message', (msg, from) => {
    if (from.address !== peer) return;
    let packet: BfdControl;
    try {
      packet = decodeBfdControl(msg);
    } catch (err) {
      console.log(`malformed ${(err as Error).message}`);
      return;
    }
    const r = bfdReceive(vars, packet);
    vars = r.vars;
    if (r.changed) console.log(`state ${vars.state}`);
  });
  await new Promise<void>((resolve) => rx.bind({ address: local, port: BFD_CONTROL_PORT }, resolve));
  const tx = dgram.createSocket(type);
  await new Promise<void>((resolve) => tx.bind({ address: local, port: 0 }, resolve));
  tx.setTTL(Number(ttlText));
  setInterval(() => tx.send(encodeBfdControl(bfdPacket(vars, false)), BFD_CONTROL_PORT, peer), 200);
  process.on('SIGTERM', () => process.exit(0));
  console.log('ready');
} else {
  console.error('usage: bfd-agent session PEER LOCAL | bfd-agent peer TARGET LOCAL TTL');
  process.exit(2);
}
