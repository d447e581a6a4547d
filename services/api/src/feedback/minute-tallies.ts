import { feedbackKeys } from '@ct/queue';
import type { Redis } from 'ioredis';

/** One version's per-minute counters (feedbackKeys.tally's fields, as numbers), one record per minute from the first. */
export interface VersionMinutes {
  version: string;
  /** `minutes[i]` is minute `first + i`'s hash: `pred:<k>`, `n`, `correct`, `n:<k>`, `correct:<k>` (absent fields: none). */
  minutes: Record<string, number>[];
}

/**
 * Reads the per-minute tallies of each version of `model` that served or got labels from
 * minute `first` to minute `last` (inclusive): (minutes x versions) small hashes in one
 * pipeline. What live quality sums over its window and the quality series sums per bucket.
 */
export async function readMinuteTallies(redis: Redis, prefix: string, model: string, first: number, last: number): Promise<VersionMinutes[]> {
  const keys = feedbackKeys(prefix);
  const versions = await redis.zrangebyscore(keys.versions(model), first, '+inf');
  if (versions.length === 0) return [];
  const pipe = redis.pipeline();
  for (const v of versions) for (let m = first; m <= last; m++) pipe.hgetall(keys.tally(model, v, m));
  const results = (await pipe.exec()) ?? [];
  const span = last - first + 1;
  return versions.map((version, vi) => ({
    version,
    minutes: Array.from({ length: span }, (_, i) => {
      const [, hash] = results[vi * span + i] ?? [null, {}];
      return Object.fromEntries(Object.entries((hash ?? {}) as Record<string, string>).map(([field, value]) => [field, Number(value)]));
    }),
  }));
}

/** Sums fields over several minutes' counters; a field never goes below 0 (a replaced label is subtracted from its own minute, which may be outside the range). */
export function sumMinutes(minutes: readonly Record<string, number>[]): (field: string) => number {
  const sum = new Map<string, number>();
  for (const hash of minutes) for (const [field, value] of Object.entries(hash)) sum.set(field, (sum.get(field) ?? 0) + value);
  return (field) => Math.max(0, sum.get(field) ?? 0);
}
