import { accuracyBelowBound, enoughNewRows, worseThanPredecessor, type FeedbackTally, type ModelSpec, type RuleVerdict } from '@ct/core';
import { automationConfigSchema, feedbackKeys, type AutomationConfig, type EmitWebhookEvent, type JobData, type JobResult, type Trigger } from '@ct/queue';
import type { HistoryEntry, ModelStore } from '@ct/registry';
import type { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DriftAlerts } from './drift-alerts';

/** Fewest rows a training job takes (the API's MIN_TRAIN_SAMPLES). */
const MIN_ROWS = 5;

/** Who the automation's jobs are recorded as. */
const AUTOMATION_ACTOR = { name: 'automation', role: null, token_id: null };

/** One model the automation may act on. */
export interface AutomatedModel {
  spec: ModelSpec;
  queue: Queue<JobData, JobResult>;
}

/** What one evaluation of a model did, for logs and tests. */
export type AutomationStep = { model: string; action: 'none' | 'busy' | 'rollback' | 'train'; reason: string; job_id?: string };

/**
 * The automatic actions an admin configured per model (automationConfigSchema): retrain when
 * enough feedback rows arrived or live accuracy is below a bound with confidence, roll back a
 * newly promoted version that feedback shows significantly worse than its predecessor. Each
 * firing is a job on the model's queue (so it is serialized with training and recorded in the
 * history like any change), carrying its trigger: the rule, its sentence and its numbers.
 * Never two automatic actions of one model at once, across trainer replicas: a Redis lock
 * around each evaluation, and no new action while the last one's job is unfinished. Each pass
 * also checks every model's input drift (DriftAlerts), configured or not.
 */
export class Automation {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly keys: ReturnType<typeof feedbackKeys>;

  constructor(
    private readonly opts: {
      redis: Redis;
      prefix: string;
      /** The model's store, kept by the pipeline (its history is read incrementally). */
      storeOf: (model: string) => ModelStore;
      models: () => Iterable<AutomatedModel>;
      pollMs: number;
      logger: Logger;
      /** Webhook event `trigger.fired` for each job queued (fire and forget); none when absent. */
      emit?: EmitWebhookEvent;
      /** Each model's drift, looked at every pass whatever its rules (`drift.alert`, the drift history); none when absent. */
      drift?: DriftAlerts;
    },
  ) {
    this.keys = feedbackKeys(opts.prefix);
  }

  /** Evaluates every model each `pollMs`. */
  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .then(() => undefined)
        .finally(() => {
          this.running = undefined;
        });
    }, this.opts.pollMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for an evaluation in flight. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass over the models (their rules, then their drift); errors are logged, never thrown (the next pass tries again). */
  async tick(): Promise<AutomationStep[]> {
    const steps: AutomationStep[] = [];
    for (const m of this.opts.models()) {
      try {
        steps.push(await this.evaluate(m));
      } catch (err) {
        this.opts.logger.warn({ model: m.spec.name, err: (err as Error).message }, 'automation: evaluation failed');
      }
      try {
        await this.opts.drift?.check(m.spec);
      } catch (err) {
        this.opts.logger.warn({ model: m.spec.name, err: (err as Error).message }, 'automation: drift check failed');
      }
    }
    return steps;
  }

  /** Evaluates one model's rules under its lock, and queues at most one job. */
  async evaluate({ spec, queue }: AutomatedModel): Promise<AutomationStep> {
    const model = spec.name;
    const { redis } = this.opts;
    const raw = await redis.get(this.keys.automation(model));
    if (raw === null) return { model, action: 'none', reason: 'no automation configured' };
    const config = automationConfigSchema.parse(JSON.parse(raw));
    const lockValue = randomUUID();
    const locked = await redis.set(this.keys.automationLock(model), lockValue, 'PX', 30_000, 'NX');
    if (locked !== 'OK') return { model, action: 'busy', reason: 'another trainer is evaluating this model' };
    try {
      const last = await redis.get(this.keys.automationJob(model));
      if (last) {
        const state = await queue.getJobState(last);
        if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return { model, action: 'busy', reason: `automatic job ${last} is ${state}` };
      }
      return await this.decide(spec, queue, config);
    } finally {
      // Release only our own lock (it may have expired and been taken by another replica).
      await redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, this.keys.automationLock(model), lockValue);
    }
  }

  private async decide(spec: ModelSpec, queue: Queue<JobData, JobResult>, config: AutomationConfig): Promise<AutomationStep> {
    const model = spec.name;
    const head = await this.opts.storeOf(model).head();
    if (!head) return { model, action: 'none', reason: 'no history yet' };
    const active = head.state.active;
    const tally = await this.tally(model, active);

    if (config.auto_rollback) {
      const promotion = await this.promotionOf(model, active);
      if (promotion?.active_before) {
        const verdict = worseThanPredecessor(tally, await this.tally(model, promotion.active_before), { alpha: config.auto_rollback.alpha, minSamples: config.auto_rollback.min_samples });
        if (verdict.fire) {
          const trigger = triggerOf(verdict, 'worse_than_predecessor');
          const id = await this.queueJob(queue, {
            kind: 'rollback',
            model,
            request_id: null,
            body_hash: '',
            actor: AUTOMATION_ACTOR,
            trigger,
            version: promotion.active_before,
            reason: `automatic rollback from ${active}: ${verdict.reason}`.slice(0, 500),
          });
          return { model, action: 'rollback', reason: trigger.reason, job_id: id };
        }
      }
    }

    const pending = await this.opts.redis.hlen(this.keys.pending(model));
    let verdict: RuleVerdict<unknown> | undefined;
    if (config.retrain_after_rows !== null) {
      const v = enoughNewRows(pending, config.retrain_after_rows);
      if (v.fire) verdict = v;
    }
    if (!verdict && config.retrain_below_accuracy && pending >= MIN_ROWS) {
      const v = accuracyBelowBound(tally, { bound: config.retrain_below_accuracy.bound, minSamples: config.retrain_below_accuracy.min_samples, confidence: config.retrain_below_accuracy.confidence });
      if (v.fire) verdict = v;
    }
    if (!verdict) return { model, action: 'none', reason: `${pending} pending row(s); live accuracy ${tally.n > 0 ? `${tally.correct}/${tally.n}` : 'unlabeled'}` };
    const trigger = triggerOf(verdict, verdict.code as Trigger['code']);
    const rows = await this.takePending(model);
    if (rows.y.length < MIN_ROWS) {
      await this.putBack(model, rows.raw);
      return { model, action: 'none', reason: `only ${rows.y.length} row(s) to train on` };
    }
    try {
      const id = await this.queueJob(queue, {
        kind: 'train',
        model,
        request_id: null,
        body_hash: '',
        actor: AUTOMATION_ACTOR,
        trigger,
        samples: { x: rows.x, y: rows.y },
        retrain_from_scratch: false,
        policy: spec.policy,
      });
      return { model, action: 'train', reason: trigger.reason, job_id: id };
    } catch (err) {
      await this.putBack(model, rows.raw);
      throw err;
    }
  }

  /** The version's labels since it first served. */
  private async tally(model: string, version: string): Promise<FeedbackTally> {
    const h = await this.opts.redis.hgetall(this.keys.tallyTotal(model, version));
    return { n: Math.max(0, Number(h.n ?? 0)), correct: Math.max(0, Number(h.correct ?? 0)) };
  }

  /** The history entry that made `active` live by a gate decision (a promotion), if that is how it became live. */
  private async promotionOf(model: string, active: string): Promise<HistoryEntry | undefined> {
    const { entries } = await this.opts.storeOf(model).readHistory();
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i] as HistoryEntry;
      if (e.active_before === e.active_after) continue;
      return e.active_after === active && e.source === 'train' && e.status === 'activated' ? e : undefined;
    }
    return undefined;
  }

  /** Takes the model's pending rows atomically (another trainer cannot take them twice). */
  private async takePending(model: string): Promise<{ x: (number | string | null)[][]; y: number[]; raw: Record<string, string> }> {
    const key = this.keys.pending(model);
    const taken = `${key}:taken:${randomUUID()}`;
    try {
      await this.opts.redis.rename(key, taken);
    } catch {
      return { x: [], y: [], raw: {} };
    }
    const raw = await this.opts.redis.hgetall(taken);
    await this.opts.redis.del(taken);
    const x: (number | string | null)[][] = [];
    const y: number[] = [];
    for (const text of Object.values(raw)) {
      const row = JSON.parse(text) as { x: (number | string | null)[]; y: number };
      x.push(row.x);
      y.push(row.y);
    }
    return { x, y, raw };
  }

  private async putBack(model: string, raw: Record<string, string>): Promise<void> {
    if (Object.keys(raw).length > 0) await this.opts.redis.hset(this.keys.pending(model), raw);
  }

  private async queueJob(queue: Queue<JobData, JobResult>, data: JobData): Promise<string> {
    const id = `${data.model}.auto-${randomUUID()}`;
    await queue.add(data.kind, data, { jobId: id });
    await this.opts.redis.set(this.keys.automationJob(data.model), id);
    this.opts.logger.info({ model: data.model, job_id: id, kind: data.kind, trigger: data.trigger?.code, reason: data.trigger?.reason }, 'automation: job queued');
    this.opts.emit?.('trigger.fired', { model: data.model, job_id: id, kind: data.kind, trigger: data.trigger ?? null }, id);
    return id;
  }
}

function triggerOf(verdict: RuleVerdict<unknown>, code: Trigger['code']): Trigger {
  return { code, reason: verdict.reason, details: verdict.details as Record<string, unknown> };
}
