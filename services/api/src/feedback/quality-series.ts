import { wilsonInterval, type ModelSpec } from '@ct/core';
import { minuteOf } from '@ct/queue';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { readMinuteTallies, sumMinutes } from './minute-tallies';

/** Most time buckets one series answer holds (a day of minutes). */
export const MAX_SERIES_POINTS = 1440;

/** Default number of buckets when the step is not given. */
export const DEFAULT_SERIES_POINTS = 60;

const intervalSchema = z.object({ low: z.number(), high: z.number() }).meta({ description: '95% Wilson interval of the accuracy' });

/** One time bucket of one version. */
const seriesPointSchema = z.object({
  t: z.iso.datetime().meta({ description: "the bucket's start; it spans step_s seconds (the last one is still filling)" }),
  predictions: z.int().meta({ description: 'rows the version predicted in the bucket' }),
  n: z.int().meta({ description: 'labels given in the bucket (for predictions of any age)' }),
  correct: z.int().meta({ description: 'of those, how many said the predicted class' }),
  accuracy: z.number().nullable().meta({ description: 'correct / n; null without labels' }),
  interval: intervalSchema.nullable(),
});

/** `GET /models/:model/quality/series`: the single source of its answer's type. */
export const qualitySeriesSchema = z
  .object({
    model: z.string(),
    window: z.object({ seconds: z.int(), from: z.iso.datetime(), to: z.iso.datetime() }),
    step_s: z.int().meta({ description: 'the width of each bucket in seconds' }),
    versions: z.array(
      z.object({
        version: z.string(),
        active: z.boolean(),
        points: z.array(seriesPointSchema).meta({ description: 'every bucket of the window, oldest first (zeros where nothing happened)' }),
      }),
    ),
  })
  .meta({ id: 'live_quality_series' });

/** The answer of `GET /models/:model/quality/series`. */
export type QualitySeries = z.infer<typeof qualitySeriesSchema>;

/** The default bucket width for a window: whole minutes, at most {@link DEFAULT_SERIES_POINTS} buckets. */
export const defaultStepS = (windowS: number): number => Math.max(1, Math.ceil(windowS / 60 / DEFAULT_SERIES_POINTS)) * 60;

/**
 * Live accuracy over time: the per-minute tallies of each version of `spec`'s model that served
 * or got labels within the last `windowS` seconds, summed into buckets of `stepS` seconds
 * (whole minutes) aligned on the epoch, so the buckets stay put from one read to the next,
 * each with its accuracy and Wilson interval. A label counts in the bucket it was given in
 * (the tallies are kept per minute of the label, not of the prediction).
 */
export async function qualitySeries(redis: Redis, prefix: string, spec: ModelSpec, opts: { windowS: number; stepS: number; activeVersion: string | undefined; now?: number }): Promise<QualitySeries> {
  const now = opts.now ?? Date.now();
  const stepMin = Math.max(1, Math.round(opts.stepS / 60));
  const last = minuteOf(now);
  const first = Math.floor(minuteOf(now - opts.windowS * 1000) / stepMin) * stepMin;
  const tallies = await readMinuteTallies(redis, prefix, spec.name, first, last);
  const classes = spec.target.classes;
  const buckets = Math.floor((last - first) / stepMin) + 1;
  return {
    model: spec.name,
    window: { seconds: opts.windowS, from: new Date(first * 60_000).toISOString(), to: new Date(now).toISOString() },
    step_s: stepMin * 60,
    versions: tallies.map(({ version, minutes }) => ({
      version,
      active: version === opts.activeVersion,
      points: Array.from({ length: buckets }, (_, b) => {
        const get = sumMinutes(minutes.slice(b * stepMin, (b + 1) * stepMin));
        const n = get('n');
        const correct = Math.min(n, get('correct'));
        return {
          t: new Date((first + b * stepMin) * 60_000).toISOString(),
          predictions: classes.reduce((a, _c, k) => a + get(`pred:${k}`), 0),
          n,
          correct,
          accuracy: n > 0 ? correct / n : null,
          interval: n > 0 ? wilsonInterval(correct, n) : null,
        };
      }),
    })),
  };
}
