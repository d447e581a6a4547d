import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  expect(c.metrics).toBe(true);
  expect(c.feedbackIndex).toBe(true);
  expect(Object.isFrozen(c)).toBe(true);
});

test('values are parsed, not coerced loosely', () => {
  const c = loadConfig({ PORT: '0', CT_PREDICTION_LOG: 'false', CT_METRICS: 'false', CT_FEEDBACK_INDEX: 'false', CT_RELOAD_INTERVAL_MS: '250', LOG_LEVEL: 'warn' });
  expect(c).toMatchObject({ port: 0, predictionLog: false, metrics: false, feedbackIndex: false, reloadIntervalMs: 250, logLevel: 'warn' });
});

test('bad values fail with a message naming the service and each variable', () => {
  expect(() => loadConfig({ PORT: '70000', REDIS_URL: 'http://x', CT_PREDICTION_LOG: 'yes', CT_RELOAD_INTERVAL_MS: '5' })).toThrow(
    /^invalid API configuration:[\s\S]*PORT[\s\S]*REDIS_URL[\s\S]*CT_RELOAD_INTERVAL_MS[\s\S]*CT_PREDICTION_LOG/,
  );
});

describe('tokens and limits', () => {
  const ADMIN = 'an-admin-token-of-enough-length-42';

  test('defaults: /predict open, reads behind a token, budgets a single client never meets, no static tokens', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      authPredict: 'open',
      authRead: 'required',
      rates: { predict: 1000, read: 100, train: 20, admin: 10 },
      maxQueuedPerModel: 100,
      maxQueuedPerCaller: 10,
      tokens: [],
      tokenSecret: undefined,
    });
  });

  test('tokens from the environment or from files; an empty variable is unset (compose passes ${X:-})', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-config-'));
    try {
      const file = join(dir, 'trainer');
      writeFileSync(file, 'a-trainer-token-read-from-a-file\n');
      const c = loadConfig({ CT_ADMIN_TOKEN: ADMIN, CT_TRAINER_TOKEN_FILE: file, CT_CLIENT_TOKEN: '', CT_TOKEN_SECRET: '' });
      expect(c.tokens).toEqual([
        { role: 'admin', token: ADMIN },
        { role: 'trainer', token: 'a-trainer-token-read-from-a-file' },
      ]);
      expect(c.tokenSecret).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a short token, a token given twice or an unreadable file stops the service with a message', () => {
    expect(() => loadConfig({ CT_ADMIN_TOKEN: 'short' })).toThrow(/CT_ADMIN_TOKEN: at least 24 characters/);
    expect(() => loadConfig({ CT_ADMIN_TOKEN: ADMIN, CT_ADMIN_TOKEN_FILE: '/nope' })).toThrow(/CT_ADMIN_TOKEN and CT_ADMIN_TOKEN_FILE are both set/);
    expect(() => loadConfig({ CT_CLIENT_TOKEN_FILE: '/nonexistent/ct-token' })).toThrow(/CT_CLIENT_TOKEN_FILE: cannot read \/nonexistent\/ct-token \(ENOENT\)/);
    expect(() => loadConfig({ CT_AUTH_PREDICT: 'sometimes', CT_RATE_TRAIN: '-1' })).toThrow(/CT_AUTH_PREDICT[\s\S]*CT_RATE_TRAIN/);
  });
});

test('CT_WEBHOOK_ATTEMPTS: the tries of a redelivery queued here, 12 by default, as the trainer reads it', () => {
  expect(loadConfig({}).webhookAttempts).toBe(12);
  expect(loadConfig({ CT_WEBHOOK_ATTEMPTS: '4' }).webhookAttempts).toBe(4);
  expect(() => loadConfig({ CT_WEBHOOK_ATTEMPTS: 'many' })).toThrow(/^invalid API configuration:[\s\S]*CT_WEBHOOK_ATTEMPTS/);
  expect(() => loadConfig({ CT_WEBHOOK_ATTEMPTS: '0' })).toThrow(/CT_WEBHOOK_ATTEMPTS/);
});
