// Sums vitest JSON reports into one closing line: "tests: N passed, N failed, N skipped".
// Fails when an expected tier's report is missing, when any test failed, and (under CI=true) when any test
// was skipped: a tier whose prerequisites are missing must fail in CI, not shrink.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir = '.cache/results', ...expected] = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const tierSkipped = report.numPendingTests + report.numTodoTests;
  console.log(`${file.replace(/\.json$/, '')}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${tierSkipped} skipped`);
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.success ? 0 : report.numFailedTestSuites);
  skipped += tierSkipped;
}
for (const tier of expected) {
  if (!files.includes(`${tier}.json`)) {
    console.log(`${tier}: no report (the tier did not run)`);
    failed += 1;
  }
}
if (files.length === 0) {
  console.log('no test reports found');
  failed += 1;
}
const ci = process.env.CI === 'true';
if (ci && skipped > 0) console.log(`CI=true: ${skipped} skipped test(s) count as failures`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 || (ci && skipped > 0) ? 1 : 0;
