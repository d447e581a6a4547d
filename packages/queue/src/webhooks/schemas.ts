import { z } from 'zod';

/**
 * The events an endpoint may subscribe to. `model.rolled_back` covers manual and automatic
 * rollbacks (and resets to the bootstrap version); `trigger.fired` an automatic action queued
 * by the automation; `drift.alert` is reserved for a drift detector (see the README).
 */
export const WEBHOOK_EVENT_TYPES = ['model.activated', 'model.rejected', 'model.rolled_back', 'model.registered', 'model.archived', 'trigger.fired', 'drift.alert'] as const;

/** One event type (see {@link WEBHOOK_EVENT_TYPES}). */
export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES).meta({ id: 'webhook_event_type' });
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

/** Where a webhook may be sent: http(s) only (no file:, data:, ...). */
export const webhookUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .meta({ description: 'http(s) URL the events are POSTed to' });

/** An endpoint as stored in Redis (with its secrets, which the API never lists). */
export const webhookEndpointRecordSchema = z
  .object({
    id: z.string(),
    url: webhookUrlSchema,
    events: z.array(webhookEventTypeSchema).min(1),
    description: z.string().max(500).nullable(),
    enabled: z.boolean(),
    /** Why the endpoint is disabled (an answer 410, or an admin), null when enabled. */
    disabled_reason: z.string().nullable(),
    /** `whsec_<base64>`; needed to sign, so stored as is. */
    secret: z.string(),
    /**
     * The secret before the last rotation, still signing (a second signature) until
     * `previous_secret_expires_at`, so receivers can switch without dropping a message.
     */
    previous_secret: z.string().nullable(),
    previous_secret_expires_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    created_by: z.string().nullable(),
  })
  .meta({ id: 'webhook_endpoint_record' });
export type WebhookEndpointRecord = z.infer<typeof webhookEndpointRecordSchema>;

/** The body every endpoint receives (Standard Webhooks' payload structure). */
export const webhookPayloadSchema = z
  .object({
    type: webhookEventTypeSchema,
    /** When the event happened (ISO 8601); the `webhook-timestamp` header is the attempt's time. */
    timestamp: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'webhook_payload' });
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** Data of one delivery job on the `webhooks` queue: one message to one endpoint. */
export const webhookJobDataSchema = z
  .object({
    msg_id: z.string().regex(/^msg_[A-Za-z0-9-]+$/),
    endpoint_id: z.string(),
    type: webhookEventTypeSchema,
    /** The exact body, serialized once: every attempt signs and sends the same bytes. */
    payload: z.string(),
    /** Set on a redelivery asked for by an admin. */
    redelivery: z.boolean().optional(),
  })
  .meta({ id: 'webhook_job_data' });
export type WebhookJobData = z.infer<typeof webhookJobDataSchema>;

/** One attempt, as the delivery log keeps it (newest first). */
export const webhookAttemptSchema = z
  .object({
    msg_id: z.string(),
    type: webhookEventTypeSchema,
    job_id: z.string(),
    /** 1 for the first try of a job, then 2, 3... */
    attempt: z.int(),
    at: z.string(),
    /** HTTP status of the answer; null when none came (network error, timeout). */
    status: z.int().nullable(),
    ok: z.boolean(),
    latency_ms: z.number(),
    error: z.string().nullable(),
    /** What happens next: done, a retry (in how long), given up, or the endpoint disabled. */
    outcome: z.enum(['delivered', 'retrying', 'failed', 'endpoint_disabled']),
    retry_in_ms: z.number().nullable(),
    redelivery: z.boolean(),
  })
  .meta({ id: 'webhook_attempt' });
export type WebhookAttempt = z.infer<typeof webhookAttemptSchema>;
