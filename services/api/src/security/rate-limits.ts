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

const headersOf = (limit: string, remaining: number, msBeforeNext: number): RateHeaders => ({
  'RateLimit-Limit': limit,
  'RateLimit-Remaining': String(Math.max(0, remaining)),
  'RateLimit-Reset': String(Math.max(1, Math.ceil(msBeforeNext / 1000))),
});

/**
 * Budgets of at least this many requests per window are counted with a local allowance (see
 * {@link RateLimits}); smaller ones ask Redis about every request, exactly.
 */
export const ALLOWANCE_MIN_BUDGET = 100;

/** The most a replica counts ahead in Redis: this share of the budget. */
export const ALLOWANCE_SHARE = 0.01;

/** A request waiting for Redis to count it. */
interface Waiter {
  resolve(headers: RateHeaders): void;
  reject(err: unknown): void;
}

/** One caller on one budget, as this replica counts it. */
interface CallerCount {
  readonly budget: Budget;
  readonly callerKey: string;
  /** Requests waiting for Redis, in arrival order. */
  queue: Waiter[];
  /** A count is in flight in Redis (one at a time per caller and budget). */
  inFlight: boolean;
  /** Listed for this turn's flush. */
  scheduled: boolean;
  /** The allowance: counts `next` to `last` of Redis's current window are this replica's to hand out. */
  next: number;
  last: number;
  /** When that window ends (Date.now() clock); the allowance is void from then on. */
  windowEnd: number;
  /** Requests admitted in that window, and in the window before it: how many to count ahead. */
  used: number;
  previous: number;
}

/**
 * How long a count may wait for Redis before this replica counts in memory instead. A frozen
 * Redis (SIGSTOP, a long fork) keeps its connection open, so the "not ready" fallback never
 * fires; without this every limited request would wait for the command timeout (3 s).
 */
export const REDIS_COUNT_TIMEOUT_MS = 250;

/** Callers not seen for this long are forgotten (their windows ended long ago). */
const FORGET_AFTER_MS = 10_000;

/**
 * Rate limits in Redis, shared by every API replica: per caller (token, or address when
 * anonymous), one budget each for prediction, reads, training and admin, counted over
 * one-second windows. A caller past its budget is refused from this replica's memory until
 * the window ends, without asking Redis again. If Redis does not answer, each replica counts
 * alone in memory (the insurance limiter): requests are never refused because the limiter
 * is down.
 *
 * Measured under load on /predict (docs/benchmarks.md), a Redis round trip per request cost
 * more than the prediction: its command, timer, socket write and reply, and above all the
 * wait, since Redis shares the cores and every request waited for its turn. So:
 *
 * - The requests of one caller on one budget that wait for Redis are counted together, one
 *   `INCRBY n` per turn of the event loop, one count in flight at a time. The batch takes the
 *   n consecutive counts Redis hands out, in arrival order: each request is admitted or
 *   refused exactly as with n calls in a row.
 * - On budgets of {@link ALLOWANCE_MIN_BUDGET} or more, a count also reserves an allowance
 *   for the requests to come: about as many as the caller sent in this window or the last
 *   one, at most {@link ALLOWANCE_SHARE} of the budget. Later requests take their counts
 *   from it without waiting for Redis, until it is used up or the window ends. The counts
 *   stay in Redis, shared by every replica; what is reserved and not used before the window
 *   ends counts against the caller all the same, so with R replicas a busy caller may be
 *   refused up to R x 1 % before its budget. Smaller budgets get no allowance and stay exact.
 */
export class RateLimits {
  private readonly limiters = new Map<Budget, RateLimiterRedis>();
  /** Each budget's in-memory limiter: the insurance when Redis fails or is too slow. */
  private readonly memory = new Map<Budget, RateLimiterMemory>();
  /** The budgets' limits as header text, made once. */
  private readonly limitText = new Map<Budget, string>();
  /** The most counted ahead, per budget (0: every request asks Redis). */
  private readonly allowanceCap = new Map<Budget, number>();
  /** Callers by budget, then by key (no key string made per request). */
  private readonly counts = new Map<Budget, Map<string, CallerCount>>();
  /** Callers with requests to send at the end of this turn. */
  private ready: CallerCount[] = [];
  private flushScheduled = false;
  private lastSweep = Date.now();

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
      this.limitText.set(budget, String(points));
      this.counts.set(budget, new Map());
      this.allowanceCap.set(budget, points >= ALLOWANCE_MIN_BUDGET ? Math.floor(points * ALLOWANCE_SHARE) : 0);
      const insurance = new RateLimiterMemory({ points, duration: windowSeconds });
      this.memory.set(budget, insurance);
      this.limiters.set(
        budget,
        new RateLimiterRedis({
          storeClient: redis,
          keyPrefix: `${prefix}:rl:${budget}`,
          points,
          duration: windowSeconds,
          rejectIfRedisNotReady: true,
          inMemoryBlockOnConsumed: points,
          insuranceLimiter: insurance,
        }),
      );
    }
  }

  /**
   * Counts one request of `callerKey` against `budget`: the RateLimit headers, at once when
   * this replica's allowance covers it, else a promise of them; the promise rejects with a
   * 429 carrying `Retry-After` and the same headers. Undefined when that budget is off.
   */
  consume(budget: Budget, callerKey: string): RateHeaders | Promise<RateHeaders> | undefined {
    const callers = this.counts.get(budget);
    if (callers === undefined) return undefined;
    let c = callers.get(callerKey);
    if (c === undefined) {
      c = { budget, callerKey, queue: [], inFlight: false, scheduled: false, next: 1, last: 0, windowEnd: 0, used: 0, previous: 0 };
      callers.set(callerKey, c);
    }
    const now = Date.now();
    // From the allowance, unless earlier requests are still waiting (they go first).
    if (c.next <= c.last && now < c.windowEnd && c.queue.length === 0) {
      c.used++;
      return headersOf(this.limitText.get(budget) as string, this.rates[budget] - c.next++, c.windowEnd - now);
    }
    const caller = c;
    return new Promise<RateHeaders>((resolve, reject) => {
      caller.queue.push({ resolve, reject });
      this.schedule(caller);
    });
  }

  private schedule(c: CallerCount): void {
    if (c.inFlight || c.scheduled) return;
    c.scheduled = true;
    this.ready.push(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate runs once the I/O callbacks of this turn have run: every request the
      // turn parsed is in the batch, and none waits longer than the turn it arrived in.
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const ready = this.ready;
    this.ready = [];
    for (const c of ready) {
      c.scheduled = false;
      this.count(c);
    }
    const now = Date.now();
    if (now - this.lastSweep > FORGET_AFTER_MS) this.sweep(now);
  };

  /** Forgets callers idle since their window ended long ago (a flood of addresses must not grow the memory). */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const callers of this.counts.values()) {
      for (const [key, c] of callers) {
        if (!c.inFlight && c.queue.length === 0 && now - c.windowEnd > FORGET_AFTER_MS) callers.delete(key);
      }
    }
  }

  /** One count in Redis for the waiting requests and the allowance ahead, then each request's share of it. */
  private count(c: CallerCount): void {
    const waiters = c.queue;
    if (waiters.length === 0) return;
    c.queue = [];
    c.inFlight = true;
    const n = waiters.length;
    const cap = this.allowanceCap.get(c.budget) as number;
    // About the caller's pace: as many as it sent in this window so far (doubling while it
    // keeps up), or in the last window (a steady caller gets its allowance at once).
    const ahead = cap === 0 ? 0 : Math.min(cap, Math.max(c.used + n, c.previous));
    const limiter = this.limiters.get(c.budget) as RateLimiterRedis;
    const sentAt = Date.now();
    // Whichever answers first settles the waiters: Redis, or memory once Redis is too slow.
    let settled = false;
    const once =
      <A extends unknown[]>(fn: (...args: A) => void) =>
      (...args: A): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn(...args);
      };
    const onCount = once((res: RateLimiterRes, extra: number) => this.settle(c, waiters, extra, sentAt, res, false));
    const onRefusal = once((res: RateLimiterRes, extra: number) => this.settle(c, waiters, extra, sentAt, res, true));
    const timer = setTimeout(() => {
      const memory = this.memory.get(c.budget) as RateLimiterMemory;
      memory.consume(c.callerKey, n).then(
        (res) => onCount(res, 0),
        (rejected: unknown) => (rejected instanceof RateLimiterRes ? onRefusal(rejected, 0) : onError()),
      );
    }, REDIS_COUNT_TIMEOUT_MS);
    const onError = once(() => {
      c.inFlight = false;
      for (const w of waiters) w.resolve({});
      if (c.queue.length > 0) this.schedule(c);
    });
    limiter.consume(c.callerKey, n + ahead).then(
      (res) => onCount(res, ahead),
      (rejected: unknown) => {
        if (rejected instanceof RateLimiterRes) {
          onRefusal(rejected, ahead);
          return;
        }
        // Both stores failing leaves an Error: let the requests through rather than fail them.
        onError();
      },
    );
  }

  private settle(c: CallerCount, waiters: Waiter[], ahead: number, sentAt: number, res: RateLimiterRes, refused: boolean): void {
    c.inFlight = false;
    const budget = c.budget;
    const limit = this.rates[budget];
    const limitText = this.limitText.get(budget) as string;
    const now = Date.now();
    if (now >= c.windowEnd) {
      // A new window: what the caller sent in the one just ended sizes the next allowance.
      c.previous = now - c.windowEnd < this.windowSeconds * 1000 ? c.used : 0;
      c.used = 0;
    }
    // Redis measured the time left somewhere between sending and now: counted from the
    // sending, the allowance never outlives Redis's window.
    c.windowEnd = sentAt + res.msBeforeNext;
    // A refusal that counted nothing comes from this replica's memory (the caller was already
    // past its budget in this window): every request is refused, and nothing is reserved.
    const blocked = refused && res.consumedPoints <= limit;
    const total = blocked ? limit : res.consumedPoints;
    // The waiting requests took counts total - ahead - n + 1 ... total - ahead, in arrival
    // order; the allowance is the rest, up to the budget.
    let counted = total - ahead - waiters.length;
    for (const w of waiters) {
      counted++;
      if (!blocked && counted <= limit) {
        c.used++;
        w.resolve(headersOf(limitText, limit - counted, res.msBeforeNext));
      } else {
        w.reject(this.refusal(budget, limit, headersOf(limitText, 0, res.msBeforeNext)));
      }
    }
    c.next = blocked ? 1 : total - ahead + 1;
    c.last = blocked ? 0 : Math.min(total, limit);
    // Requests that came while Redis counted: from the new allowance, else the next count.
    while (c.queue.length > 0 && c.next <= c.last && now < c.windowEnd) {
      c.used++;
      (c.queue.shift() as Waiter).resolve(headersOf(limitText, limit - c.next++, c.windowEnd - now));
    }
    if (c.queue.length > 0) this.schedule(c);
  }

  private refusal(budget: Budget, limit: number, headers: RateHeaders): ApiError {
    return new ApiError('rate_limited', `more than ${limit} ${budget} request(s) per ${this.windowSeconds === 1 ? 'second' : `${this.windowSeconds} s`} from this caller`, [], {
      ...headers,
      'Retry-After': headers['RateLimit-Reset'] as string,
    });
  }
}
