import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import IORedis from 'ioredis';

export const REDIS_URL = 'redis://127.0.0.1:6379';
export const DATASETS = resolve(__dirname, '../../../datasets');

/** A unique key prefix and a temp data dir; `cleanup` removes both. */
export async function sandbox(): Promise<{ prefix: string; dataDir: string; cleanup: () => Promise<void> }> {
  const prefix = `ct-test-${randomBytes(4).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'ct-trainer-'));
  return {
    prefix,
    dataDir,
    cleanup: async () => {
      const redis = new IORedis(REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A producer queue on the test prefix (closed by the caller). */
export function producer(prefix: string, model = 'iris'): Queue {
  return new Queue(`train-${model}`, { connection: { host: '127.0.0.1', port: 6379 }, prefix });
}
