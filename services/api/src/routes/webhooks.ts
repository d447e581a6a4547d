import { webhookAttemptSchema, webhookEndpointRecordSchema, webhookEventTypeSchema, webhookUrlSchema, type WebhookEndpointRecord, type Webhooks } from '@ct/queue';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { callerOf } from '../pipeline/express-steps';
import { parseOrThrow, requireJson } from '../validate';

const eventsSchema = z
  .array(webhookEventTypeSchema)
  .min(1)
  .max(20)
  .meta({ description: 'the event types the endpoint receives' });

const descriptionSchema = z.string().max(500).nullable().meta({ description: 'a note for admins' });

/** Body of `POST /webhooks`. */
export const createWebhookRequestSchema = z
  .strictObject({
    url: webhookUrlSchema,
    events: eventsSchema,
    description: descriptionSchema.optional(),
  })
  .meta({ id: 'create_webhook_request' });

/** Body of `PATCH /webhooks/:id`: any of the fields; `enabled: true` takes back a disabled endpoint. */
export const updateWebhookRequestSchema = z
  .strictObject({
    url: webhookUrlSchema.optional(),
    events: eventsSchema.optional(),
    description: descriptionSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' })
  .meta({ id: 'update_webhook_request' });

/** An endpoint as the API shows it: its stored record without the secrets, which only its creation and rotation answer. */
export const webhookEndpointSchema = webhookEndpointRecordSchema.omit({ secret: true, previous_secret: true }).meta({ id: 'webhook_endpoint' });

/** Answer of `POST /webhooks` and of a rotation: the endpoint and its signing secret, shown this once. */
export const webhookWithSecretSchema = webhookEndpointSchema.extend({ secret: z.string().meta({ description: '`whsec_<base64>`: verify signatures with it; not shown again' }) }).meta({ id: 'webhook_endpoint_with_secret' });

/** Answer of `GET /webhooks`. */
export const webhookListSchema = z.object({ webhooks: z.array(webhookEndpointSchema) }).meta({ id: 'webhook_list' });

/** Query of `GET /webhooks/:id/deliveries`. */
export const webhookDeliveriesQuerySchema = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(500).optional(),
    msg_id: z.string().max(100).optional(),
  })
  .meta({ id: 'webhook_deliveries_query' });

/** Answer of `GET /webhooks/:id/deliveries`. */
export const webhookDeliveriesSchema = z.object({ endpoint_id: z.string(), attempts: z.array(webhookAttemptSchema) }).meta({ id: 'webhook_deliveries' });

/** Answer of `POST /webhooks/:id/deliveries/:msgId/redeliver` (202): the delivery job queued. */
export const webhookRedeliverySchema = z
  .object({
    endpoint_id: z.string(),
    msg_id: z.string(),
    job_id: z.string().meta({ description: '`<msg>.<endpoint>.r<n>`: the n-th redelivery of the message to the endpoint' }),
  })
  .meta({ id: 'webhook_redelivery' });

/** Query of `POST /webhooks/:id/rotate-secret`: how long the old secret keeps signing. */
export const rotateSecretQuerySchema = z
  .strictObject({ grace_s: z.coerce.number().int().min(0).max(7 * 86_400).optional() })
  .meta({ id: 'webhook_rotate_query' });

function view(r: WebhookEndpointRecord): z.infer<typeof webhookEndpointSchema> {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    description: r.description,
    enabled: r.enabled,
    disabled_reason: r.disabled_reason,
    previous_secret_expires_at: r.previous_secret_expires_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
    created_by: r.created_by,
  };
}

/** The store, when Redis is reachable; 503 otherwise (as `/train` does). */
function storeOf(deps: AppDeps): Webhooks {
  if (!deps.webhooks) throw new ApiError('queue_unavailable', 'this API has no webhook store');
  deps.queues.requireRedis();
  return deps.webhooks;
}

const idOf = (req: Request): string => String((req.params as { id?: string }).id).slice(0, 100);
const notFound = (id: string): ApiError => new ApiError('not_found', `no webhook endpoint ${id}`);

/** `POST /webhooks` (admin): adds an endpoint; 201 with its id and signing secret, shown this once. */
export function createWebhookHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    requireJson(req.get('content-type'));
    const body = parseOrThrow(createWebhookRequestSchema, req.body);
    const record = await storeOf(deps).create({ url: body.url, events: body.events, description: body.description ?? null }, callerOf(req).name);
    deps.logger.info({ endpoint_id: record.id, events: record.events, by: callerOf(req).name }, 'webhook endpoint created');
    res.status(201).set('Cache-Control', 'no-store').location(`/webhooks/${record.id}`).json({ ...view(record), secret: record.secret } satisfies z.infer<typeof webhookWithSecretSchema>);
  };
}

/** `GET /webhooks` (admin): every endpoint, without secrets. */
export function listWebhooksHandler(deps: AppDeps) {
  return async (_req: Request, res: Response): Promise<void> => {
    res.json({ webhooks: (await storeOf(deps).list()).map(view) } satisfies z.infer<typeof webhookListSchema>);
  };
}

/** `GET /webhooks/:id` (admin). */
export function getWebhookHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const record = await storeOf(deps).get(idOf(req));
    if (!record) throw notFound(idOf(req));
    res.json(view(record));
  };
}

/** `PATCH /webhooks/:id` (admin): url, events, description, enabled (re-enabling clears the reason it was disabled). */
export function updateWebhookHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    requireJson(req.get('content-type'));
    const body = parseOrThrow(updateWebhookRequestSchema, req.body);
    const patch = { ...body, ...(body.enabled === undefined ? {} : { disabled_reason: body.enabled ? null : `disabled by ${callerOf(req).name}` }) };
    const record = await storeOf(deps).update(idOf(req), patch);
    if (!record) throw notFound(idOf(req));
    deps.logger.info({ endpoint_id: record.id, fields: Object.keys(body), by: callerOf(req).name }, 'webhook endpoint updated');
    res.json(view(record));
  };
}

/** `DELETE /webhooks/:id` (admin): removes the endpoint and its log; its pending deliveries are dropped. */
export function deleteWebhookHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    if (!(await storeOf(deps).delete(idOf(req)))) throw notFound(idOf(req));
    deps.logger.info({ endpoint_id: idOf(req), by: callerOf(req).name }, 'webhook endpoint deleted');
    res.status(204).end();
  };
}

/** `POST /webhooks/:id/rotate-secret` (admin): a new secret, shown this once; the old one co-signs for `grace_s` (default 24 h). */
export function rotateWebhookSecretHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = parseOrThrow(rotateSecretQuerySchema, req.query, 'query');
    const record = await storeOf(deps).rotateSecret(idOf(req), query.grace_s);
    if (!record) throw notFound(idOf(req));
    deps.logger.info({ endpoint_id: record.id, by: callerOf(req).name }, 'webhook secret rotated');
    res.set('Cache-Control', 'no-store').json({ ...view(record), secret: record.secret } satisfies z.infer<typeof webhookWithSecretSchema>);
  };
}

/** `GET /webhooks/:id/deliveries` (admin): the endpoint's attempts, newest first. */
export function webhookDeliveriesHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const query = parseOrThrow(webhookDeliveriesQuerySchema, req.query, 'query');
    const store = storeOf(deps);
    if (!(await store.get(idOf(req)))) throw notFound(idOf(req));
    const attempts = await store.attemptsOf(idOf(req), { ...(query.limit ? { limit: query.limit } : {}), ...(query.msg_id ? { msgId: query.msg_id } : {}) });
    res.json({ endpoint_id: idOf(req), attempts } satisfies z.infer<typeof webhookDeliveriesSchema>);
  };
}

/** `POST /webhooks/:id/deliveries/:msgId/redeliver` (admin): delivers a kept message again; 202 with the job. */
export function redeliverWebhookHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const id = idOf(req);
    const msgId = String((req.params as { msgId?: string }).msgId).slice(0, 100);
    const out = await storeOf(deps).redeliver(id, msgId);
    switch (out.status) {
      case 'no_endpoint':
        throw notFound(id);
      case 'no_message':
        throw new ApiError('not_found', `no message ${msgId} (unknown, or past the retention window)`);
      case 'endpoint_disabled':
        throw new ApiError('conflict', `webhook endpoint ${id} is disabled; enable it first (PATCH with {"enabled": true})`);
      case 'in_progress':
        throw new ApiError('conflict', `message ${msgId} is still being delivered to ${id} (job ${out.job_id} is ${out.state})`);
      case 'queued':
        deps.logger.info({ endpoint_id: id, msg_id: msgId, job_id: out.job_id, by: callerOf(req).name }, 'webhook redelivery queued');
        res.status(202).json({ endpoint_id: id, msg_id: msgId, job_id: out.job_id } satisfies z.infer<typeof webhookRedeliverySchema>);
    }
  };
}
