// Writes <package>/test-results.json so scripts/test-summary.mjs can print one closing line for the whole repo.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }
  onRunComplete(_contexts, results) {
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests,
      skipped: results.numPendingTests + results.numTodoTests,
      suitesFailed: results.numFailedTestSuites,
    };
    fs.writeFileSync(path.join(this.rootDir, 'test-results.json'), JSON.stringify(summary) + '\n');
  }
}
module.exports = SummaryReporter;
