// Sums vitest JSON reports into one closing line: "tests: N passed, N failed, N skipped".
// Fails when an expected tier's report is missing, when any test failed, and (under CI=true) when any test
// was skipped: a tier whose prerequisites are missing must fail in CI, not shrink.
// Each failed test, and each file that failed outside its tests, is named with the first lines of its
// message, so a log's tail says what failed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir = '.cache/results', ...expected] = process.argv.slice(2);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
const firstLines = (text, n = 6) => text.split('\n').filter((l) => l.trim() !== '').slice(0, n).map((l) => `      ${l}`).join('\n');
for (const file of files) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const tierSkipped = report.numPendingTests + report.numTodoTests;
  console.log(`${file.replace(/\.json$/, '')}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${tierSkipped} skipped`);
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += tierSkipped;
  const tier = file.replace(/\.json$/, '');
  for (const result of report.testResults) {
    for (const test of result.assertionResults) {
      if (test.status === 'failed') failures.push(`  ${tier}: ${result.name}\n    ${test.fullName}\n${firstLines(test.failureMessages.join('\n'))}`);
    }
    const failedTests = result.assertionResults.filter((t) => t.status === 'failed').length;
    if (result.status === 'failed' && failedTests === 0) {
      failed += 1; // a file that failed outside its tests (an import, a hook) counts once
      failures.push(`  ${tier}: ${result.name} (the file failed outside its tests)\n${firstLines(result.message || 'no message')}`);
    } else if (result.status === 'failed' && result.message) {
      failures.push(`  ${tier}: ${result.name} (the file's own message)\n${firstLines(result.message)}`);
    }
  }
  if (!report.success && report.numFailedTests === 0 && !report.testResults.some((r) => r.status === 'failed')) {
    failed += 1; // e.g. an unhandled error vitest reports after the tests
    failures.push(`  ${tier}: the run failed outside any test file (see the tier's log)`);
  }
}
if (failures.length > 0) console.log(`failed:\n${failures.join('\n')}`);
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
