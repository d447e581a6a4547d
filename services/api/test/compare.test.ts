import { eventually, SETOSA, irisSamples, startStack, type Stack } from './helpers/harness';

// Comparing versions and models on the same records (issue 8): `?version=` on /predict asks a
// kept version; /predict/compare puts the same records through several models or versions.

const samples = irisSamples();
let s: Stack;
let boot: string;
let trained: string;
beforeAll(async () => {
  s = await startStack();
  boot = (await s.api.client.get('/health')).body.model_version;
  const r = await s.api.client.post('/train', { json: { samples: samples.filter((_, i) => i % 4 === 0) }, headers: { prefer: 'wait=20' } });
  expect(r.body.result.status).toBe('activated');
  trained = r.body.result.model_version;
  await eventually(async () => (await s.api.client.get('/health')).body.model_version === trained, 10_000, 'new version served');
});
afterAll(async () => s?.close());

it('/predict?version= answers with a kept version; the served one stays the default', async () => {
  const old = await s.api.client.post(`/predict?version=${boot}`, { json: SETOSA });
  expect(old.status).toBe(200);
  expect(old.body).toMatchObject({ model_version: boot, class_name: 'setosa' });
  expect((await s.api.client.post('/predict', { json: SETOSA })).body.model_version).toBe(trained);
  expect((await s.api.client.post(`/models/iris/predict?version=${boot}`, { json: { records: [SETOSA, SETOSA] } })).body.predictions).toHaveLength(2);
  const unknown = await s.api.client.post('/predict?version=v99.0-abcdef', { json: SETOSA });
  expect([unknown.status, unknown.body.code]).toEqual([404, 'not_found']);
  expect((await s.api.client.post('/predict?version=latest', { json: SETOSA })).status).toBe(422);
});

it('/predict/compare: side by side, with agreement per row; a bad entry gets its own error', async () => {
  const r = await s.api.client.post(`/predict/compare?models=iris,iris@${boot},nosuch`, { json: { records: [SETOSA, { ...SETOSA, petal_length: 5.5, petal_width: 2.1 }] } });
  expect(r.status).toBe(200);
  expect(r.body.models.map((m: { model: string; model_version: string | null }) => [m.model, m.model_version])).toEqual([
    ['iris', trained],
    ['iris', boot],
    ['nosuch', null],
  ]);
  expect(r.body.models[0].predictions).toHaveLength(2);
  expect(r.body.models[2].error).toMatchObject({ status: 404, code: 'not_found' });
  expect(r.body.agreement[0]).toMatchObject({ row: 0, agree: true, class_names: ['setosa', 'setosa'] });
  // The body form: the models next to the records.
  const b = await s.api.client.post('/predict/compare', { json: { models: ['iris', `iris@${boot}`], records: [SETOSA] } });
  expect(b.body.all_agree).toBe(true);
  // A record a model's schema refuses is that model's error, not the request's.
  const bad = await s.api.client.post('/predict/compare?models=iris', { json: { ...SETOSA, sepal_length: -1 } });
  expect(bad.status).toBe(200);
  expect(bad.body.models[0].error).toMatchObject({ status: 422, code: 'validation_failed' });
  expect((await s.api.client.post('/predict/compare', { json: { records: [SETOSA] } })).status).toBe(422);
  expect((await s.api.client.post('/predict/compare?models=iris', { json: { models: ['iris'], records: [SETOSA] } })).status).toBe(400);
});
