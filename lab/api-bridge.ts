// Lets processes inside network namespaces reach the test API server, which listens on the
// host's loopback: the test process serves a Unix socket that connects to the API server, and
// an agent in each namespace listens on that namespace's loopback and pipes into the socket.
// All traffic stays on loopback interfaces.
import { connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Host, HostProcess, Topology } from './netns.js';
import { labProgram } from './paths.js';
import { pipeServer } from './pipe-server.js';

/** The port the forwarders listen on inside each namespace (the API server's cert names 127.0.0.1). */
export const namespaceApiPort = 6443;

/** A Unix socket in the topology's directory that leads to the API server. */
export class ApiBridge {
  private constructor(
    private readonly server: Server,
    readonly path: string,
    private readonly sockets: Set<Socket>,
  ) {}

  /** Serves the socket; each connection is piped to 127.0.0.1:apiPort on the host. */
  static async open(topo: Topology, apiPort: number): Promise<ApiBridge> {
    const path = join(topo.dir, 'api.sock');
    const sockets = new Set<Socket>();
    const server = pipeServer(
      () => connect(apiPort, '127.0.0.1'),
      (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      },
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    return new ApiBridge(server, path, sockets);
  }

  /** Starts the forwarder in a host; resolves once it listens on 127.0.0.1:6443 there. */
  async attach(topo: Topology, host: Host): Promise<HostProcess> {
    const agent = topo.start(host, [process.execPath, labProgram('loopback-forward'), String(namespaceApiPort), this.path]);
    await agent.waitForLine(/^forwarding/, 10_000);
    return agent;
  }

  /** Cuts every connection in flight (as a network partition would), keeping the socket open. */
  cutConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Closes the socket and every connection through it. */
  async close(): Promise<void> {
    this.cutConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
