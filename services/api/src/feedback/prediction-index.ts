import { feedbackKeys, minuteOf, RECENT_INPUTS } from '@ct/queue';
import type { Redis } from 'ioredis';

/**
 * The buffered predictions of one version in one second: the HSET fields of that second's
 * key (id, JSON, id, JSON, ...), the classes predicted, and the inputs. Built as predictions
 * come, so that a flush only sends them.
 */
interface Group {
  readonly model: string;
  readonly version: string;
  readonly second: number;
  /** `{"m":...,"v":...,"x":` */
  readonly head: string;
  readonly fields: string[];
  /** Predictions per class index. */
  readonly counts: number[];
  /** Each row's cells as JSON (the latest inputs, for drift). */
  readonly inputs: string[];
}

/** Longest the first connection is waited for before buffered predictions may be dropped. */
const FIRST_CONNECT_WAIT_MS = 5000;

/** Most time between two flushes by default: short, so that each flush is a short pause. */
const DEFAULT_FLUSH_MS = 20;

/**
 * Every prediction by id in Redis (shared by every API replica, kept for the retention
 * window), so feedback finds its input without a scan of the log and without the client
 * sending it again; plus each version's class mix per minute and its latest inputs (for
 * drift). It runs on the API's writer thread (PredictionWriter), with a connection of its
 * own: `record` only buffers; a timer writes the buffer in one pipeline every `flushMs` (20 ms
 * by default, so each flush is short). While Redis is down the buffer is dropped, and past
 * `maxBuffered` (Redis slower than the predictions) new ones are (counted, and logged at the
 * next flush): a prediction is never held up or refused for its index, and feedback on it gets a
 * 404. Read back by PredictionLookup.
 */
export class PredictionIndex {
  private groups = new Map<string, Group>();
  /** The group the last `record` went to: under load most calls go to the same one. */
  private last: Group | undefined;
  private buffered = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly keys: ReturnType<typeof feedbackKeys>;
  private flushing: Promise<void> | undefined;
  private dropped = 0;
  /** Dropped at the buffer's cap since the last flush: told at the next one, not per prediction. */
  private droppedAtCap = 0;
  private closed = false;
  /** The connection has been ready at least once (or was waited for long enough). */
  private connected = false;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly opts: {
      redis: Redis;
      prefix: string;
      retentionS: number;
      flushMs?: number;
      maxBuffered?: number;
      /** Told when predictions are dropped (Redis down, a failed write). */
      logger: { warn(fields: Record<string, unknown>, msg: string): void };
    },
  ) {
    this.keys = feedbackKeys(opts.prefix);
    // A tick finding a flush under way, or the first connection still being made, leaves the
    // buffer to a later one. (With CT_FEEDBACK_INDEX=false the writer makes no index at all.)
    void this.firstConnection();
    this.timer = setInterval(() => this.tick(), opts.flushMs ?? DEFAULT_FLUSH_MS).unref();
  }

  /**
   * Buffers the rows of one answer: their HSET fields, classes and inputs in their group.
   * `cells` holds each row's cells in feature order as JSON. Cheap: the writes happen in `flush`.
   */
  record(ids: readonly string[], model: string, version: string, cells: readonly string[], labels: ArrayLike<number>, t: number): void {
    // No rows, no group: every group holds at least one prediction, so a flush never sends an empty HSET.
    if (this.closed || ids.length === 0) return;
    if (this.buffered + ids.length > (this.opts.maxBuffered ?? 50_000)) {
      this.dropped += ids.length;
      this.droppedAtCap += ids.length;
      return;
    }
    const second = Math.floor(t / 1000);
    let g = this.last;
    if (g === undefined || g.second !== second || g.version !== version || g.model !== model) g = this.groupOf(model, version, second);
    const tail = `,"t":${t}}`;
    for (let i = 0; i < ids.length; i++) {
      const x = cells[i] as string;
      const y = labels[i] as number;
      g.fields.push(ids[i] as string, `${g.head}${x},"y":${y}${tail}`);
      g.counts[y] = (g.counts[y] ?? 0) + 1;
      g.inputs.push(x);
    }
    if (g.inputs.length > 2 * RECENT_INPUTS) g.inputs.splice(0, g.inputs.length - RECENT_INPUTS);
    this.buffered += ids.length;
  }

  private groupOf(model: string, version: string, second: number): Group {
    const key = `${model}\n${version}\n${second}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { model, version, second, head: `{"m":${JSON.stringify(model)},"v":${JSON.stringify(version)},"x":`, fields: [], counts: [], inputs: [] };
      this.groups.set(key, g);
    }
    this.last = g;
    return g;
  }

  private tick(): void {
    if (this.flushing === undefined && this.connected) void this.flush();
  }

  /** Resolves once the connection is ready for the first time, or FIRST_CONNECT_WAIT_MS passed; either way, flushes go ahead from then on. */
  private firstConnection(): Promise<void> {
    this.starting ??= new Promise<void>((resolve) => {
      const { redis } = this.opts;
      const done = (): void => {
        clearTimeout(timer);
        redis.off('ready', done);
        this.connected = true;
        resolve();
      };
      const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS).unref();
      redis.once('ready', done);
      if (redis.status === 'ready') done();
    });
    return this.starting;
  }

  /** Writes everything recorded so far: after the flush under way, if any, the rest in one pipeline. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.droppedAtCap > 0) {
      // Redis writes slower than predictions come (or a flush hangs): the buffer filled up.
      this.opts.logger.warn({ dropped: this.droppedAtCap, dropped_total: this.dropped }, 'prediction index buffer full: predictions not indexed (feedback on them will be a 404)');
      this.droppedAtCap = 0;
    }
    if (this.buffered === 0) return Promise.resolve();
    // The first connection (the writer thread's, made at start) is waited for, up to
    // FIRST_CONNECT_WAIT_MS, with the buffer kept: only an outage drops what is buffered.
    if (!this.connected) return this.firstConnection().then(() => this.flush());
    const groups = [...this.groups.values()];
    const entries = this.buffered;
    this.groups = new Map();
    this.last = undefined;
    this.buffered = 0;
    const { redis, retentionS, logger } = this.opts;
    if (redis.status !== 'ready') {
      this.dropped += entries;
      logger.warn({ dropped: entries, dropped_total: this.dropped }, 'redis unavailable: predictions not indexed (feedback on them will be a 404)');
      return Promise.resolve();
    }
    const pipe = redis.pipeline();
    // Per second of predictions (ids carry their second) one HSET and one EXPIRE; per version
    // and minute the class counts; per version its latest inputs.
    const inputs = new Map<string, { model: string; version: string; rows: string[] }>();
    for (const g of groups) {
      const key = this.keys.predictions(g.second);
      pipe.hset(key, ...g.fields);
      // Kept for the retention window after its second, plus a minute of slack for late flushes.
      pipe.expireat(key, g.second + retentionS + 60);
      const minute = minuteOf(g.second * 1000);
      const tally = this.keys.tally(g.model, g.version, minute);
      // `counts` is sparse: forEach visits only the classes predicted.
      g.counts.forEach((n, y) => pipe.hincrby(tally, `pred:${y}`, n));
      pipe.expire(tally, retentionS);
      pipe.zadd(this.keys.versions(g.model), 'GT', minute, g.version);
      const versionKey = `${g.model}\n${g.version}`;
      const v = inputs.get(versionKey);
      if (v) v.rows.push(...g.inputs);
      else inputs.set(versionKey, { model: g.model, version: g.version, rows: g.inputs });
    }
    for (const { model, version, rows } of inputs.values()) {
      const list = this.keys.inputs(model, version);
      pipe.lpush(list, ...rows.slice(-RECENT_INPUTS));
      pipe.ltrim(list, 0, RECENT_INPUTS - 1);
      pipe.expire(list, retentionS);
    }
    this.flushing = pipe.exec().then(
      () => undefined,
      (err: Error) => {
        this.dropped += entries;
        logger.warn({ err: err.message, dropped: entries }, 'prediction index write failed');
      },
    );
    return this.flushing.finally(() => {
      this.flushing = undefined;
    });
  }

  /** Stops the timer and writes what is buffered. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }
}
