import type { RawValue } from '@ct/core';
import { feedbackKeys } from '@ct/queue';
import type { Redis } from 'ioredis';
import { predictionIdTime } from './prediction-id';

/** A served prediction as the index keeps it: enough to turn a label into a training row. */
export interface IndexedPrediction {
  /** model */
  m: string;
  /** version */
  v: string;
  /** the row's cells in the spec's feature order (null: missing, imputed) */
  x: RawValue[];
  /** predicted class index */
  y: number;
  /** when, Unix ms */
  t: number;
}

/**
 * Reads the prediction index (written by {@link PredictionIndex} on the writer thread): a
 * prediction by its id, in the hash of the second its id was made in.
 */
export class PredictionLookup {
  private readonly keys: ReturnType<typeof feedbackKeys>;

  constructor(
    private readonly opts: {
      redis: Redis;
      prefix: string;
      /** False (CT_FEEDBACK_INDEX=false): nothing is indexed, and feedback says why it finds nothing. */
      enabled?: boolean;
    },
  ) {
    this.keys = feedbackKeys(opts.prefix);
  }

  /** Whether predictions are indexed at all (CT_FEEDBACK_INDEX). */
  get enabled(): boolean {
    return this.opts.enabled ?? true;
  }

  /** The indexed predictions for `ids`, in order (undefined: not found, or expired). */
  async lookup(ids: readonly string[]): Promise<(IndexedPrediction | undefined)[]> {
    if (ids.length === 0) return [];
    const pipe = this.opts.redis.pipeline();
    const asked: boolean[] = [];
    for (const id of ids) {
      const made = predictionIdTime(id);
      asked.push(made !== undefined);
      if (made !== undefined) pipe.hget(this.keys.predictions(Math.floor(made / 1000)), id);
    }
    const answers = (await pipe.exec()) ?? [];
    let next = 0;
    const raw = asked.map((yes) => (yes ? ((answers[next++]?.[1] as string | null | undefined) ?? null) : null));
    return raw.map((r) => {
      if (r === null) return undefined;
      try {
        return JSON.parse(r) as IndexedPrediction;
      } catch {
        return undefined;
      }
    });
  }
}
