// Test agent for the HA lab's client namespace: requests https://VIP:PORT/readyz every
// INTERVAL ms on a fresh connection (so each request goes where ARP says the VIP is now) and
// prints one line per request: "<start ms since the epoch> ok <serving node>" or
// "<start> fail <reason>". The serving node is the CN of the certificate that answered.
// Arguments: URL CA_FILE INTERVAL_MS TIMEOUT_MS
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

const [url = '', caFile = '', intervalText = '50', timeoutText = '500'] = process.argv.slice(2);
const ca = readFileSync(caFile, 'utf8');
const timeoutMs = Number(timeoutText);
const wallNow = (): number => performance.timeOrigin + performance.now();

function probe(): void {
  const started = wallNow();
  let done = false;
  const finish = (line: string): void => {
    if (done) return;
    done = true;
    process.stdout.write(`${started.toFixed(1)} ${line}\n`);
  };
  const req = request(url, { ca, agent: false, timeout: timeoutMs }, (res) => {
    const peer = (res.socket as TLSSocket).getPeerCertificate();
    const cn = typeof peer.subject?.CN === 'string' ? peer.subject.CN : '?';
    res.resume();
    res.on('end', () => finish(res.statusCode === 200 ? `ok ${cn}` : `fail status-${res.statusCode ?? 0}-${cn}`));
  });
  const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
  req.on('close', () => clearTimeout(timer));
  req.on('error', (error) => finish(`fail ${(error as NodeJS.ErrnoException).code ?? error.message}`));
  req.end();
}

setInterval(probe, Number(intervalText));
process.on('SIGTERM', () => process.exit(0));
