/**
 * @ct/testing: what the test suites share. Tests run against real Redis and real processes;
 * these helpers keep them apart (a key prefix and a temp dir per suite) and wait on
 * conditions with a deadline instead of sleeping.
 */
export * from './eventually';
export * from './free-port';
export * from './private-redis';
export * from './redis-sandbox';
export * from './temp-dir';
