import { resolveClass, type ModelSpec } from '@ct/core';
import { feedbackKeys, minuteOf, type Actor } from '@ct/queue';
import type { Redis } from 'ioredis';
import type { IndexedPrediction, PredictionLookup } from './prediction-lookup';
import { predictionIdTime } from './prediction-id';

/** One label for one prediction, as a client sends it: the class by name or by index. */
export interface FeedbackItem {
  prediction_id: string;
  label: string | number;
}

/** What became of one item. */
export type FeedbackOutcome =
  | { prediction_id: string; status: 'recorded' | 'replaced'; http_status: 201 | 200; label: string; predicted: string; correct: boolean; model_version: string; replaced_label?: string }
  | { prediction_id: string; status: 'not_found' | 'expired' | 'invalid'; http_status: 404 | 410 | 422; detail: string };

interface StoredLabel {
  label: number;
  at: number;
  by: string;
}

/**
 * Labels for served predictions. A label finds its prediction in the index (never the log),
 * replaces an earlier label for the same id (and says so), counts toward the version's live
 * quality (per-minute tallies, adjusted on a replacement), and joins the model's pending rows,
 * which the trainer turns into training data under the gate like any batch. The API writes no
 * model here.
 */
export class FeedbackStore {
  private readonly keys: ReturnType<typeof feedbackKeys>;

  constructor(
    private readonly opts: { redis: Redis; prefix: string; retentionS: number; index: PredictionLookup; now?: () => number },
  ) {
    this.keys = feedbackKeys(opts.prefix);
  }

  /** Records each item for `spec`'s model; the outcome of each, in order. */
  async submit(spec: ModelSpec, items: readonly FeedbackItem[], actor: Actor): Promise<FeedbackOutcome[]> {
    const now = (this.opts.now ?? Date.now)();
    const found = await this.opts.index.lookup(items.map((i) => i.prediction_id));
    const labels = await this.opts.redis.mget(...items.map((i) => this.keys.label(i.prediction_id)));
    const out: FeedbackOutcome[] = [];
    const multi = this.opts.redis.multi();
    const classes = spec.target.classes;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as FeedbackItem;
      const p = found[i];
      const outcome = this.check(spec, item, p, now);
      if (outcome) {
        out.push(outcome);
        continue;
      }
      const pred = p as IndexedPrediction;
      const label = resolveClass(item.label, classes) as number;
      const old = parseLabel(labels[i] ?? null);
      const correct = label === pred.y;
      if (old) this.count(multi, pred, old.label, minuteOf(old.at), -1);
      this.count(multi, pred, label, minuteOf(now), 1);
      const stored: StoredLabel = { label, at: now, by: actor.name };
      multi.set(this.keys.label(item.prediction_id), JSON.stringify(stored), 'EX', this.opts.retentionS);
      const pending = this.keys.pending(spec.name);
      multi.hset(pending, item.prediction_id, JSON.stringify({ x: pred.x, y: label }));
      multi.expire(pending, this.opts.retentionS);
      out.push({
        prediction_id: item.prediction_id,
        status: old ? 'replaced' : 'recorded',
        http_status: old ? 200 : 201,
        label: classes[label] as string,
        predicted: classes[pred.y] as string,
        correct,
        model_version: pred.v,
        ...(old ? { replaced_label: classes[old.label] as string } : {}),
      });
    }
    await multi.exec();
    return out;
  }

  /** Why an item cannot be recorded, or undefined when it can. */
  private check(spec: ModelSpec, item: FeedbackItem, p: IndexedPrediction | undefined, now: number): FeedbackOutcome | undefined {
    const id = item.prediction_id;
    if (!p) {
      const made = predictionIdTime(id);
      if (made !== undefined && made <= now && now - made > this.opts.retentionS * 1000) {
        return { prediction_id: id, status: 'expired', http_status: 410, detail: `prediction ${id} is older than the ${this.opts.retentionS} s retention window` };
      }
      const why = this.opts.index.enabled ? 'made by this stack within the retention window' : 'this API indexes no predictions: CT_FEEDBACK_INDEX=false';
      return { prediction_id: id, status: 'not_found', http_status: 404, detail: `no prediction ${id} (${why})` };
    }
    if (p.m !== spec.name) return { prediction_id: id, status: 'not_found', http_status: 404, detail: `prediction ${id} was made by another model` };
    if (resolveClass(item.label, spec.target.classes) === undefined) {
      return { prediction_id: id, status: 'invalid', http_status: 422, detail: `label must be one of ${spec.target.classes.join(', ')} or 0..${spec.target.classes.length - 1}` };
    }
    return undefined;
  }

  /** Adds `sign` labels of class `label` for the prediction's version in minute `minute`. */
  private count(multi: ReturnType<Redis['multi']>, p: IndexedPrediction, label: number, minute: number, sign: 1 | -1): void {
    const key = this.keys.tally(p.m, p.v, minute);
    const right = label === p.y ? sign : 0;
    multi.hincrby(key, 'n', sign);
    multi.hincrby(key, `n:${label}`, sign);
    if (right !== 0) {
      multi.hincrby(key, 'correct', right);
      multi.hincrby(key, `correct:${label}`, right);
    }
    multi.expire(key, this.opts.retentionS);
    const total = this.keys.tallyTotal(p.m, p.v);
    multi.hincrby(total, 'n', sign);
    if (right !== 0) multi.hincrby(total, 'correct', right);
    multi.expire(total, this.opts.retentionS);
    multi.zadd(this.keys.versions(p.m), 'GT', minute, p.v);
  }
}

function parseLabel(raw: string | null): StoredLabel | undefined {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as StoredLabel;
  } catch {
    return undefined;
  }
}
