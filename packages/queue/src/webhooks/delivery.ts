import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { WEBHOOKS_QUEUE } from './keys';
import { webhookJobDataSchema, type WebhookAttempt, type WebhookEndpointRecord, type WebhookJobData } from './schemas';
import { WEBHOOK_DEFAULTS } from './settings';
import type { Webhooks } from './webhooks';

/** The little of a logger the delivery uses (pino's Logger fits). */
export interface DeliveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Settings of {@link WebhookDelivery}. */
export interface WebhookDeliveryOptions {
  /** A worker connection (`maxRetriesPerRequest: null`); BullMQ duplicates it for blocking. */
  connection: Redis;
  prefix: string;
  /** The endpoints and logs (holds its own command connection). */
  webhooks: Webhooks;
  logger: DeliveryLogger;
  /** How long one attempt may take, headers included (default 15 s). */
  timeoutMs?: number;
  /** Deliveries in flight at once (default 8): they wait on the network, not the CPU. */
  concurrency?: number;
  /** Delay before retry n (n = 1, 2...): `baseMs * 2^(n-1)`, capped at `maxMs`, with jitter (default 5 s, 2 h). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Longest `Retry-After` honoured (default 24 h): an endpoint cannot park a message for ever. */
  maxRetryAfterMs?: number;
}

/** An attempt that failed and is worth another, in `retryInMs` (the backoff strategy's answer). */
export class DeliveryFailedError extends Error {
  override readonly name = 'DeliveryFailedError';
  constructor(
    message: string,
    readonly retryInMs: number,
  ) {
    super(message);
  }
}

/** Milliseconds a `Retry-After` value asks for (seconds, or an HTTP date), or undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its month ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse alone would take "-5" for a year.
  const at = /[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Delay before retry `n`: exponential, with "equal jitter" (half fixed, half random) so that
 * an endpoint coming back is not hit by every queued message at the same instant; never
 * shorter than what the endpoint asked for with `Retry-After` (up to `maxRetryAfterMs`).
 */
export function webhookRetryDelay(n: number, opts: { baseMs: number; maxMs: number; maxRetryAfterMs: number }, retryAfterMs?: number, random = Math.random): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, n - 1));
  const jittered = Math.round(exp / 2 + random() * (exp / 2));
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, opts.maxRetryAfterMs));
}

/** The `webhook-signature` header: one `v1,<sig>` per live secret (the previous one during its grace). */
function signatureHeader(endpoint: WebhookEndpointRecord, msgId: string, at: Date, payload: string): string {
  const secrets = [endpoint.secret];
  if (endpoint.previous_secret && endpoint.previous_secret_expires_at && Date.parse(endpoint.previous_secret_expires_at) > at.getTime()) secrets.push(endpoint.previous_secret);
  return secrets.map((s) => new Webhook(s).sign(msgId, at, payload)).join(' ');
}

/**
 * The worker of the `webhooks` queue (run by the trainer): POSTs each message to its endpoint,
 * signed per Standard Webhooks with the time of the attempt (a retry hours later still passes
 * the receiver's timestamp tolerance), and logs every attempt with its status and latency. A
 * 2xx delivers; 410 disables the endpoint and stops; anything else (or no answer in time) is
 * retried, exponentially with jitter, or after the `Retry-After` asked, until the job's
 * attempts are spent. A deleted or disabled endpoint's pending deliveries are dropped.
 */
export class WebhookDelivery {
  readonly worker: Worker<WebhookJobData>;
  private readonly backoff: { baseMs: number; maxMs: number; maxRetryAfterMs: number };

  constructor(private readonly opts: WebhookDeliveryOptions) {
    this.backoff = { baseMs: opts.backoff?.baseMs ?? WEBHOOK_DEFAULTS.backoffBaseMs, maxMs: opts.backoff?.maxMs ?? WEBHOOK_DEFAULTS.backoffMaxMs, maxRetryAfterMs: opts.maxRetryAfterMs ?? 24 * 3600_000 };
    this.worker = new Worker<WebhookJobData>(WEBHOOKS_QUEUE, (job) => this.process(job), {
      connection: opts.connection,
      prefix: opts.prefix,
      concurrency: opts.concurrency ?? 8,
      settings: {
        // The processor computed the delay (it saw the answer's Retry-After); a failure it did
        // not classify (Redis down while logging) gets the plain exponential delay.
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          err instanceof DeliveryFailedError ? err.retryInMs : webhookRetryDelay(attemptsMade, this.backoff),
      },
    });
    this.worker.on('error', (err) => opts.logger.warn({ err: err.message }, 'webhook worker error'));
  }

  private async process(job: Job<WebhookJobData>): Promise<{ status: 'delivered' | 'skipped'; http_status?: number; reason?: string }> {
    const parsed = webhookJobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid webhook job: ${parsed.error.message}`);
    const data = parsed.data;
    const { webhooks, logger } = this.opts;
    const endpoint = await webhooks.get(data.endpoint_id);
    if (!endpoint) return { status: 'skipped', reason: 'endpoint deleted' };
    if (!endpoint.enabled) return { status: 'skipped', reason: `endpoint disabled: ${endpoint.disabled_reason ?? 'by an admin'}` };

    const attempt = job.attemptsMade + 1;
    const last = attempt >= (job.opts.attempts ?? 1);
    const at = new Date();
    const timeoutMs = this.opts.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs;
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    let retryAfterMs: number | undefined;
    try {
      const res = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'ct-webhooks/1',
          'webhook-id': data.msg_id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signatureHeader(endpoint, data.msg_id, at, data.payload),
        },
        body: data.payload,
        // A redirect is an answer, not a delivery: following it would send the message elsewhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      // The receiver's body is of no use; not reading it frees the connection.
      await res.body?.cancel().catch(() => undefined);
    } catch (err) {
      const e = err as Error;
      error = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${e.message}${(e.cause as Error | undefined)?.message ? `: ${(e.cause as Error).message}` : ''}`;
    }
    const latencyMs = Math.round((performance.now() - started) * 10) / 10;
    const ok = status !== null && status >= 200 && status < 300;
    const entry = (outcome: WebhookAttempt['outcome'], retryInMs: number | null): WebhookAttempt => ({
      msg_id: data.msg_id,
      type: data.type,
      job_id: job.id ?? '',
      attempt,
      at: at.toISOString(),
      status,
      ok,
      latency_ms: latencyMs,
      error: error ?? (ok ? null : `HTTP ${status}`),
      outcome,
      retry_in_ms: retryInMs,
      redelivery: data.redelivery ?? false,
    });

    if (ok) {
      await webhooks.recordAttempt(endpoint.id, entry('delivered', null));
      return { status: 'delivered', http_status: status as number };
    }
    if (status === 410) {
      // 410 Gone: the receiver says the endpoint will never take messages again.
      await webhooks.disable(endpoint.id, `the endpoint answered 410 Gone at ${at.toISOString()}`);
      await webhooks.recordAttempt(endpoint.id, entry('endpoint_disabled', null));
      logger.warn({ endpoint_id: endpoint.id, msg_id: data.msg_id }, 'webhook endpoint answered 410: disabled');
      throw new UnrecoverableError('the endpoint answered 410 Gone; it is disabled');
    }
    const reason = error ?? `HTTP ${status}`;
    if (last) {
      await webhooks.recordAttempt(endpoint.id, entry('failed', null));
      logger.warn({ endpoint_id: endpoint.id, msg_id: data.msg_id, attempt, err: reason }, 'webhook delivery failed; attempts spent');
      throw new UnrecoverableError(`delivery failed after ${attempt} attempt(s): ${reason}`);
    }
    const retryInMs = webhookRetryDelay(attempt, this.backoff, retryAfterMs);
    await webhooks.recordAttempt(endpoint.id, entry('retrying', retryInMs));
    logger.info({ endpoint_id: endpoint.id, msg_id: data.msg_id, attempt, err: reason, retry_in_ms: retryInMs }, 'webhook delivery failed; will retry');
    throw new DeliveryFailedError(reason, retryInMs);
  }

  /** Stops taking deliveries; waits for those in flight (each bounded by the timeout). */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
  }
}
