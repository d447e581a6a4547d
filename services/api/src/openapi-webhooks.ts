import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WEBHOOK_EVENT_TYPES, webhookPayloadSchema, type WebhookEventType } from '@ct/queue';
import { z } from 'zod';
import type { ResponseHelpers } from './openapi-registry';
import {
  createWebhookRequestSchema,
  rotateSecretQuerySchema,
  updateWebhookRequestSchema,
  webhookDeliveriesQuerySchema,
  webhookDeliveriesSchema,
  webhookEndpointSchema,
  webhookListSchema,
  webhookRedeliverySchema,
  webhookWithSecretSchema,
} from './routes/webhooks';

/** What each event says, for the document's `webhooks` section (the README has the payloads' fields). */
const EVENT_SUMMARIES: Record<WebhookEventType, string> = {
  'model.activated': 'The gate activated a trained candidate',
  'model.rejected': 'The gate rejected a trained candidate',
  'model.rolled_back': 'A kept version was made live again: a rollback (manual or automatic) or a reset',
  'model.registered': 'A model was registered at run time',
  'model.archived': 'A model was archived',
  'trigger.fired': "The automation queued a job (its rule, reason and numbers in data.trigger)",
  'drift.alert': "The active version's latest inputs drifted from its training rows (once per transition into drift; the numbers per drifted feature)",
};

/**
 * Registers the webhook routes (routes/webhooks.ts, admin) with the zod schemas those routes
 * validate and answer with, and each event type in the document's `webhooks` section (OpenAPI
 * 3.1): what an endpoint receives, signed per Standard Webhooks.
 */
export function registerWebhookPaths(registry: OpenAPIRegistry, { json, problems }: ResponseHelpers): void {
  const tags = ['webhooks'];
  const params = z.object({ id: z.string().meta({ description: 'the endpoint id, ep_…' }) });
  const body = (schema: z.ZodType) => ({ body: { content: { 'application/json': { schema } } } });
  for (const type of WEBHOOK_EVENT_TYPES) {
    registry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `event_${type.replace(/\./g, '_')}`,
      tags,
      summary: EVENT_SUMMARIES[type],
      request: {
        headers: z.object({
          'webhook-id': z.string().meta({ description: 'msg_…: the same on every retry and redelivery; de-duplicate on it' }),
          'webhook-timestamp': z.string().meta({ description: "the attempt's time, in seconds since the epoch" }),
          'webhook-signature': z.string().meta({ description: 'v1,<base64 HMAC-SHA256>; two, space-separated, while a rotated secret is in its grace period' }),
        }),
        body: { content: { 'application/json': { schema: webhookPayloadSchema } } },
      },
      responses: {
        200: { description: 'any 2xx: delivered' },
        410: { description: 'the endpoint is disabled; no more messages until an admin enables it' },
      },
    });
  }

  registry.registerPath({
    method: 'post',
    path: '/webhooks',
    operationId: 'createWebhook',
    tags,
    summary: 'Add an endpoint that receives the events it subscribes to, signed per Standard Webhooks; the answer holds its signing secret (whsec_…), shown only here',
    request: body(createWebhookRequestSchema),
    responses: {
      201: { ...json(webhookWithSecretSchema, 'made (Location: /webhooks/{id})'), headers: { Location: { schema: { type: 'string' }, description: '/webhooks/{id}' } } },
      ...problems(400, 413, 415, 422, 503),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/webhooks',
    operationId: 'listWebhooks',
    tags,
    summary: 'Every endpoint, oldest first, without secrets',
    responses: { 200: json(webhookListSchema, 'the endpoints'), ...problems(503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/webhooks/{id}',
    operationId: 'getWebhook',
    tags,
    summary: 'One endpoint, without its secret',
    request: { params },
    responses: { 200: json(webhookEndpointSchema, 'the endpoint'), ...problems(404, 503) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/webhooks/{id}',
    operationId: 'updateWebhook',
    tags,
    summary: 'Change an endpoint: url, events, description, enabled ({"enabled": true} takes back an endpoint disabled by a 410 or an admin)',
    request: { params, ...body(updateWebhookRequestSchema) },
    responses: { 200: json(webhookEndpointSchema, 'the endpoint as changed'), ...problems(400, 404, 413, 415, 422, 503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/webhooks/{id}',
    operationId: 'deleteWebhook',
    tags,
    summary: 'Delete an endpoint and its delivery log; its pending deliveries are dropped',
    request: { params },
    responses: { 204: { description: 'deleted' }, ...problems(404, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/{id}/rotate-secret',
    operationId: 'rotateWebhookSecret',
    tags,
    summary: 'Replace the signing secret (shown only in this answer); the old one keeps signing, as a second signature, for grace_s seconds (default a day; 0: stops at once)',
    request: { params, query: rotateSecretQuerySchema },
    responses: { 200: json(webhookWithSecretSchema, 'the endpoint and its new secret'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    operationId: 'listWebhookDeliveries',
    tags,
    summary: "The endpoint's delivery log, newest first: each attempt's status, latency, error, outcome and time to the next retry (msg_id: one message's attempts)",
    request: { params, query: webhookDeliveriesQuerySchema },
    responses: { 200: json(webhookDeliveriesSchema, 'the attempts'), ...problems(404, 422, 503) },
  });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/{id}/deliveries/{msgId}/redeliver',
    operationId: 'redeliverWebhook',
    tags,
    summary: 'Deliver a kept message (within the retention window) to the endpoint again, with the same webhook-id; 409 while it is still being delivered or the endpoint is disabled',
    request: { params: params.extend({ msgId: z.string().meta({ description: 'the message id, msg_…' }) }) },
    responses: { 202: json(webhookRedeliverySchema, 'queued'), ...problems(404, 409, 503) },
  });
}
