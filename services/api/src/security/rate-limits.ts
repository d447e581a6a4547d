import type { Permission } from '@ct/auth';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../errors/api-error';

/** The separate budgets a caller has, each in requests per second. */
export type Budget = 'predict' | 'read' | 'train' | 'admin';

/** The budget a permission draws on: feedback shares training's. */
export function budgetOf(permission: Permission): Budget {
  if (permission === 'feedback') return 'train';
  return permission;
}

/** Requests per second per caller for each budget; 0 turns that limit off. */
export type Rates = Readonly<Record<Budget, number>>;

/** The RateLimit header fields of an answer (draft-ietf-httpapi-ratelimit-headers, draft 6 names). */
export type RateHeaders = Record<string, string>;

const headersOf = (limit: number, res: RateLimiterRes): RateHeaders => ({
  'RateLimit-Limit': String(limit),
  'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
  'RateLimit-Reset': String(Math.max(1, Math.ceil(res.msBeforeNext / 1000))),
});

/**
 * Rate limits in Redis, shared by every API replica: per caller (token, or address when
 * anonymous), one budget each for prediction, reads, training and admin, counted over
 * one-second windows. A caller past its budget is refused from this replica's memory until
 * the window ends, without asking Redis again. If Redis does not answer, each replica counts
 * alone in memory (the insurance limiter): requests are never refused because the limiter
 * is down.
 */
export class RateLimits {
  private readonly limiters = new Map<Budget, RateLimiterRedis>();

  /**
   * @param rates requests per window for each budget
   * @param windowSeconds the window: 1 s in service (rates are per second); tests lengthen it
   *   so that a burst cannot straddle two windows
   */
  constructor(
    redis: Redis,
    prefix: string,
    readonly rates: Rates,
    private readonly windowSeconds = 1,
  ) {
    for (const [budget, points] of Object.entries(rates) as [Budget, number][]) {
      if (points <= 0) continue;
      this.limiters.set(
        budget,
        new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${prefix}:rl:${budget}`,
          points,
          duration: windowSeconds,
          rejectIfRedisNotReady: true,
          inMemoryBlockOnConsumed: points,
          insuranceLimiter: new RateLimiterMemory({ points, duration: windowSeconds }),
        }),
      );
    }
  }

  /**
   * Counts one request of `callerKey` against `budget`: resolves with the RateLimit headers,
   * or rejects with a 429 carrying `Retry-After` and the same headers. Undefined when that
   * budget is off.
   */
  consume(budget: Budget, callerKey: string): Promise<RateHeaders> | undefined {
    const limiter = this.limiters.get(budget);
    if (!limiter) return undefined;
    const limit = this.rates[budget];
    return limiter.consume(callerKey).then(
      (res) => headersOf(limit, res),
      (rejected: unknown) => {
        // Both stores failing leaves an Error: let the request through rather than fail it.
        if (!(rejected instanceof RateLimiterRes)) return {};
        const headers = headersOf(limit, rejected);
        throw new ApiError('rate_limited', `more than ${limit} ${budget} request(s) per ${this.windowSeconds === 1 ? 'second' : `${this.windowSeconds} s`} from this caller`, [], {
          ...headers,
          'Retry-After': headers['RateLimit-Reset'] as string,
        });
      },
    );
  }
}
