// Run in the lab's client namespace by `vipcast lab demo`: opens a TCP connection to
// ADDRESS:PORT every INTERVAL ms and prints one line per attempt, "<ms since epoch> ok <what
// the server said>" or "<ms since epoch> fail <reason>"; each attempt gives up after TIMEOUT ms.
//   node tcp-probe.js ADDRESS PORT [INTERVAL_MS] [TIMEOUT_MS]
import { connect } from 'node:net';

const [address, portText, intervalText = '50', timeoutText = '300'] = process.argv.slice(2);
const port = Number(portText);
if (address === undefined || !Number.isInteger(port)) {
  console.error('usage: tcp-probe.js ADDRESS PORT [INTERVAL_MS] [TIMEOUT_MS]');
  process.exit(2);
}

function attempt(): void {
  const started = Date.now();
  let done = false;
  let answer = '';
  const socket = connect({ host: address, port });
  const finish = (line: string): void => {
    if (done) return;
    done = true;
    socket.destroy();
    console.log(`${started} ${line}`);
  };
  socket.setEncoding('utf8');
  socket.setTimeout(Number(timeoutText), () => finish('fail timeout'));
  socket.on('data', (chunk: string) => (answer += chunk));
  socket.on('end', () => finish(answer.trim() === '' ? 'fail empty' : `ok ${answer.trim()}`));
  socket.on('error', (error: NodeJS.ErrnoException) => finish(`fail ${error.code ?? error.message}`));
}

setInterval(attempt, Number(intervalText));
attempt();
process.on('SIGTERM', () => process.exit(0));
