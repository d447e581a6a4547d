import { wilsonInterval, type ConfidenceInterval, type FeedbackTally, type ModelSpec } from '@ct/core';
import { minuteOf } from '@ct/queue';
import type { Redis } from 'ioredis';
import { readMinuteTallies, sumMinutes } from './minute-tallies';

/** Live quality of one class: how many labels said it, how many of those were predicted right. */
export interface ClassQuality {
  n: number;
  correct: number;
  recall: number | null;
  interval: ConfidenceInterval | null;
}

/** Live quality of one version over the window. */
export interface VersionQuality {
  version: string;
  active: boolean;
  predictions: number;
  /** Predictions per predicted class. */
  class_mix: Record<string, number>;
  feedback: {
    n: number;
    correct: number;
    accuracy: number | null;
    /** 95% Wilson interval of the accuracy. */
    interval: ConfidenceInterval | null;
    /** Share of the window's predictions that got a label (labels may come for older predictions too). */
    coverage: number | null;
    per_class: Record<string, ClassQuality>;
  };
}

/** `GET /models/:model/quality`. */
export interface QualityReport {
  model: string;
  window: { seconds: number; from: string; to: string };
  versions: VersionQuality[];
}

/**
 * Sums the per-minute tallies of each version of `spec`'s model that served or got labels
 * within the last `windowS` seconds: predictions by class, labels, and how many were right,
 * with Wilson intervals. Reads at most (window minutes x versions) small hashes in one
 * pipeline.
 */
export async function liveQuality(redis: Redis, prefix: string, spec: ModelSpec, opts: { windowS: number; activeVersion: string | undefined; now?: number }): Promise<QualityReport> {
  const now = opts.now ?? Date.now();
  const last = minuteOf(now);
  const first = minuteOf(now - opts.windowS * 1000);
  const tallies = await readMinuteTallies(redis, prefix, spec.name, first, last);
  const classes = spec.target.classes;
  const out: VersionQuality[] = tallies.map(({ version, minutes }) => {
    const get = sumMinutes(minutes);
    const predictions = classes.reduce((a, _c, k) => a + get(`pred:${k}`), 0);
    const tally: FeedbackTally = { n: get('n'), correct: get('correct') };
    const perClass: Record<string, ClassQuality> = {};
    classes.forEach((c, k) => {
      const n = get(`n:${k}`);
      const correct = get(`correct:${k}`);
      perClass[c] = { n, correct, recall: n > 0 ? correct / n : null, interval: n > 0 ? wilsonInterval(correct, n) : null };
    });
    return {
      version,
      active: version === opts.activeVersion,
      predictions,
      class_mix: Object.fromEntries(classes.map((c, k) => [c, get(`pred:${k}`)])),
      feedback: {
        ...tally,
        accuracy: tally.n > 0 ? tally.correct / tally.n : null,
        interval: tally.n > 0 ? wilsonInterval(tally.correct, tally.n) : null,
        coverage: predictions > 0 ? tally.n / predictions : null,
        per_class: perClass,
      },
    };
  });
  return { model: spec.name, window: { seconds: opts.windowS, from: new Date(first * 60_000).toISOString(), to: new Date(now).toISOString() }, versions: out };
}
