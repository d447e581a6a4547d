import { randomBytes } from 'node:crypto';
import IORedis from 'ioredis';

/**
 * The Redis every suite shares (started before the tests, never flushed): `CT_TEST_REDIS_URL`
 * or the local default. Suites keep apart by key prefix.
 */
export const TEST_REDIS_URL = process.env.CT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** TEST_REDIS_URL as connection options, for BullMQ queues and ioredis clients built in tests. */
export const TEST_REDIS: { host: string; port: number } = (() => {
  const u = new URL(TEST_REDIS_URL);
  return { host: u.hostname, port: Number(u.port || 6379) };
})();

/** A key prefix no other suite or stack uses. */
export const uniquePrefix = (tag = 'ct-test'): string => `${tag}-${randomBytes(5).toString('hex')}`;

/** Deletes every key under `prefix:` (never anything else) on the Redis at `url`. */
export async function cleanupRedis(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new IORedis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
