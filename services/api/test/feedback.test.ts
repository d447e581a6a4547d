/**
 * The feedback loop through real APIs, a real trainer and real Redis: every row's prediction
 * has an id that any replica can take feedback for; unknown ids are 404, expired ones 410, a
 * second label replaces the first; live quality counts it all; and the automation rolls back a
 * promoted version that feedback shows worse than its predecessor, then retrains once enough
 * labeled rows have arrived, each a job with its reason in the history.
 */
import { feedbackKeys } from '@ct/queue';
import { newPredictionId } from '../src/feedback/prediction-id';
import {
  eventually,
  irisSamples,
  SETOSA,
  startStack,
  TEST_TOKENS,
  startApis,
  type ApiHandle,
  type LoneApis,
  type Stack,
} from './helpers/harness';

const CLASSES = ['setosa', 'versicolor', 'virginica'];
const rows = irisSamples();
const features = (r: (typeof rows)[number]) => ({ sepal_length: r.sepal_length, sepal_width: r.sepal_width, petal_length: r.petal_length, petal_width: r.petal_width });

describe('feedback on predictions, two replicas', () => {
  let lone: LoneApis;
  let prefix: string;
  let one: ApiHandle;
  let two: ApiHandle;

  beforeAll(async () => {
    lone = await startApis({ bootstrap: true, replicas: 2, feedbackRetentionS: 600 });
    prefix = lone.prefix;
    [one, two] = lone.apis as [ApiHandle, ApiHandle];
  });
  afterAll(() => lone.close());

  it('gives each row of a batch its own id, and takes feedback for it on the other replica', async () => {
    const batch = await one.client.post('/predict', { json: { records: [SETOSA, SETOSA, SETOSA] }, token: null });
    expect(batch.status).toBe(200);
    const ids = batch.body.predictions.map((p: { prediction_id: string }) => p.prediction_id);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The index is written off the hot path: flushed within a moment.
    await one.predictions.flush();
    const first = await two.client.post('/models/iris/feedback', { json: { prediction_id: ids[0], label: 'setosa' }, token: TEST_TOKENS.client });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'recorded', label: 'setosa', predicted: 'setosa', correct: true });
    // A second label for the same id replaces the first and says so.
    const again = await one.client.post('/models/iris/feedback', { json: { prediction_id: ids[0], label: 2 }, token: TEST_TOKENS.trainer });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'replaced', label: 'virginica', replaced_label: 'setosa', correct: false });
    // The pending training rows hold the latest label only.
    const pending = await one.queues.redis.hgetall(feedbackKeys(prefix).pending('iris'));
    expect(JSON.parse(pending[ids[0]] as string)).toEqual({ x: [5.1, 3.5, 1.4, 0.2], y: 2 });
  });

  it('answers a batch per item: recorded, unknown (404), expired (410), invalid label (422)', async () => {
    const p = await one.client.post('/predict', { json: SETOSA, token: null });
    await one.predictions.flush();
    const expired = newPredictionId(Date.now() - 3_600_000);
    const r = await two.client.post('/models/iris/feedback', {
      json: { items: [{ prediction_id: p.body.prediction_id, label: 'setosa' }, { prediction_id: newPredictionId(), label: 0 }, { prediction_id: expired, label: 0 }, { prediction_id: p.body.prediction_id, label: 'daisy' }] },
      token: TEST_TOKENS.client,
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((o: { status: string; http_status: number }) => [o.status, o.http_status])).toEqual([
      ['recorded', 201],
      ['not_found', 404],
      ['expired', 410],
      ['invalid', 422],
    ]);
    expect(r.body).toMatchObject({ recorded: 1, replaced: 0, failed: 3 });
    // One item answers with its own status, as problem+json when it fails.
    const gone = await two.client.post('/models/iris/feedback', { json: { prediction_id: expired, label: 0 }, token: TEST_TOKENS.client });
    expect(gone.status).toBe(410);
    expect(gone.body.code).toBe('gone');
    const unknown = await two.client.post('/models/iris/feedback', { json: { prediction_id: 'not-an-id', label: 0 }, token: TEST_TOKENS.client });
    expect(unknown.status).toBe(404);
    // Another model's prediction is not this model's to label.
    expect((await two.client.post('/models/penguins/feedback', { json: { prediction_id: p.body.prediction_id, label: 0 }, token: TEST_TOKENS.client })).status).toBe(404);
    // Feedback needs a token.
    expect((await two.client.post('/models/iris/feedback', { json: { prediction_id: p.body.prediction_id, label: 0 }, token: null })).status).toBe(401);
  });

  it('reports live quality per version: accuracy with its interval, per-class recall, coverage and class mix', async () => {
    const labeled = rows.filter((_, i) => i % 10 === 0).slice(0, 15);
    const answers = await Promise.all(labeled.map((r) => one.client.post('/predict', { json: features(r), token: null })));
    await one.predictions.flush();
    const items = answers.map((a, i) => ({ prediction_id: a.body.prediction_id as string, label: (labeled[i] as { label: number }).label }));
    expect((await one.client.post('/models/iris/feedback', { json: { items }, token: TEST_TOKENS.client })).body.recorded).toBe(15);
    const q = await two.client.get('/models/iris/quality', { token: TEST_TOKENS.client });
    expect(q.status).toBe(200);
    const [v] = q.body.versions;
    expect(v).toMatchObject({ version: 'v1.0-47d98c', active: true });
    expect(v.predictions).toBeGreaterThanOrEqual(19);
    // 15 right-or-wrong labels here, plus the 2 earlier ones (1 replaced, 1 recorded).
    expect(v.feedback.n).toBe(17);
    expect(v.feedback.interval.low).toBeLessThan(v.feedback.accuracy);
    expect(v.feedback.interval.high).toBeGreaterThan(v.feedback.accuracy);
    expect(v.feedback.coverage).toBeCloseTo(17 / v.predictions, 10);
    expect(Object.keys(v.feedback.per_class)).toEqual(CLASSES);
    expect(Object.values(v.class_mix as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(v.predictions);
  });
});

describe('drift of the inputs against the training rows', () => {
  let lone: LoneApis;
  let api: ApiHandle;

  beforeAll(async () => {
    lone = await startApis({ bootstrap: true });
    api = lone.api;
  });
  afterAll(() => lone.close());

  it('tests each feature the Evidently way (KS up to 1,000 reference rows) and the model by the share drifted', async () => {
    const empty = await api.client.get('/models/iris/drift');
    expect(empty.body).toMatchObject({ current: { rows: 0 }, drift: null });
    // Inputs like the training rows: no drift. Then only setosas: petals drift.
    await api.client.post('/predict', { json: { records: rows.map(features) }, token: null });
    await api.predictions.flush();
    const same = await api.client.get('/models/iris/drift');
    // The bootstrap trains on 80 % of the bundled rows (the rest judge candidates).
    expect(same.body.reference.rows).toBe(120);
    expect(same.body.current.rows).toBe(150);
    expect(same.body.features.map((f: { test: string }) => f.test)).toEqual(['ks', 'ks', 'ks', 'ks']);
    expect(same.body.drift.drifted).toBe(false);
    await api.client.post('/predict', { json: { records: Array.from({ length: 400 }, () => SETOSA) }, token: null });
    await api.predictions.flush();
    const shifted = await api.client.get('/models/iris/drift');
    expect(shifted.body.current.rows).toBe(550);
    const petal = shifted.body.features.find((f: { feature: string }) => f.feature === 'petal_length');
    expect(petal).toMatchObject({ kind: 'numeric', test: 'ks', drifted: true });
    expect(petal.pValue).toBeLessThan(0.05);
    expect(shifted.body.drift).toMatchObject({ drifted: true });
    expect((await api.client.get('/models/iris/drift?version=v9.0-000000')).status).toBe(404);
  });
});

describe('automatic rollback and retraining from feedback', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  /** Predicts each row with the served version and labels it: with the truth, or with a wrong class. */
  async function predictAndLabel(sample: typeof rows, truthful: boolean): Promise<string> {
    const { client } = stack.api;
    const answers = await Promise.all(sample.map((r) => client.post('/predict', { json: features(r), token: null })));
    await stack.api.predictions.flush();
    const version = answers[0]?.body.model_version as string;
    const items = answers.map((a) => ({ prediction_id: a.body.prediction_id as string, label: truthful ? a.body.prediction : (a.body.prediction + 1) % 3 }));
    const r = await client.post('/models/iris/feedback', { json: { items }, token: TEST_TOKENS.client });
    expect(r.body.recorded).toBe(sample.length);
    return version;
  }

  it('rolls back a promotion that feedback shows worse, then retrains when enough rows arrived; each in the history with its numbers', async () => {
    const { client } = stack.api;
    const bootstrap = await predictAndLabel(rows.slice(0, 20), true);
    // Promote a second version.
    const good = rows.filter((_, i) => i % 50 < 7);
    const trained = await client.post('/train', { json: { samples: good, policy: { name: 'any_improvement' } }, headers: { prefer: 'wait=30' } });
    expect(trained.body.result?.status).toBe('activated');
    const promoted = trained.body.result.model_version as string;
    await eventually(async () => (await client.post('/predict', { json: SETOSA, token: null })).body.model_version === promoted, 10_000, 'promoted version served');
    // Feedback says it is wrong every time.
    expect(await predictAndLabel(rows.slice(20, 40), false)).toBe(promoted);

    const configured = await client.request('PUT', '/models/iris/automation', { json: { auto_rollback: { alpha: 0.05, min_samples: 15 } } });
    expect(configured.status).toBe(200);
    await eventually(async () => (await client.post('/predict', { json: SETOSA, token: null })).body.model_version === bootstrap, 20_000, 'automatic rollback served');
    const timeline = await client.get('/models/iris/activations?limit=1');
    const [last] = timeline.body.activations ?? timeline.body.items ?? [];
    expect(JSON.stringify(last)).toMatch(/automatic rollback from v\d\.0-[0-9a-f]{6}: live accuracy 0\.0% \(0\/20\) against the predecessor's 100\.0% \(20\/20\)/);
    expect(last).toMatchObject({ source: 'rollback', requested_by: { name: 'automation', role: null }, trigger: { code: 'worse_than_predecessor' } });
    expect(last.trigger.details.test.pValueLower).toBeLessThan(0.05);
    // The promotion was asked for by the harness's admin token: its name is in the history.
    const promotion = (await client.get('/models/iris/history?limit=5')).body.entries.find((e: { version: string }) => e.version === promoted);
    expect(promotion.requested_by).toEqual({ name: 'env-admin', role: 'admin' });

    // Enough new labeled rows: a retraining job under the gate, its trigger recorded.
    const before = (await stack.store.readHistory()).entries.length;
    await client.request('PUT', '/models/iris/automation', { json: { retrain_after_rows: 45 } });
    await predictAndLabel(rows.slice(40, 50), true);
    await eventually(async () => (await stack.store.readHistory()).entries.length > before, 30_000, 'automatic training recorded');
    const entry = (await stack.store.readHistory()).entries.at(-1);
    expect(entry?.source).toBe('train');
    expect(entry?.n_batch_samples).toBe(50);
    expect(entry?.trigger).toMatchObject({ code: 'enough_new_rows', reason: '50 new labeled row(s) >= 45' });
    expect(entry?.actor).toEqual({ name: 'automation', role: null, token_id: null });
    expect(['activated', 'rejected']).toContain(entry?.status);
  });
});

describe('CT_FEEDBACK_INDEX=false', () => {
  let lone: LoneApis;
  beforeAll(async () => {
    lone = await startApis({ bootstrap: true, feedbackIndex: false });
  });
  afterAll(() => lone.close());

  it('indexes no prediction: nothing is written to Redis, and feedback on an id says why it is unknown', async () => {
    const api = lone.apis[0] as ApiHandle;
    const answer = await api.client.post('/predict', { json: SETOSA, token: null });
    expect(answer.status).toBe(200);
    await api.predictions.flush();
    const keys = await api.queues.redis.keys(`${lone.prefix}:fb:*`);
    expect(keys).toEqual([]);
    const r = await api.client.post('/models/iris/feedback', { json: { prediction_id: answer.body.prediction_id, label: 'setosa' }, token: TEST_TOKENS.client });
    expect(r.status).toBe(404);
    expect(r.body.detail).toContain('CT_FEEDBACK_INDEX=false');
  });
});
