import { eventually, irisSamples, startStack, type Stack } from './helpers/harness';

// The trusted evaluation rows an admin manages: replaced or extended by a job recorded in the
// history, shown by GET, and from then on the rows every candidate is judged on (issue 7).

const samples = irisSamples();
let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => s?.close());

it('GET shows the bootstrap holdout: 30 rows, 10 per class, and the served version scored on them', async () => {
  const r = await s.api.client.get('/model/trusted-eval');
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({
    model: 'iris',
    rows: 30,
    per_class: { setosa: 10, versicolor: 10, virginica: 10 },
    set_by: { source: 'bootstrap', job_id: 'iris.bootstrap' },
    guardrails: { alpha: 0.05, min_accuracy: 0.8 },
    served: { correct: 29 },
  });
  expect(r.body.hash).toMatch(/^[0-9a-f]{64}$/);
});

it('PUT replaces the rows (a job, in the history), POST adds to them, and the next candidate is judged on them', async () => {
  const active = (await s.api.client.get('/health')).body.model_version;
  const rows = samples.filter((_, i) => i % 5 === 0); // 30 rows, 10 per class
  const put = await s.api.client.request('PUT', '/model/trusted-eval', { json: { samples: rows }, headers: { prefer: 'wait=20' } });
  expect(put.status).toBe(200);
  expect(put.body).toMatchObject({ kind: 'trusted_eval', state: 'completed', result: { status: 'applied', active_version: active, trusted_set_size: 30, model_updated: false } });
  const add = await s.api.client.post('/models/iris/model/trusted-eval', { json: { samples: samples.filter((_, i) => i % 5 === 1) }, headers: { prefer: 'wait=20' } });
  expect({ status: add.status, body: add.body }).toMatchObject({ status: 200, body: { result: { status: 'applied', trusted_set_size: 60 } } });
  const info = (await s.api.client.get('/model/trusted-eval')).body;
  expect(info).toMatchObject({ rows: 60, per_class: { setosa: 20, versicolor: 20, virginica: 20 }, set_by: { source: 'trusted_eval', job_id: add.body.job_id } });
  const history = (await s.api.client.get('/model/info')).body.history.map((h: { source: string; status: string }) => [h.source, h.status]);
  expect(history).toEqual([
    ['bootstrap', 'activated'],
    ['trusted_eval', 'applied'],
    ['trusted_eval', 'applied'],
  ]);
  const train = await s.api.client.post('/train', { json: { samples: samples.filter((_, i) => i % 5 === 2) }, headers: { prefer: 'wait=20' } });
  expect(train.body.result.trusted).toMatchObject({ n: 60 });
  expect(train.body.result.eval_set_size).toBe(60);
  const live = train.body.result.active_version;
  await eventually(async () => (await s.api.client.get('/health')).body.model_version === live, 10_000, 'the outcome is served');
});

it('refuses too few rows, one class, or unknown fields with a 422 before queuing', async () => {
  const put = (body: unknown) => s.api.client.request('PUT', '/model/trusted-eval', { json: body });
  expect((await put({ samples: samples.slice(0, 9) })).status).toBe(422);
  const oneClass = await put({ samples: samples.slice(0, 20) });
  expect(oneClass.status).toBe(422);
  expect(oneClass.body.errors[0]).toMatchObject({ field: 'samples', code: 'insufficient_classes' });
  expect((await put({ samples: samples.slice(0, 20), mode: 'x' })).status).toBe(422);
});
