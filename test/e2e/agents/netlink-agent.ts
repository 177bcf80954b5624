// Test agent (compiled to dist/): one netlink operation inside the namespace it runs in,
// printing the result as JSON. Usage: add IF ADDR PREFIX [VALID_SECONDS] | del IF ADDR PREFIX |
// list IF | route ADDR | time-add IF ADDR PREFIX N (N add+delete pairs, prints µs per pair).
import { addAddress, deleteAddress, interfaceIndex, listAddresses, routeTo } from '../../../src/net/netlink.js';

const [op, ...args] = process.argv.slice(2);
try {
  if (op === 'add') {
    const [name = '', address = '', prefix = '', valid] = args;
    addAddress(interfaceIndex(name), address, Number(prefix), valid === undefined ? {} : { validSeconds: Number(valid) });
    console.log(JSON.stringify({ ok: true }));
  } else if (op === 'del') {
    const [name = '', address = '', prefix = ''] = args;
    console.log(JSON.stringify({ removed: deleteAddress(interfaceIndex(name), address, Number(prefix)) }));
  } else if (op === 'list') {
    console.log(JSON.stringify(listAddresses(interfaceIndex(args[0] ?? ''))));
  } else if (op === 'route') {
    console.log(JSON.stringify(routeTo(args[0] ?? '')));
  } else if (op === 'time-add') {
    const [name = '', address = '', prefix = '', count = '100'] = args;
    const index = interfaceIndex(name);
    const started = performance.now();
    for (let i = 0; i < Number(count); i++) {
      addAddress(index, address, Number(prefix));
      deleteAddress(index, address, Number(prefix));
    }
    console.log(JSON.stringify({ microsPerPair: Math.round(((performance.now() - started) * 1000) / Number(count)) }));
  } else {
    throw new Error(`unknown operation ${op ?? ''}`);
  }
} catch (error) {
  const e = error as NodeJS.ErrnoException & { errno?: number };
  console.log(JSON.stringify({ error: e.message, errno: e.errno }));
  process.exitCode = 1;
}
