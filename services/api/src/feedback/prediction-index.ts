import type { RawValue } from '@ct/core';
import { feedbackKeys, minuteOf, RECENT_INPUTS } from '@ct/queue';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
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

interface Pending {
  id: string;
  json: string;
  second: number;
}

/**
 * Every prediction by id in Redis (shared by every API replica, kept for the retention
 * window), so feedback finds its input without a scan of the log and without the client
 * sending it again; plus each version's class mix per minute and its latest inputs (for
 * drift). Off the hot path: `record` only buffers; a timer writes the buffer in one pipeline
 * every `flushMs`. While Redis is down the buffer is dropped (counted and logged): a
 * prediction is never held up or refused for its index, and feedback on it gets a 404.
 */
export class PredictionIndex {
  private entries: Pending[] = [];
  private readonly mix = new Map<string, number>();
  private readonly inputs = new Map<string, string[]>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly keys: ReturnType<typeof feedbackKeys>;
  private flushing: Promise<void> | undefined;
  private dropped = 0;
  private closed = false;

  constructor(
    private readonly opts: {
      redis: Redis;
      prefix: string;
      retentionS: number;
      flushMs?: number;
      maxBuffered?: number;
      /** False (CT_FEEDBACK_INDEX=false): nothing is recorded, for a team that sends no feedback. */
      enabled?: boolean;
      logger: Logger;
    },
  ) {
    this.keys = feedbackKeys(opts.prefix);
    // Disabled, there is never anything to write.
    this.timer = this.enabled ? setInterval(() => void this.flush(), opts.flushMs ?? 100).unref() : undefined;
  }

  /**
   * Buffers the rows of one answer: a string per row, and the answer's class mix and inputs
   * counted once. Cheap: the writes happen in `flush`.
   */
  record(ids: readonly string[], model: string, version: string, rows: readonly (readonly RawValue[])[], labels: ArrayLike<number>, t: number): void {
    if (this.closed || !this.enabled) return;
    if (this.entries.length + ids.length > (this.opts.maxBuffered ?? 50_000)) {
      this.dropped += ids.length;
      return;
    }
    const head = `{"m":${JSON.stringify(model)},"v":${JSON.stringify(version)},"x":`;
    const tail = `,"t":${t}}`;
    const second = Math.floor(t / 1000);
    const minute = minuteOf(t);
    const inputsKey = `${model}\n${version}`;
    let recent = this.inputs.get(inputsKey);
    if (!recent) this.inputs.set(inputsKey, (recent = []));
    for (let i = 0; i < ids.length; i++) {
      const cells = JSON.stringify(rows[i]);
      const y = labels[i] as number;
      this.entries.push({ id: ids[i] as string, json: `${head}${cells},"y":${y}${tail}`, second });
      const mixKey = `${inputsKey}\n${minute}\n${y}`;
      this.mix.set(mixKey, (this.mix.get(mixKey) ?? 0) + 1);
      recent.push(cells);
    }
    if (recent.length > 2 * RECENT_INPUTS) recent.splice(0, recent.length - RECENT_INPUTS);
  }

  /** Writes the buffer in one pipeline; one flush at a time. */
  flush(): Promise<void> {
    if (this.flushing || this.entries.length === 0) return this.flushing ?? Promise.resolve();
    const entries = this.entries;
    const mix = [...this.mix];
    const inputs = [...this.inputs];
    this.entries = [];
    this.mix.clear();
    this.inputs.clear();
    const { redis, retentionS, logger } = this.opts;
    if (redis.status !== 'ready') {
      this.dropped += entries.length;
      logger.warn({ dropped: entries.length, dropped_total: this.dropped }, 'redis unavailable: predictions not indexed (feedback on them will be a 404)');
      return Promise.resolve();
    }
    const pipe = redis.pipeline();
    // One HSET per second of predictions (ids carry their second), one EXPIRE each.
    const bySecond = new Map<number, string[]>();
    for (const e of entries) {
      let fields = bySecond.get(e.second);
      if (!fields) bySecond.set(e.second, (fields = []));
      fields.push(e.id, e.json);
    }
    for (const [second, fields] of bySecond) {
      const key = this.keys.predictions(second);
      pipe.hset(key, ...fields);
      // Kept for the retention window after its second, plus a minute of slack for late flushes.
      pipe.expireat(key, second + retentionS + 60);
    }
    for (const [key, n] of mix) {
      const [model, version, minute, y] = key.split('\n') as [string, string, string, string];
      const tally = this.keys.tally(model, version, Number(minute));
      pipe.hincrby(tally, `pred:${y}`, n);
      pipe.expire(tally, retentionS);
      pipe.zadd(this.keys.versions(model), 'GT', Number(minute), version);
    }
    for (const [key, rows] of inputs) {
      const [model, version] = key.split('\n') as [string, string];
      const list = this.keys.inputs(model, version);
      pipe.lpush(list, ...rows.slice(-RECENT_INPUTS));
      pipe.ltrim(list, 0, RECENT_INPUTS - 1);
      pipe.expire(list, retentionS);
    }
    this.flushing = pipe.exec().then(
      () => undefined,
      (err: Error) => {
        this.dropped += entries.length;
        logger.warn({ err: err.message, dropped: entries.length }, 'prediction index write failed');
      },
    );
    return this.flushing.finally(() => {
      this.flushing = undefined;
    });
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

  /** Whether predictions are indexed at all (CT_FEEDBACK_INDEX). */
  get enabled(): boolean {
    return this.opts.enabled ?? true;
  }

  /** How many predictions were not indexed (Redis down, buffer full). */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Stops the timer and writes what is buffered. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }
}
