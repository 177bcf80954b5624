// Where the testbed finds its files: the repository root, and the compiled programs it starts
// inside namespaces or detached. Nothing here runs at import time; every path is computed
// when asked for, so importing the lab touches no file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this file holding vipcast's package.json (works from lab/ and dist/lab/). */
export function repositoryRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'vipcast') return dir;
    } catch {
      // no package.json here; keep climbing
    }
    if (dirname(dir) === dir) throw new Error(`no vipcast package.json above ${from}`);
  }
}

/** The testbed's programs, each a module of lab/programs/ run as a process of its own (in a namespace, or detached). */
export type LabProgram =
  | 'api-bridge-daemon'
  | 'bgp-announce'
  | 'control-plane'
  | 'controller'
  | 'echo-server'
  | 'layer2-agent'
  | 'loopback-forward'
  | 'readyz-probe'
  | 'tcp-probe'
  | 'unix-proxy';

/** The compiled program (from dist/ also when the caller runs from source, as the tests do). */
export function labProgram(name: LabProgram, root: string = repositoryRoot()): string {
  return join(root, 'dist', 'lab', 'programs', `${name}.js`);
}

/** The same path relative to the repository root, for logs and messages. */
export function labProgramInRepository(name: LabProgram): string {
  return join('dist', 'lab', 'programs', `${name}.js`);
}
