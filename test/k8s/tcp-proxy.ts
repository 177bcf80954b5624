// A loopback TCP proxy a test puts between a client and the API server, to cut every
// connection and refuse new ones for a while: the network failure an informer must survive.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { staticAccess, type ApiAccess } from '../../src/k8s/kubeconfig.js';
import type { TestApiServer } from '../../lab/apiserver.js';

/** A running proxy. */
export interface TcpProxy {
  /** The port clients connect to on 127.0.0.1. */
  readonly port: number;
  /** Destroys every open connection and refuses new ones until restore(). */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  /** Closes the proxy. */
  close(): Promise<void>;
}

/** Starts a proxy from a free loopback port to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    cut: () => {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    restore: () => {
      refusing = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** API access for the test API server's admin that reaches the server through `proxy`. */
export function proxiedAccess(server: TestApiServer, proxy: TcpProxy): ApiAccess {
  return staticAccess({ server: `https://127.0.0.1:${proxy.port}`, ca: server.caPem, cert: server.adminCertPem, key: server.adminKeyPem }, 'the test admin, through the proxy');
}
