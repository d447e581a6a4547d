import type { ModelSpec } from '@ct/core';
import { DriftReferences, driftReport, feedbackKeys, type WebhookEventType } from '@ct/queue';
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

/** What one check of a model found, for logs and tests. */
export type DriftCheck =
  | { model: string; state: 'unknown'; reason: string; version?: string }
  | { model: string; state: 'clear'; version: string; share: number }
  | { model: string; state: 'detected'; version: string; share: number; alerted: { episode: number; msg_id: string } | null };

/**
 * Watches each model's active version for input drift (the drift report `GET /models/:m/drift`
 * shows, from @ct/queue) and emits `drift.alert` when drift becomes detected: once per
 * transition, not again while it stays detected; re-armed when it clears or another version
 * becomes active. The state lives in Redis (feedbackKeys.driftAlert), shared by every trainer,
 * so several trainers send one alert, and a restarted one does not send it again.
 */
export class DriftAlerts {
  private readonly keys: ReturnType<typeof feedbackKeys>;
  private readonly references: DriftReferences;

  constructor(
    private readonly opts: {
      redis: Redis;
      prefix: string;
      /** The model's store, kept by the pipeline. */
      storeOf: (model: string) => ModelStore;
      emit: EmitWebhookEventNow;
      /**
       * Whether any endpoint wants `drift.alert`. A check reads up to 1,000 inputs and runs a
       * test per feature, every automation pass, on every trainer: none is made for no one.
       * Always, when absent.
       */
      subscribed?: () => Promise<boolean>;
      logger: Logger;
    },
  ) {
    this.keys = feedbackKeys(opts.prefix);
    this.references = new DriftReferences((model, version) => opts.storeOf(model).trainingRows(version));
  }

  /** Computes the drift of `spec`'s active version, and alerts on a transition into drift. */
  async check(spec: ModelSpec): Promise<DriftCheck> {
    const model = spec.name;
    const { redis, logger } = this.opts;
    const version = (await this.opts.storeOf(model).head())?.state.active;
    if (!version) return { model, state: 'unknown', reason: 'no version yet' };
    if (this.opts.subscribed && !(await this.opts.subscribed())) return { model, state: 'unknown', version, reason: 'no endpoint subscribes to drift.alert' };
    const report = await driftReport(redis, this.opts.prefix, spec, version, await this.references.get(model, version));
    const drift = report.drift;
    // No inputs yet (a version just activated): the state stays as it was until there are.
    if (!drift) return { model, state: 'unknown', version, reason: 'no inputs to compare yet' };
    logger.debug({ model, version, share: drift.share, drifted: drift.drifted, current_rows: report.current.rows }, 'drift checked');
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
