import { loadConfig } from '../src/config';

test('defaults: local Redis, ./data at the repository root, prefix ct', () => {
  const c = loadConfig({});
  expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
  expect(c.dataDir).toMatch(/\/data$/);
  expect(c.redisPrefix).toBe('ct');
  expect(c.catalogPollMs).toBe(2000);
  expect(Object.isFrozen(c)).toBe(true);
});

test('bad values fail with a message naming each variable', () => {
  expect(() => loadConfig({ REDIS_URL: 'http://x', CT_REDIS_PREFIX: 'a:b', LOG_LEVEL: 'loud' })).toThrow(
    /REDIS_URL[\s\S]*CT_REDIS_PREFIX[\s\S]*LOG_LEVEL/,
  );
  expect(() => loadConfig({ CT_SHUTDOWN_TIMEOUT_MS: 'soon' })).toThrow(/CT_SHUTDOWN_TIMEOUT_MS/);
  expect(() => loadConfig({ CT_CATALOG_POLL_MS: '10' })).toThrow(/CT_CATALOG_POLL_MS/);
});
