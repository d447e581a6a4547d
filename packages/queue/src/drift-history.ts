import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { DriftReport } from './drift-report';
import { feedbackKeys, minuteOf } from './feedback-keys';

/** Most points kept per model: a day of minutes. */
export const DRIFT_HISTORY_POINTS = 1440;

/** How long a model's history outlives its latest point, in seconds (a day). */
export const DRIFT_HISTORY_TTL_S = 86_400;

/**
 * One drift check of a model's active version, as kept in its history: the single source of
 * the point's type, for the trainer that writes it and the API that serves it.
 */
export const driftPointSchema = z
  .object({
    t: z.iso.datetime().meta({ description: 'when the drift was computed' }),
    version: z.string().meta({ description: 'the active version whose inputs were tested' }),
    share: z.number().meta({ description: 'share of the features that drifted' }),
    drifted: z.boolean().meta({ description: 'whether the model drifted (share at least its drift share)' }),
    drifted_features: z.array(z.string()).meta({ description: 'the features that drifted' }),
    current_rows: z.int().meta({ description: 'inputs tested (the latest the version served, up to 1,000)' }),
  })
  .meta({ id: 'drift_point' });

/** One point of a model's drift history. */
export type DriftPoint = z.infer<typeof driftPointSchema>;

/** The point a drift report makes at time `at` (ms), or undefined when the report has no drift (no inputs yet). */
export function driftPointOf(report: DriftReport, at: number): DriftPoint | undefined {
  if (!report.drift) return undefined;
  return {
    t: new Date(at).toISOString(),
    version: report.version,
    share: report.drift.share,
    drifted: report.drift.drifted,
    drifted_features: [...report.drift.driftedFeatureNames],
    current_rows: report.current.rows,
  };
}

/**
 * Each model's drift over time in Redis: at most one point per model per minute, however many
 * trainers check it (a minute is claimed with SET NX before its point is written), newest
 * first in a list capped at {@link DRIFT_HISTORY_POINTS} that expires
 * {@link DRIFT_HISTORY_TTL_S} after its latest point, so a model nobody serves any more leaves
 * nothing behind. The trainers write it, the API reads it.
 */
export class DriftHistory {
  private readonly keys: ReturnType<typeof feedbackKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = feedbackKeys(prefix);
  }

  /** Whether the minute of `at` (ms) has no point yet: a hint, cheap; {@link record} decides. */
  async due(model: string, at: number): Promise<boolean> {
    return (await this.redis.exists(this.keys.driftHistoryClaim(model, minuteOf(at)))) === 0;
  }

  /**
   * Records `point` as its minute's point of `model` unless another checker claimed that
   * minute first; whether it was recorded.
   */
  async record(model: string, point: DriftPoint): Promise<boolean> {
    const minute = minuteOf(Date.parse(point.t));
    // Two minutes: the claim outlives its minute even when the clocks of two trainers differ a little.
    const claimed = await this.redis.set(this.keys.driftHistoryClaim(model, minute), '1', 'EX', 120, 'NX');
    if (claimed !== 'OK') return false;
    const key = this.keys.driftHistory(model);
    await this.redis.multi().lpush(key, JSON.stringify(point)).ltrim(key, 0, DRIFT_HISTORY_POINTS - 1).expire(key, DRIFT_HISTORY_TTL_S).exec();
    return true;
  }

  /** The model's points since `since` (ms, inclusive; all when absent), oldest first. Malformed entries are skipped. */
  async read(model: string, since?: number): Promise<DriftPoint[]> {
    const raw = await this.redis.lrange(this.keys.driftHistory(model), 0, DRIFT_HISTORY_POINTS - 1);
    const points: DriftPoint[] = [];
    for (const text of raw) {
      let parsed;
      try {
        parsed = driftPointSchema.safeParse(JSON.parse(text));
      } catch {
        continue;
      }
      if (!parsed.success) continue;
      // Not a break: two trainers' clocks may disagree a little, so the list is only nearly sorted.
      if (since !== undefined && Date.parse(parsed.data.t) < since) continue;
      points.push(parsed.data);
    }
    return points.reverse();
  }
}
