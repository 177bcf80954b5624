// The random fault schedule of the ownership simulation (ownership-simulation.test.ts).
import { World, type WorldOptions } from './ownership-sim.js';

/** The VIPs every simulated cluster serves. */
export const vips = ['192.0.2.100', '192.0.2.101', '2001:db8::100'];

/** Random faults for 20 s of simulated time, then 10 s of calm in which every VIP must settle. */
export async function scenario(options: Partial<WorldOptions> & { seed: number }, trace?: string[], stopAt = 34_000): Promise<World> {
  const world = new World({ nodes: 2 + Math.floor((options.seed % 7) / 2), vips, ...options });
  world.trace = trace;
  const faultNote = (text: string): void => {
    trace?.push(`${world.now.toFixed(1)} FAULT ${text}`);
  };
  const r = world.random;
  for (const node of world.nodes) world.at(r() * 300, undefined, () => world.start(node));
  let t = 3000;
  while (t < 20_000) {
    t += 300 + r() * 1500;
    const node = world.nodes[Math.floor(r() * world.nodes.length)]!;
    const other = world.nodes.find((n) => n !== node) ?? node;
    const fault = Math.floor(r() * 9);
    const lasting = 200 + r() * 4000;
    world.at(t, undefined, () => {
      faultNote(`${fault} on ${node.name} (other ${other.name}) for ${lasting.toFixed(0)} ms`);
      switch (fault) {
        case 0:
          world.crash(node);
          world.at(world.now + lasting, undefined, () => world.start(node));
          break;
        case 1:
          world.freeze(node);
          world.at(world.now + lasting, undefined, () => world.resume(node));
          break;
        case 2:
          world.stopGracefully(node);
          world.at(world.now + lasting, undefined, () => world.start(node));
          break;
        case 3:
          node.apiDown = true;
          world.at(world.now + lasting, undefined, () => {
            node.apiDown = false;
            world.relist(node);
          });
          break;
        case 4:
          world.apiDownForAll = true;
          world.at(world.now + lasting * 2, undefined, () => {
            world.apiDownForAll = false;
            for (const n of world.nodes) world.relist(n);
          });
          break;
        case 5:
          for (const n of world.nodes) if (n !== node) world.cut.add(`${node.name}>${n.name}`).add(`${n.name}>${node.name}`);
          world.at(world.now + lasting, undefined, () => world.cut.clear());
          break;
        case 6:
          world.cut.add(`${node.name}>${other.name}`); // one way only
          world.at(world.now + lasting, undefined, () => world.cut.delete(`${node.name}>${other.name}`));
          break;
        case 7:
          world.loss = 0.3;
          world.at(world.now + lasting, undefined, () => (world.loss = 0.02));
          break;
        default:
          // The API server comes back in the middle of a handover: lose the owner and the API at once.
          world.apiDownForAll = true;
          world.crash(node);
          world.at(world.now + 200 + r() * 600, undefined, () => {
            world.apiDownForAll = false;
            for (const n of world.nodes) world.relist(n);
          });
          world.at(world.now + lasting, undefined, () => world.start(node));
      }
    });
  }
  await world.run(Math.min(22_000, stopAt));
  if (stopAt <= 22_000) return world;
  // Calm: everything heals, every stopped node restarts.
  world.cut.clear();
  world.apiDownForAll = false;
  world.loss = 0.02;
  world.apiLate = 0;
  world.apiAnswerLost = 0;
  for (const node of world.nodes) {
    node.apiDown = false;
    if (node.state === 'frozen') world.resume(node);
    if (node.state === 'crashed' || node.state === 'stopped') world.start(node);
    else world.relist(node);
  }
  await world.run(stopAt);
  return world;
}

