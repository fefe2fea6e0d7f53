/**
 * Writes `{ passed, failed, skipped }` to $TEST_SUMMARY_FILE when set, so .ci/run can add up
 * several runs into its closing "N passed, N failed" line.
 */
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.TEST_SUMMARY_FILE;
    if (!file) return;
    const failedSuites = results.numFailedTestSuites - results.testResults.filter((r) => r.numFailingTests > 0).length;
    fs.writeFileSync(
      file,
      JSON.stringify({
        passed: results.numPassedTests,
        // A suite that failed to run (e.g. a syntax error) has no failing tests of its own: count it.
        failed: results.numFailedTests + Math.max(0, failedSuites),
        skipped: results.numPendingTests,
      }),
    );
  }
}
module.exports = SummaryReporter;
