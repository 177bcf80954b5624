// The one-way layers of docs/adr/0001-module-layout.md, as lint rules: speakers/ (the
// protocol modules) below src/ (the program) below lab/ (the testbed) below test/ and
// bench/. eslint.config.js applies them; test/unit/layers.test.ts checks that each fires.
// Each restriction matches the import's text. Relative paths are matched by the
// folder they climb into: from anywhere in speakers/, `../src/` or `../../src/` can only
// reach the top-level src/, as speakers/ has no folder of that name.
const intoTop = (folder) => ({
  regex: `^(\\.\\./)+${folder}/`,
  message: `${folder}/ is a higher layer (docs/adr/0001-module-layout.md)`,
});
const kubernetes = { group: ['@kubernetes/*'], message: 'the protocol modules have no Kubernetes inside (docs/adr/0001-module-layout.md)' };
// A codec is pure: bytes in, values out. It may use node:buffer, its own folder and speakers/common.
const codecOnly = {
  regex: '^(?!node:buffer$|\\./[^/]+$|(\\.\\./)+common/[^/]+$)',
  message: 'a codec imports only node:buffer, its own folder and speakers/common (docs/adr/0001-module-layout.md)',
};
// Config parsing and allocation are pure decisions: no files, sockets or processes.
const noIo = {
  regex: '^(node:)?(fs|fs/promises|net|dgram|http|https|http2|tls|child_process|worker_threads|dns)$',
  message: 'config and allocation decide from their inputs; the callers do the I/O (docs/adr/0001-module-layout.md)',
};
const layerRules = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
// ...and no clock: time comes in as an argument, so tests and replays decide it.
const noClock = {
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'pass the time in (docs/adr/0001-module-layout.md)' },
    { object: 'performance', property: 'now', message: 'pass the time in (docs/adr/0001-module-layout.md)' },
    { object: 'process', property: 'hrtime', message: 'pass the time in (docs/adr/0001-module-layout.md)' },
  ],
  'no-restricted-globals': [
    'error',
    ...['setTimeout', 'setInterval', 'setImmediate', 'performance'].map((name) => ({ name, message: 'pass the time in (docs/adr/0001-module-layout.md)' })),
  ],
  'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'pass the time in (docs/adr/0001-module-layout.md)' }],
};
export const layers = [
  // The protocol modules: nothing above them, and no Kubernetes.
  { files: ['speakers/**/*.ts'], rules: layerRules(intoTop('src'), intoTop('lab'), intoTop('test'), intoTop('bench'), kubernetes) },
  { files: ['speakers/**/codec/**/*.ts', 'speakers/**/codec.ts'], rules: layerRules(codecOnly, kubernetes) },
  // The program: never the testbed (the CLI loads `vipcast lab` by dynamic import, which this does not restrict).
  { files: ['src/**/*.ts'], rules: layerRules(intoTop('lab'), intoTop('test'), intoTop('bench')) },
  { files: ['src/speaker/**/*.ts'], rules: layerRules(intoTop('lab'), intoTop('test'), intoTop('bench'), { regex: '^(\\.\\./)+controller/', message: 'the speaker does not use the controller\'s code; shared pieces live in src/k8s, src/config or src/observability' }) },
  { files: ['src/config/**/*.ts', 'src/allocator/**/*.ts'], rules: { ...layerRules(intoTop('lab'), intoTop('test'), intoTop('bench'), noIo), ...noClock } },
  // The testbed serves the tests and the benches, never the other way round.
  { files: ['lab/**/*.ts'], rules: layerRules(intoTop('test'), intoTop('bench')) },
  { files: ['bench/**/*.ts'], rules: layerRules(intoTop('test')) },
];
