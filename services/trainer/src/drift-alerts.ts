import type { ModelSpec } from '@ct/core';
import { DriftHistory, driftPointOf, DriftReferences, driftReport, feedbackKeys, type DriftReport, type WebhookEventType } from '@ct/queue';
import type { ModelStore } from '@ct/registry';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { driftAlertEventData } from './webhook-events';

/**
 * Records alert `ARGV[2]` of a model for version `ARGV[1]`, only when the model's episode
 * counter is still one less (compare-and-set): of several trainers that saw one transition,
 * one records it, and the others' emission carried the same message id, so nothing doubles.
 */
const RECORD_SCRIPT = `
local episode = tonumber(redis.call('HGET', KEYS[1], 'episode') or '0')
if episode ~= tonumber(ARGV[2]) - 1 then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'episode', ARGV[2])
return 1
`;

/**
 * Emits one event and resolves once its deliveries are queued (or throws): unlike the other
 * events, an alert is recorded as sent only after that, so a failure is tried again.
 */
export type EmitWebhookEventNow = (type: WebhookEventType, data: Record<string, unknown>, key: string) => Promise<{ msg_id: string; endpoints: string[] }>;

/**
 * What one check of a model found, for logs and tests; `recorded` when it also wrote the
 * minute's point of the model's drift history.
 */
export type DriftCheck = (
  | { model: string; state: 'unknown'; reason: string; version?: string }
  | { model: string; state: 'clear'; version: string; share: number }
  | { model: string; state: 'detected'; version: string; share: number; alerted: { episode: number; msg_id: string } | null }
) & { recorded?: true };

/**
 * Watches each model's active version for input drift (the drift report `GET /models/:m/drift`
 * shows, from @ct/queue) and emits `drift.alert` when drift becomes detected: once per
 * transition, not again while it stays detected; re-armed when it clears or another version
 * becomes active. The state lives in Redis (feedbackKeys.driftAlert), shared by every trainer,
 * so several trainers send one alert, and a restarted one does not send it again. Once a
 * minute per model (across trainers) a check also records a point of the model's drift history
 * (@ct/queue's DriftHistory, served by `GET /models/:m/drift/history`), subscribers or not.
 */
export class DriftAlerts {
  private readonly keys: ReturnType<typeof feedbackKeys>;
  private readonly references: DriftReferences;
  private readonly history: DriftHistory;

  constructor(
    private readonly opts: {
      redis: Redis;
      prefix: string;
      /** The model's store, kept by the pipeline. */
      storeOf: (model: string) => ModelStore;
      emit: EmitWebhookEventNow;
      /**
       * Whether any endpoint wants `drift.alert`: without one, no alert is decided, and a model
       * is checked only when its history is due its minute's point. Always, when absent.
       */
      subscribed?: () => Promise<boolean>;
      logger: Logger;
      /** The clock (ms), which decides each history point's minute; Date.now when absent. */
      now?: () => number;
    },
  ) {
    this.keys = feedbackKeys(opts.prefix);
    this.history = new DriftHistory(opts.redis, opts.prefix);
    this.references = new DriftReferences((model, version) => opts.storeOf(model).trainingRows(version));
  }

  /**
   * Computes the drift of `spec`'s active version when its history is due a point this minute
   * or an endpoint subscribes to `drift.alert`; records the point, and alerts on a transition
   * into drift.
   */
  async check(spec: ModelSpec): Promise<DriftCheck> {
    const model = spec.name;
    const { redis, logger } = this.opts;
    const version = (await this.opts.storeOf(model).head())?.state.active;
    if (!version) return { model, state: 'unknown', reason: 'no version yet' };
    const at = (this.opts.now ?? Date.now)();
    // A check reads up to 1,000 inputs and runs a test per feature, every automation pass, on
    // every trainer: made only when the history needs its minute's point or someone wants alerts.
    const due = await this.history.due(model, at);
    const alerting = !this.opts.subscribed || (await this.opts.subscribed());
    const unsubscribed = { model, state: 'unknown', version, reason: 'no endpoint subscribes to drift.alert' } as const;
    if (!due && !alerting) {
      logger.debug({ model, version }, 'drift check skipped: the minute has its point and no endpoint subscribes');
      return unsubscribed;
    }
    const report = await driftReport(redis, this.opts.prefix, spec, version, await this.references.get(model, version));
    const drift = report.drift;
    // No inputs yet (a version just activated): the state stays as it was until there are, and
    // the minute stays unclaimed, so the first inputs make its point.
    if (!drift) return { model, state: 'unknown', version, reason: 'no inputs to compare yet' };
    logger.debug({ model, version, share: drift.share, drifted: drift.drifted, current_rows: report.current.rows }, 'drift checked');
    const point = due ? driftPointOf(report, at) : undefined;
    const recorded = point ? await this.history.record(model, point) : false;
    const mark = recorded ? { recorded: true as const } : {};
    if (!alerting) return { ...unsubscribed, ...mark };
    return { ...(await this.alert(model, version, report)), ...mark };
  }

  /** Alerts on a transition of `report`'s drift (not null) into drift; re-arms when it cleared. */
  private async alert(model: string, version: string, report: DriftReport): Promise<DriftCheck> {
    const { redis, logger } = this.opts;
    const drift = report.drift as NonNullable<DriftReport['drift']>;
    const key = this.keys.driftAlert(model);
    const [alerted, episodeText] = await redis.hmget(key, 'version', 'episode');
    if (!drift.drifted) {
      if (alerted !== null) {
        await redis.hdel(key, 'version');
        logger.info({ model, version, share: drift.share }, 'drift cleared: the alert is armed again');
      }
      return { model, state: 'clear', version, share: drift.share };
    }
    if (alerted === version) return { model, state: 'detected', version, share: drift.share, alerted: null };
    // Emitted before it is recorded: a failure leaves the alert armed for the next check, and
    // the id derived from the episode makes a second emission of it the same message.
    const episode = Number(episodeText ?? 0) + 1;
    const sent = await this.opts.emit('drift.alert', driftAlertEventData(report, episode), `${model}:${version}:${episode}`);
    const recorded = (await redis.eval(RECORD_SCRIPT, 1, key, version, String(episode))) === 1;
    if (recorded) logger.warn({ model, version, share: drift.share, features: drift.driftedFeatureNames, msg_id: sent.msg_id, endpoints: sent.endpoints.length }, 'drift detected: drift.alert emitted');
    return { model, state: 'detected', version, share: drift.share, alerted: recorded ? { episode, msg_id: sent.msg_id } : null };
  }
}
