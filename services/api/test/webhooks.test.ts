/**
 * Webhooks end to end: endpoints managed through the admin API, events emitted by a real
 * trainer (a training job that activates, a manual rollback) or through the same emitter the
 * trainer uses, delivered by the trainer's delivery worker to a local receiver (port 0),
 * signed per Standard Webhooks and verified with the `standardwebhooks` package. Real Redis
 * under a unique prefix; the trainer's backoff is tiny so retries take milliseconds.
 */
import { webhookJobId, type WebhookEventType } from '@ct/queue';
import { Webhook } from 'standardwebhooks';
import type { Trainer } from '../../trainer/src/trainer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Receiver, swHeaders, type Received } from './helpers/webhook-receiver';
import { cleanupRedis, DATASETS_DIR, eventually, irisSamples, irisSpec, makeTempDir, SETOSA, removeDir, startApi, startTrainer, uniquePrefix, TEST_TOKENS, type ApiHandle, type IrisSample } from './helpers/harness';

let dataDir: string;
let prefix: string;
let api: ApiHandle;
let trainer: Trainer;
const receiver = new Receiver();

beforeAll(async () => {
  dataDir = await makeTempDir();
  prefix = uniquePrefix();
  await receiver.start();
  trainer = await startTrainer({ dataDir, prefix, webhookDelivery: { backoff: { baseMs: 20, maxMs: 100 }, timeoutMs: 5000 } });
  api = await startApi({ dataDir, prefix, pollIntervalMs: 100, predictionLog: false });
  await eventually(async () => (await api.client.get('/health')).status === 200, 60_000, 'bootstrap served');
}, 120_000);

afterAll(async () => {
  await api?.close();
  await trainer?.close();
  await receiver.close();
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

/** Creates an endpoint for `path` of the receiver; returns its id and secret. */
async function endpoint(path: string, events: WebhookEventType[]): Promise<{ id: string; secret: string }> {
  const r = await api.client.post('/webhooks', { json: { url: `${receiver.url}${path}`, events } });
  expect(r.status).toBe(201);
  return { id: r.body.id, secret: r.body.secret };
}

/** The delivery log of an endpoint (newest first). */
async function attempts(id: string, msgId?: string): Promise<any[]> {
  const r = await api.client.get(`/webhooks/${id}/deliveries${msgId ? `?msg_id=${msgId}` : ''}`);
  expect(r.status).toBe(200);
  return r.body.attempts;
}

describe('webhook endpoints (admin API)', () => {
  it('POST answers 201 with the id and a whsec_ secret shown once; GET, list, PATCH, DELETE', async () => {
    const r = await api.client.post('/webhooks', { json: { url: `${receiver.url}/crud`, events: ['model.activated'], description: 'ops' } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: expect.stringMatching(/^ep_/), secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/), enabled: true, events: ['model.activated'], description: 'ops' });
    expect(r.headers.get('location')).toBe(`/webhooks/${r.body.id}`);
    const { id, secret } = r.body;

    const one = await api.client.get(`/webhooks/${id}`);
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();
    expect(one.text).not.toContain(secret.slice(6));
    const list = await api.client.get('/webhooks');
    expect(list.body.webhooks.map((w: any) => w.id)).toContain(id);
    expect(list.text).not.toContain(secret.slice(6));

    const patched = await api.client.request('PATCH', `/webhooks/${id}`, { json: { events: ['model.rejected', 'drift.alert'], enabled: false } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events: ['model.rejected', 'drift.alert'], enabled: false, disabled_reason: expect.stringContaining('disabled by') });

    const rotated = await api.client.post(`/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);
    expect(rotated.body.previous_secret_expires_at).not.toBeNull();

    expect((await api.client.delete(`/webhooks/${id}`)).status).toBe(204);
    expect((await api.client.get(`/webhooks/${id}`)).status).toBe(404);
    expect((await api.client.delete(`/webhooks/${id}`)).status).toBe(404);
  });

  it('refuses bad bodies (422) and non-admin callers (403)', async () => {
    const bad = await api.client.post('/webhooks', { json: { url: 'ftp://example.com/x', events: ['model.exploded'] } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: any) => e.field).sort()).toEqual(['events[0]', 'url']);
    expect((await api.client.post('/webhooks', { json: { url: `${receiver.url}/x`, events: [] } })).status).toBe(422);
    expect((await api.client.request('PATCH', '/webhooks/ep_nope', { json: {} })).status).toBe(422);
    expect((await api.client.request('PATCH', '/webhooks/ep_nope', { json: { enabled: true } })).status).toBe(404);
    expect((await api.client.as(TEST_TOKENS.client).get('/webhooks')).status).toBe(403);
    expect((await api.client.as(TEST_TOKENS.trainer).post('/webhooks', { json: { url: `${receiver.url}/x`, events: ['model.activated'] } })).status).toBe(403);
    expect((await api.client.as(null).get('/webhooks')).status).toBe(401);
  });
});

describe('delivery', () => {
  it('a training job that activates delivers a signed model.activated; a manual rollback a model.rolled_back', async () => {
    const { id, secret } = await endpoint('/models', ['model.activated', 'model.rejected', 'model.rolled_back']);
    const before = (await api.client.post('/predict', { json: SETOSA })).body.model_version as string;
    const all = irisSamples();
    const batch: IrisSample[] = all.filter((_, i) => i % 50 < 7);
    const job = await api.client.post('/train', { json: { samples: batch }, headers: { prefer: 'wait=30' } });
    expect(job.status).toBe(200);
    expect(job.body.result.status).toBe('activated');
    const version = job.body.result.model_version as string;

    const got = await eventually(() => receiver.at('/models').find((r) => JSON.parse(r.body).type === 'model.activated'), 20_000, 'model.activated delivered');
    const payload = new Webhook(secret).verify(got.body, swHeaders(got)) as any;
    expect(payload).toMatchObject({ type: 'model.activated', data: { model: 'iris', version, job_id: job.body.job_id, automatic: false } });
    expect(new Date(payload.timestamp).toISOString()).toBe(payload.timestamp);
    expect(got.headers['webhook-id']).toMatch(/^msg_/);
    expect(got.headers['content-type']).toBe('application/json');
    // Another secret does not verify it.
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got.body, swHeaders(got))).toThrow();

    const log = await eventually(async () => (await attempts(id, String(got.headers['webhook-id']))).find((a) => a.outcome === 'delivered'), 10_000, 'delivery logged');
    expect(log).toMatchObject({ type: 'model.activated', attempt: 1, status: 200, ok: true, error: null, redelivery: false });
    expect(typeof log.latency_ms).toBe('number');

    const back = await api.client.post('/models/iris/rollback', { json: { version: before, reason: 'webhook test' }, headers: { prefer: 'wait=30' } });
    expect(back.status).toBe(200);
    const rolled = await eventually(() => receiver.at('/models').find((r) => JSON.parse(r.body).type === 'model.rolled_back'), 20_000, 'model.rolled_back delivered');
    expect(new Webhook(secret).verify(rolled.body, swHeaders(rolled))).toMatchObject({ data: { model: 'iris', previous_version: version, version: before, source: 'rollback', automatic: false, trigger: null } });
  });

  it('registering and archiving a model deliver model.registered and model.archived', async () => {
    const { secret } = await endpoint('/catalog', ['model.registered', 'model.archived']);
    const spec = { ...JSON.parse(JSON.stringify(irisSpec)), name: 'iris-hooked', description: 'registered by the webhook test', algorithm: 'gaussian_nb', hyperparameters: {} };
    delete spec.dataset;
    const csv = readFileSync(join(DATASETS_DIR, 'iris.csv'), 'utf8');
    const reg = await api.client.post('/models', { json: { spec, data: { csv } }, headers: { prefer: 'wait=30' } });
    expect(reg.status).toBe(200);
    const registered = await eventually(() => receiver.at('/catalog').find((r) => JSON.parse(r.body).type === 'model.registered'), 20_000, 'model.registered delivered');
    expect(new Webhook(secret).verify(registered.body, swHeaders(registered))).toMatchObject({ data: { model: 'iris-hooked', source: 'api', job_id: reg.body.job_id } });
    const arch = await api.client.delete('/models/iris-hooked?reason=done', { headers: { prefer: 'wait=30' } });
    expect(arch.status).toBe(200);
    const archived = await eventually(() => receiver.at('/catalog').find((r) => JSON.parse(r.body).type === 'model.archived'), 20_000, 'model.archived delivered');
    expect(new Webhook(secret).verify(archived.body, swHeaders(archived))).toMatchObject({ data: { model: 'iris-hooked', reason: 'done', job_id: arch.body.job_id } });
  });

  it('a receiver answering 500 then 200 gets the same message again; the log shows both attempts', async () => {
    const { id, secret } = await endpoint('/flaky', ['trigger.fired']);
    receiver.script('/flaky', [{ status: 500 }]);
    const { msg_id } = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 1 });
    const got = await eventually(() => (receiver.at('/flaky').length >= 2 ? receiver.at('/flaky') : undefined), 20_000, 'retried');
    for (const r of got) {
      expect(r.headers['webhook-id']).toBe(msg_id);
      expect(new Webhook(secret).verify(r.body, swHeaders(r))).toMatchObject({ type: 'trigger.fired', data: { n: 1 } });
    }
    const log = await eventually(async () => {
      const a = await attempts(id, msg_id);
      return a.length === 2 ? a : undefined;
    }, 10_000, 'two attempts logged');
    expect(log.map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [2, 200, 'delivered'],
      [1, 500, 'retrying'],
    ]);
    expect(log[1].error).toBe('HTTP 500');
    expect(log[1].retry_in_ms).toBeGreaterThan(0);
  });

  it('honours Retry-After: the retry comes no sooner than asked', async () => {
    const { id } = await endpoint('/busy', ['trigger.fired']);
    receiver.script('/busy', [{ status: 503, headers: { 'retry-after': '1' } }]);
    const { msg_id } = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 2 });
    const got = await eventually(() => (receiver.at('/busy').length >= 2 ? receiver.at('/busy') : undefined), 20_000, 'retried after Retry-After');
    // Loosely: the backoff alone would be ~20 ms; Retry-After asked for 1 s.
    expect((got[1] as Received).at - (got[0] as Received).at).toBeGreaterThanOrEqual(900);
    const log = await attempts(id, msg_id);
    expect(log.find((a) => a.attempt === 1)).toMatchObject({ status: 503, outcome: 'retrying', retry_in_ms: expect.any(Number) });
    expect(log.find((a) => a.attempt === 1).retry_in_ms).toBeGreaterThanOrEqual(1000);
  });

  it('an endpoint answering 410 is disabled, gets no more messages until enabled again', async () => {
    const { id } = await endpoint('/gone', ['trigger.fired']);
    receiver.script('/gone', [{ status: 410 }]);
    const first = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 3 });
    expect(first.endpoints).toContain(id);
    const view = await eventually(async () => {
      const r = await api.client.get(`/webhooks/${id}`);
      return r.body.enabled === false ? r.body : undefined;
    }, 20_000, 'endpoint disabled');
    expect(view.disabled_reason).toMatch(/410/);
    expect(receiver.at('/gone')).toHaveLength(1);
    expect((await attempts(id, first.msg_id)).map((a) => [a.status, a.outcome])).toEqual([[410, 'endpoint_disabled']]);
    // Disabled: not among the next message's endpoints, and no redelivery to it.
    expect((await api.webhooks.emit('trigger.fired', { model: 'iris', n: 4 })).endpoints).not.toContain(id);
    expect((await api.client.post(`/webhooks/${id}/deliveries/${first.msg_id}/redeliver`)).status).toBe(409);
    // Enabled again: it receives the next one.
    expect((await api.client.request('PATCH', `/webhooks/${id}`, { json: { enabled: true } })).body).toMatchObject({ enabled: true, disabled_reason: null });
    const next = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 5 });
    expect(next.endpoints).toContain(id);
    await eventually(() => receiver.at('/gone').some((r) => r.headers['webhook-id'] === next.msg_id), 20_000, 'delivered after re-enabling');
  });

  it('redelivers a message on request, with the same webhook-id; unknown messages are 404', async () => {
    const { id, secret } = await endpoint('/again', ['trigger.fired']);
    const { msg_id } = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 6 });
    await eventually(async () => (await attempts(id, msg_id)).some((a) => a.outcome === 'delivered'), 20_000, 'first delivery');
    const r = await api.client.post(`/webhooks/${id}/deliveries/${msg_id}/redeliver`);
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ endpoint_id: id, msg_id, job_id: `${webhookJobId(msg_id, id)}.r1` });
    const got = await eventually(() => (receiver.at('/again').length >= 2 ? receiver.at('/again') : undefined), 20_000, 'redelivered');
    expect(got.map((g) => g.headers['webhook-id'])).toEqual([msg_id, msg_id]);
    expect(new Webhook(secret).verify((got[1] as Received).body, swHeaders(got[1] as Received))).toMatchObject({ data: { n: 6 } });
    const log = await eventually(async () => {
      const a = await attempts(id, msg_id);
      return a.length === 2 ? a : undefined;
    }, 10_000, 'redelivery logged');
    expect(log[0]).toMatchObject({ redelivery: true, outcome: 'delivered', job_id: `${webhookJobId(msg_id, id)}.r1` });
    expect((await api.client.post(`/webhooks/${id}/deliveries/msg_unknown/redeliver`)).status).toBe(404);
    expect((await api.client.post(`/webhooks/ep_unknown/deliveries/${msg_id}/redeliver`)).status).toBe(404);
  });

  it('after a rotation, messages verify with the new secret and, during the grace, with the old one', async () => {
    const { id, secret: old } = await endpoint('/rotated', ['trigger.fired']);
    const rotated = await api.client.post(`/webhooks/${id}/rotate-secret?grace_s=3600`);
    expect(rotated.status).toBe(200);
    const { msg_id } = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 8 });
    const got = await eventually(() => receiver.at('/rotated').find((r) => r.headers['webhook-id'] === msg_id), 20_000, 'delivered');
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [rotated.body.secret as string, old]) expect(new Webhook(secret).verify(got.body, swHeaders(got))).toMatchObject({ data: { n: 8 } });
    // Without a grace the old secret stops signing at once.
    const again = await api.client.post(`/webhooks/${id}/rotate-secret?grace_s=0`);
    const next = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 9 });
    const got2 = await eventually(() => receiver.at('/rotated').find((r) => r.headers['webhook-id'] === next.msg_id), 20_000, 'delivered');
    expect(new Webhook(again.body.secret).verify(got2.body, swHeaders(got2))).toMatchObject({ data: { n: 9 } });
    expect(() => new Webhook(rotated.body.secret).verify(got2.body, swHeaders(got2))).toThrow();
  });

  it('one message is delivered once per endpoint, however often it is emitted', async () => {
    const { id } = await endpoint('/once', ['trigger.fired']);
    const a = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 7 }, { key: 'iris.auto-1' });
    const b = await api.webhooks.emit('trigger.fired', { model: 'iris', n: 7 }, { key: 'iris.auto-1' });
    expect(b.msg_id).toBe(a.msg_id);
    const jobId = webhookJobId(a.msg_id, id);
    await eventually(async () => (await api.webhooks.queue.getJobState(jobId)) === 'completed', 20_000, 'delivery completed');
    // A third emission after the delivery finished adds nothing either: the job is kept.
    await api.webhooks.emit('trigger.fired', { model: 'iris', n: 7 }, { key: 'iris.auto-1' });
    const jobs = await api.webhooks.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    expect(jobs.filter((j) => j.data.msg_id === a.msg_id && j.data.endpoint_id === id)).toHaveLength(1);
    expect(receiver.at('/once').filter((r) => r.headers['webhook-id'] === a.msg_id)).toHaveLength(1);
    expect(await attempts(id, a.msg_id)).toHaveLength(1);
  });
});
