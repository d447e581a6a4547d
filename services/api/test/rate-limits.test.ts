/**
 * The rate limiter's counting on real Redis, below the HTTP layer: requests that wait together
 * are counted with one increment and still take their counts in arrival order, a small budget
 * is exact, and a large one hands counts out from this replica's allowance without asking
 * Redis each time while two replicas never admit more than the budget between them.
 */
import { createRedisConnection } from '@ct/queue';
import type { Redis } from 'ioredis';
import { ApiError } from '../src/errors/api-error';
import { ALLOWANCE_MIN_BUDGET, ALLOWANCE_SHARE, RateLimits, type RateHeaders } from '../src/security/rate-limits';
import { cleanupRedis, TEST_REDIS_URL, uniquePrefix } from './helpers/harness';

/** A 30 s window: nothing here can straddle two windows. */
const WINDOW_S = 30;

const rates = (predict: number) => ({ predict, read: 0, train: 0, admin: 0 });

/** What one request got: its headers, or the 429's. */
async function outcome(counted: RateHeaders | Promise<RateHeaders> | undefined): Promise<{ ok: boolean; remaining: string | undefined }> {
  try {
    const headers = await counted;
    return { ok: true, remaining: headers?.['RateLimit-Remaining'] };
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('rate_limited');
    return { ok: false, remaining: (err as ApiError).headers['RateLimit-Remaining'] };
  }
}

describe('rate limits', () => {
  let prefix: string;
  const connections: Redis[] = [];
  /** A connection that is ready: before that the limiter counts in memory (the insurance). */
  const connect = async (): Promise<Redis> => {
    const redis = createRedisConnection(TEST_REDIS_URL, 'producer', 'ct-test-rate-limits');
    connections.push(redis);
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    return redis;
  };

  beforeEach(() => {
    prefix = uniquePrefix();
  });
  afterEach(async () => {
    for (const r of connections.splice(0)) r.disconnect();
    await cleanupRedis(prefix);
  });

  it('counts a burst on a small budget exactly, in arrival order, with one increment', async () => {
    const redis = await connect();
    const limits = new RateLimits(redis, prefix, rates(5), WINDOW_S);
    const sent = jest.spyOn(redis, 'sendCommand');
    // Eight requests in one turn: they wait together.
    const burst = Array.from({ length: 8 }, () => limits.consume('predict', 'a:10.0.0.1'));
    const got = await Promise.all(burst.map(outcome));
    expect(got).toEqual([
      { ok: true, remaining: '4' },
      { ok: true, remaining: '3' },
      { ok: true, remaining: '2' },
      { ok: true, remaining: '1' },
      { ok: true, remaining: '0' },
      { ok: false, remaining: '0' },
      { ok: false, remaining: '0' },
      { ok: false, remaining: '0' },
    ]);
    // One script call (ioredis names it eval until the script is loaded on the connection).
    expect(sent.mock.calls.filter(([command]) => command.name === 'evalsha' || command.name === 'eval')).toHaveLength(1);
    // Past the budget, refused from memory; another caller has its own budget.
    expect((await outcome(limits.consume('predict', 'a:10.0.0.1'))).ok).toBe(false);
    expect(await outcome(limits.consume('predict', 'a:10.0.0.2'))).toEqual({ ok: true, remaining: '4' });
  });

  it('turns an off budget into no count at all', async () => {
    const limits = new RateLimits(await connect(), prefix, rates(0), WINDOW_S);
    expect(limits.consume('predict', 'a:10.0.0.1')).toBeUndefined();
  });

  it('hands counts out from an allowance on a large budget, and two replicas admit exactly the budget between them', async () => {
    const budget = 400;
    expect(Math.floor(budget * ALLOWANCE_SHARE)).toBeGreaterThan(1);
    expect(budget).toBeGreaterThanOrEqual(ALLOWANCE_MIN_BUDGET);
    const one = new RateLimits(await connect(), prefix, rates(budget), WINDOW_S);
    const two = new RateLimits(await connect(), prefix, rates(budget), WINDOW_S);
    let admitted = 0;
    let answeredAtOnce = 0;
    // Bursts of 7 on each replica in turn, until a burst on each is wholly refused: by then
    // both have used what they had reserved.
    const refusedOn = new Set<RateLimits>();
    for (let round = 0; round < 400 && refusedOn.size < 2; round++) {
      const limits = round % 2 === 0 ? one : two;
      const burst = Array.from({ length: 7 }, () => limits.consume('predict', 't:busy'));
      answeredAtOnce += burst.filter((c) => c !== undefined && !(c instanceof Promise)).length;
      const got = await Promise.all(burst.map(outcome));
      admitted += got.filter((r) => r.ok).length;
      if (got.every((r) => !r.ok)) refusedOn.add(limits);
    }
    expect(refusedOn.size).toBe(2);
    // Some requests were answered from an allowance, without a Redis round trip.
    expect(answeredAtOnce).toBeGreaterThan(0);
    // Every count of the window went to one request on one replica: no more, no fewer.
    expect(admitted).toBe(budget);
  });
});
