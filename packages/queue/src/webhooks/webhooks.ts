import { Queue, type JobsOptions } from 'bullmq';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { webhookJobId, webhookKeys, WEBHOOKS_QUEUE } from './keys';
import {
  webhookAttemptSchema,
  webhookEndpointRecordSchema,
  webhookPayloadSchema,
  type WebhookAttempt,
  type WebhookEndpointRecord,
  type WebhookEventType,
  type WebhookJobData,
} from './schemas';
import { WEBHOOK_DEFAULTS } from './settings';

/** Settings of {@link Webhooks}. */
export interface WebhooksOptions {
  /** A connection for commands (not a blocking one); the queue of deliveries shares it. */
  redis: Redis;
  prefix: string;
  /** Tries per delivery, the first included (default 12: with the default backoff, 1.4 to 2.8 hours in all). */
  attempts?: number;
  /** How long a message is kept for redelivery, and a delivery job for de-duplication (default 7 days). */
  retentionS?: number;
  /** Most attempts the log keeps per endpoint (default 500). */
  logCap?: number;
}

/** The fields of an endpoint an admin sets. */
export interface WebhookEndpointInput {
  url: string;
  events: WebhookEventType[];
  description?: string | null;
}

/** What {@link Webhooks.redeliver} did. */
export type RedeliverOutcome =
  | { status: 'queued'; job_id: string }
  | { status: 'no_endpoint' }
  | { status: 'no_message' }
  | { status: 'endpoint_disabled' }
  | { status: 'in_progress'; job_id: string; state: string };

/**
 * Updates an endpoint's record atomically (a Lua script, so a worker disabling an endpoint
 * and an admin editing it never overwrite each other's fields): a shallow merge of ARGV[2]
 * into the record, refused ('conflict') when ARGV[3] is given and is not the current secret.
 */
const UPDATE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
local rec = cjson.decode(cur)
if ARGV[3] ~= '' and rec['secret'] ~= ARGV[3] then return 'conflict' end
for k, v in pairs(cjson.decode(ARGV[2])) do rec[k] = v end
local out = cjson.encode(rec)
redis.call('HSET', KEYS[1], ARGV[1], out)
return out
`;

/** A new signing secret: `whsec_` and 32 random bytes in base64, as Standard Webhooks specifies. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `msg_<uuid>`: random, or derived from `key` so that emitting one event twice gives one message. */
export function webhookMessageId(type: string, key?: string): string {
  if (key === undefined) return `msg_${randomUUID()}`;
  const h = createHash('sha256').update(`${type}\0${key}`).digest('hex');
  return `msg_${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Webhook endpoints (a Redis hash), their delivery logs, and the emission of events: each
 * event is a message (`msg_<uuid>`, its payload kept for redelivery) and one BullMQ job per
 * subscribed, enabled endpoint, whose id `<msg>.<endpoint>` makes the delivery unique. The
 * API and the trainer each hold one; the trainer's WebhookDelivery takes the jobs.
 */
export class Webhooks {
  readonly queue: Queue<WebhookJobData>;
  private readonly keys: ReturnType<typeof webhookKeys>;
  private readonly attempts: number;
  private readonly retentionS: number;
  private readonly logCap: number;

  constructor(private readonly opts: WebhooksOptions) {
    this.keys = webhookKeys(opts.prefix);
    this.attempts = opts.attempts ?? WEBHOOK_DEFAULTS.attempts;
    this.retentionS = opts.retentionS ?? 7 * 86_400;
    this.logCap = opts.logCap ?? WEBHOOK_DEFAULTS.logLength;
    this.queue = new Queue<WebhookJobData>(WEBHOOKS_QUEUE, { connection: opts.redis, prefix: opts.prefix });
  }

  private jobOptions(jobId: string): JobsOptions {
    return {
      jobId,
      attempts: this.attempts,
      // The delay is the worker's (WebhookDelivery): exponential with jitter, or Retry-After.
      backoff: { type: 'webhook' },
      // Kept for the retention window: while a job exists, adding its id again is a no-op.
      removeOnComplete: { age: this.retentionS },
      removeOnFail: { age: this.retentionS },
    };
  }

  /** Adds an endpoint, enabled, with a new secret; returns its record (the only time the secret leaves). */
  async create(input: WebhookEndpointInput, createdBy: string | null = null): Promise<WebhookEndpointRecord> {
    const now = new Date().toISOString();
    const record: WebhookEndpointRecord = webhookEndpointRecordSchema.parse({
      id: `ep_${randomBytes(12).toString('hex')}`,
      url: input.url,
      events: [...new Set(input.events)],
      description: input.description ?? null,
      enabled: true,
      disabled_reason: null,
      secret: newWebhookSecret(),
      previous_secret: null,
      previous_secret_expires_at: null,
      created_at: now,
      updated_at: now,
      created_by: createdBy,
    });
    await this.opts.redis.hset(this.keys.endpoints, record.id, JSON.stringify(record));
    return record;
  }

  /** Every endpoint, oldest first. */
  async list(): Promise<WebhookEndpointRecord[]> {
    const all = await this.opts.redis.hvals(this.keys.endpoints);
    return all.map((text) => webhookEndpointRecordSchema.parse(JSON.parse(text))).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  /** One endpoint, or undefined. */
  async get(id: string): Promise<WebhookEndpointRecord | undefined> {
    const text = await this.opts.redis.hget(this.keys.endpoints, id);
    return text === null ? undefined : webhookEndpointRecordSchema.parse(JSON.parse(text));
  }

  /** Changes fields of an endpoint; undefined when there is none. */
  async update(id: string, patch: Partial<Pick<WebhookEndpointRecord, 'url' | 'events' | 'description' | 'enabled' | 'disabled_reason'>>): Promise<WebhookEndpointRecord | undefined> {
    const result = await this.runUpdate(id, { ...patch, updated_at: new Date().toISOString() });
    return result === 'conflict' ? undefined : result;
  }

  private async runUpdate(id: string, patch: Record<string, unknown>, expectedSecret = ''): Promise<WebhookEndpointRecord | 'conflict' | undefined> {
    const out = (await this.opts.redis.eval(UPDATE_SCRIPT, 1, this.keys.endpoints, id, JSON.stringify(patch), expectedSecret)) as string | null;
    if (out === null) return undefined;
    if (out === 'conflict') return 'conflict';
    return webhookEndpointRecordSchema.parse(JSON.parse(out));
  }

  /** Disables an endpoint (its pending deliveries are dropped when their turn comes). */
  disable(id: string, reason: string): Promise<WebhookEndpointRecord | undefined> {
    return this.update(id, { enabled: false, disabled_reason: reason });
  }

  /**
   * Replaces the secret. The old one keeps signing, as a second signature, for `graceS`
   * seconds (default 24 h; 0: at once): receivers verifying with either accept the messages.
   */
  async rotateSecret(id: string, graceS = 86_400): Promise<WebhookEndpointRecord | undefined> {
    for (;;) {
      const current = await this.get(id);
      if (!current) return undefined;
      const result = await this.runUpdate(
        id,
        {
          secret: newWebhookSecret(),
          previous_secret: graceS > 0 ? current.secret : null,
          previous_secret_expires_at: graceS > 0 ? new Date(Date.now() + graceS * 1000).toISOString() : null,
          updated_at: new Date().toISOString(),
        },
        current.secret,
      );
      // Another rotation won the race: rotate again from its secret.
      if (result !== 'conflict') return result;
    }
  }

  /** Deletes an endpoint and its log; its queued deliveries are dropped when their turn comes. */
  async delete(id: string): Promise<boolean> {
    const [[, removed]] = (await this.opts.redis.multi().hdel(this.keys.endpoints, id).del(this.keys.log(id)).exec()) as [[unknown, number]];
    return removed === 1;
  }

  /** Adds one attempt to an endpoint's log (newest first, capped). */
  async recordAttempt(endpointId: string, attempt: WebhookAttempt): Promise<void> {
    const key = this.keys.log(endpointId);
    await this.opts.redis.multi().lpush(key, JSON.stringify(attempt)).ltrim(key, 0, this.logCap - 1).exec();
  }

  /** An endpoint's latest attempts, newest first; only those of `msgId` when given. */
  async attemptsOf(endpointId: string, opts: { limit?: number; msgId?: string } = {}): Promise<WebhookAttempt[]> {
    const limit = opts.limit ?? 100;
    const texts = await this.opts.redis.lrange(this.keys.log(endpointId), 0, opts.msgId ? -1 : limit - 1);
    const all = texts.map((t) => webhookAttemptSchema.parse(JSON.parse(t)));
    return (opts.msgId ? all.filter((a) => a.msg_id === opts.msgId) : all).slice(0, limit);
  }

  /** Whether an enabled endpoint subscribes to `type`: work that only feeds an event can be skipped when none does. */
  async subscribed(type: WebhookEventType): Promise<boolean> {
    return (await this.list()).some((e) => e.enabled && e.events.includes(type));
  }

  /**
   * Emits an event: one message, queued for every enabled endpoint subscribed to `type`.
   * With `key` (say, the job that caused it), the message id is derived from it, so emitting
   * again (a re-run) queues nothing new. Returns the message id and the endpoints it went to.
   */
  async emit(type: WebhookEventType, data: Record<string, unknown>, opts: { key?: string } = {}): Promise<{ msg_id: string; endpoints: string[] }> {
    const msgId = webhookMessageId(type, opts.key);
    const targets = (await this.list()).filter((e) => e.enabled && e.events.includes(type));
    if (targets.length === 0) return { msg_id: msgId, endpoints: [] };
    const fresh = JSON.stringify(webhookPayloadSchema.parse({ type, timestamp: new Date().toISOString(), data }));
    // NX: a message emitted again keeps its first bytes (and timestamp).
    const msgKey = this.keys.message(msgId);
    await this.opts.redis.set(msgKey, fresh, 'EX', this.retentionS, 'NX');
    const payload = (await this.opts.redis.get(msgKey)) ?? fresh;
    await this.queue.addBulk(
      targets.map((e) => ({
        name: type,
        data: { msg_id: msgId, endpoint_id: e.id, type, payload },
        opts: this.jobOptions(webhookJobId(msgId, e.id)),
      })),
    );
    return { msg_id: msgId, endpoints: targets.map((e) => e.id) };
  }

  /**
   * Delivers a message to an endpoint again, as a new job (`<msg>.<endpoint>.r<n>`), with the
   * same `webhook-id` (receivers de-duplicate on it). Not while the message's delivery to it
   * is still queued or running, and not to a disabled endpoint.
   */
  async redeliver(endpointId: string, msgId: string): Promise<RedeliverOutcome> {
    const endpoint = await this.get(endpointId);
    if (!endpoint) return { status: 'no_endpoint' };
    const payload = await this.opts.redis.get(this.keys.message(msgId));
    if (payload === null) return { status: 'no_message' };
    if (!endpoint.enabled) return { status: 'endpoint_disabled' };
    const base = webhookJobId(msgId, endpointId);
    const n = await this.opts.redis.hget(this.keys.redeliveries, base);
    const latest = n === null ? base : `${base}.r${n}`;
    const state = await this.queue.getJobState(latest);
    if (state === 'waiting' || state === 'delayed' || state === 'active' || state === 'prioritized' || state === 'waiting-children') return { status: 'in_progress', job_id: latest, state };
    const next = await this.opts.redis.hincrby(this.keys.redeliveries, base, 1);
    await this.opts.redis.expire(this.keys.redeliveries, this.retentionS);
    const jobId = `${base}.r${next}`;
    const type = webhookPayloadSchema.parse(JSON.parse(payload)).type;
    await this.queue.add(type, { msg_id: msgId, endpoint_id: endpointId, type, payload, redelivery: true }, this.jobOptions(jobId));
    return { status: 'queued', job_id: jobId };
  }

  /** Closes the queue (not the connection, which the caller owns). */
  async close(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * How the trainer's parts announce an event: fire and forget (a failure is logged by the
 * implementation, never thrown: the event follows a commit, which stands either way). `key`
 * names its cause (a job id), so that the same cause emitted twice is one message.
 */
export type EmitWebhookEvent = (type: WebhookEventType, data: Record<string, unknown>, key?: string) => void;
