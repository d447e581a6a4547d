import { loadConfig } from '../src/config';

test('defaults: port 8000 on loopback, local Redis, ./data at the repository root, prefix ct', () => {
  const c = loadConfig({});
  expect(c.port).toBe(8000);
  expect(c.host).toBe('127.0.0.1');
  expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
  expect(c.dataDir).toMatch(/\/data$/);
  expect(c.redisPrefix).toBe('ct');
  expect(c.logLevel).toBe('info');
  expect(c.predictionLog).toBe(true);
  expect(Object.isFrozen(c)).toBe(true);
});

test('values are parsed, not coerced loosely', () => {
  const c = loadConfig({ PORT: '0', CT_PREDICTION_LOG: 'false', CT_RELOAD_INTERVAL_MS: '250', LOG_LEVEL: 'warn' });
  expect(c).toMatchObject({ port: 0, predictionLog: false, reloadIntervalMs: 250, logLevel: 'warn' });
});

test('bad values fail with a message naming the service and each variable', () => {
  expect(() => loadConfig({ PORT: '70000', REDIS_URL: 'http://x', CT_PREDICTION_LOG: 'yes', CT_RELOAD_INTERVAL_MS: '5' })).toThrow(
    /^invalid API configuration:[\s\S]*PORT[\s\S]*REDIS_URL[\s\S]*CT_RELOAD_INTERVAL_MS[\s\S]*CT_PREDICTION_LOG/,
  );
});
