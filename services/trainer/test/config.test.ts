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

describe('webhook delivery (CT_WEBHOOK_*)', () => {
  test("defaults are today's: 15 s per attempt, 12 attempts, 5 s backoff doubling up to 2 h, 500 log entries", () => {
    expect(loadConfig({}).webhooks).toEqual({ timeoutMs: 15_000, attempts: 12, backoffBaseMs: 5000, backoffMaxMs: 7_200_000, logLength: 500 });
  });

  test('values are parsed as integers', () => {
    const c = loadConfig({ CT_WEBHOOK_TIMEOUT_MS: '2500', CT_WEBHOOK_ATTEMPTS: '3', CT_WEBHOOK_BACKOFF_BASE_MS: '100', CT_WEBHOOK_BACKOFF_MAX_MS: '1000', CT_WEBHOOK_LOG_LENGTH: '50' });
    expect(c.webhooks).toEqual({ timeoutMs: 2500, attempts: 3, backoffBaseMs: 100, backoffMaxMs: 1000, logLength: 50 });
    expect(Object.isFrozen(c.webhooks)).toBe(true);
  });

  test('bad values fail with a message naming each variable', () => {
    expect(() => loadConfig({ CT_WEBHOOK_TIMEOUT_MS: 'soon', CT_WEBHOOK_ATTEMPTS: '0', CT_WEBHOOK_BACKOFF_BASE_MS: '1.5', CT_WEBHOOK_LOG_LENGTH: '-1' })).toThrow(
      /CT_WEBHOOK_TIMEOUT_MS[\s\S]*CT_WEBHOOK_ATTEMPTS[\s\S]*CT_WEBHOOK_BACKOFF_BASE_MS[\s\S]*CT_WEBHOOK_LOG_LENGTH/,
    );
    expect(() => loadConfig({ CT_WEBHOOK_ATTEMPTS: '101' })).toThrow(/CT_WEBHOOK_ATTEMPTS/);
    expect(() => loadConfig({ CT_WEBHOOK_TIMEOUT_MS: '50' })).toThrow(/CT_WEBHOOK_TIMEOUT_MS/);
  });

  test('the backoff cap may not be below its base', () => {
    expect(() => loadConfig({ CT_WEBHOOK_BACKOFF_BASE_MS: '60000', CT_WEBHOOK_BACKOFF_MAX_MS: '1000' })).toThrow(/CT_WEBHOOK_BACKOFF_MAX_MS: below CT_WEBHOOK_BACKOFF_BASE_MS/);
    expect(loadConfig({ CT_WEBHOOK_BACKOFF_BASE_MS: '1000', CT_WEBHOOK_BACKOFF_MAX_MS: '1000' }).webhooks.backoffMaxMs).toBe(1000);
  });
});
