export { discoverTests, type TestCase } from './suite.js';
export { DEFAULT_FEATURES, runTest, type RunnerOptions, type Status, type TestResult } from './runner.js';
export { jsonReport, markdownReport, passRate, summarize, textLine, textTotals, type SuiteSummary } from './report.js';
export { formatVersion, parseVersion, TARGET_VERSION, versionCompatible, type Version } from './version.js';
export { filterMatches, findValue, pyEquals, answerShell } from './checks.js';
