/** The webhook delivery's pure parts: Retry-After parsing, the retry delay, message ids. */
import { parseRetryAfter, webhookMessageId, webhookRetryDelay } from '../src/webhooks';

const opts = { baseMs: 5000, maxMs: 2 * 3600_000, maxRetryAfterMs: 24 * 3600_000 };

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates; ignores what is neither', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('webhookRetryDelay', () => {
  it('doubles per retry, between half and all of the exponential step, capped', () => {
    for (let n = 1; n <= 12; n++) {
      const step = Math.min(opts.maxMs, opts.baseMs * 2 ** (n - 1));
      expect(webhookRetryDelay(n, opts, undefined, () => 0)).toBe(step / 2);
      expect(webhookRetryDelay(n, opts, undefined, () => 1)).toBe(step);
    }
  });

  it('spans hours over the default 11 retries', () => {
    let total = 0;
    for (let n = 1; n <= 11; n++) total += webhookRetryDelay(n, opts, undefined, () => 0);
    expect(total).toBeGreaterThan(3600_000);
  });

  it('never retries sooner than Retry-After, up to its cap', () => {
    expect(webhookRetryDelay(1, opts, 60_000, () => 1)).toBe(60_000);
    expect(webhookRetryDelay(12, opts, 1000, () => 0)).toBe(opts.maxMs / 2);
    expect(webhookRetryDelay(1, opts, 10 * 86_400_000, () => 0)).toBe(opts.maxRetryAfterMs);
  });
});

describe('webhookMessageId', () => {
  it('is random without a key, the same for the same type and key', () => {
    expect(webhookMessageId('model.activated')).not.toBe(webhookMessageId('model.activated'));
    expect(webhookMessageId('model.activated', 'iris.1')).toBe(webhookMessageId('model.activated', 'iris.1'));
    expect(webhookMessageId('model.rejected', 'iris.1')).not.toBe(webhookMessageId('model.activated', 'iris.1'));
    expect(webhookMessageId('model.activated', 'iris.1')).toMatch(/^msg_[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
