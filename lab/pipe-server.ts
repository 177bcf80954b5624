// The relay under the lab's and the tests' API bridges: a server that joins each connection it
// accepts to a new outbound one, both ways. An error on either side closes both.
import { createServer, type Server, type Socket } from 'node:net';

/** A server piping each accepted connection to one `dial` opens; `track` sees both sockets of each pair. */
export function pipeServer(dial: () => Socket, track?: (socket: Socket) => void): Server {
  return createServer((inbound) => {
    const outbound = dial();
    const close = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    for (const socket of [inbound, outbound]) {
      socket.on('error', close);
      track?.(socket);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
}
