// The one-way layers (docs/adr/0001-module-layout.md) are lint rules (eslint.layers.js). This
// checks that the lint tier really applies them, and that each one refuses what it names and
// lets through what the layer may use, so a rule cannot quietly stop matching.
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain JavaScript config module, without type declarations
import { layers } from '../../eslint.layers.js';

const onlyLayers = new ESLint({
  cwd: process.cwd(),
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...(layers as object[])],
});

/** The layer rules' messages for `code` as if it were the file at `path` (nothing is written). */
async function refusals(path: string, code: string): Promise<string[]> {
  const [result] = await onlyLayers.lintText(code, { filePath: path });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('the layer rules', () => {
  it('are part of the lint tier\'s configuration for every layer', async () => {
    const full = new ESLint({ cwd: process.cwd() });
    const cases: [string, string][] = [
      ['speakers/bgp/fsm.ts', 'src/ is a higher layer'],
      ['speakers/bgp/codec/header.ts', 'a codec imports only'],
      ['src/speaker/runtime.ts', 'the speaker does not use the controller'],
      ['src/config/parse.ts', 'config and allocation decide from their inputs'],
      ['src/allocator/allocator.ts', 'config and allocation decide from their inputs'],
      ['src/cli/main.ts', 'lab/ is a higher layer'],
      ['lab/netns.ts', 'test/ is a higher layer'],
      ['bench/run.ts', 'test/ is a higher layer'],
    ];
    for (const [file, message] of cases) {
      const config = (await full.calculateConfigForFile(file)) as { rules: Record<string, unknown> };
      expect(JSON.stringify(config.rules['no-restricted-imports']), file).toContain(message);
    }
    const pure = (await full.calculateConfigForFile('src/config/parse.ts')) as { rules: Record<string, unknown> };
    expect(JSON.stringify(pure.rules['no-restricted-properties'])).toContain('"property":"now"');
  });

  it('keep src/, lab/, test/, bench/ and Kubernetes out of the protocol modules', async () => {
    expect(await refusals('speakers/bgp/session.ts', "import { a } from '../../src/config/parse.js'; export { a };")).toEqual([
      expect.stringContaining('src/ is a higher layer'),
    ]);
    expect(await refusals('speakers/peer/mesh.ts', "import { a } from '../../lab/netns.js'; export { a };")).toHaveLength(1);
    expect(await refusals('speakers/layer2/speaker.ts', "import { a } from '../../test/x.js'; export { a };")).toHaveLength(1);
    expect(await refusals('speakers/bgp/session.ts', "import type { V1Service } from '@kubernetes/client-node'; export type S = V1Service;")).toEqual([
      expect.stringContaining('no Kubernetes inside'),
    ]);
    expect(await refusals('speakers/bgp/session.ts', "import { a } from './fsm.js'; import { b } from '../common/ip-text.js'; export { a, b };")).toEqual([]);
  });

  it('let a codec use only node:buffer, its own folder and speakers/common', async () => {
    const at = 'speakers/bgp/codec/update.ts';
    expect(await refusals(at, "import { Buffer } from 'node:buffer'; import { a } from './header.js'; import { b } from '../../common/ip-text.js'; export { Buffer, a, b };")).toEqual([]);
    for (const source of ['node:fs', '../fsm.js', '../../layer2/vip.js', 'yaml', './sub/deeper.js']) {
      expect(await refusals(at, `import { a } from '${source}'; export { a };`), source).toEqual([expect.stringContaining('a codec imports only')]);
    }
    expect(await refusals('speakers/peer/codec.ts', "import { a } from './mesh.js'; import { readFile } from 'node:fs/promises'; export { a, readFile };")).toHaveLength(1);
  });

  it('keep the speaker off the controller\'s code and the program off the testbed', async () => {
    expect(await refusals('src/speaker/runtime.ts', "import { a } from '../controller/decide.js'; export { a };")).toEqual([
      expect.stringContaining('the speaker does not use the controller'),
    ]);
    expect(await refusals('src/speaker/runtime.ts', "import { a } from '../k8s/rest.js'; export { a };")).toEqual([]);
    expect(await refusals('src/cli/lab.ts', "import { a } from '../../lab/command.js'; export { a };")).toEqual([expect.stringContaining('lab/ is a higher layer')]);
    // The CLI's one way in: a dynamic import, loaded only when `vipcast lab` runs.
    expect(await refusals('src/cli/main.ts', "export const lab = () => import('../../lab/command.js');")).toEqual([]);
    expect(await refusals('lab/netns.ts', "import { a } from '../test/x.js'; export { a };")).toHaveLength(1);
    expect(await refusals('bench/run.ts', "import { a } from '../test/x.js'; import { b } from '../lab/netns.js'; export { a, b };")).toHaveLength(1);
  });

  it('keep files, sockets and the clock out of config parsing and allocation', async () => {
    for (const source of ['node:fs', 'node:fs/promises', 'fs', 'node:net', 'node:child_process', 'node:https']) {
      expect(await refusals('src/config/parse.ts', `import { a } from '${source}'; export { a };`), source).toEqual([expect.stringContaining('decide from their inputs')]);
    }
    for (const clock of ['Date.now()', 'new Date()', 'performance.now()', 'process.hrtime.bigint()']) {
      const found = await refusals('src/allocator/allocator.ts', `export const t = ${clock};`);
      expect(found.length, clock).toBeGreaterThan(0);
      for (const text of found) expect(text, clock).toContain('pass the time in');
    }
    expect(await refusals('src/config/duration.ts', 'export const t = () => setTimeout(() => undefined, 1);')).toHaveLength(1);
    expect(await refusals('src/config/duration.ts', "import { Buffer } from 'node:buffer'; export const d = new Date(0); export { Buffer };")).toEqual([]);
  });
});
