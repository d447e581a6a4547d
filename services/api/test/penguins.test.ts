import { eventually, startStack, type Stack } from './helpers/harness';

// Models as data (issue 8): the catalogue's penguin models, with categorical features and
// missing values, served next to iris by the same API and trained by the same trainer.

const PENGUINS = ['penguins', 'penguins-logreg', 'penguins-knn'];
const GENTOO = { island: 'Biscoe', bill_length_mm: 47.5, bill_depth_mm: 15.0, flipper_length_mm: 218, body_mass_g: 4950, sex: 'female' };
const ADELIE = { island: 'Torgersen', bill_length_mm: 39.1, bill_depth_mm: 18.7, flipper_length_mm: 181, body_mass_g: 3750, sex: 'male' };
let s: Stack;
beforeAll(async () => {
  s = await startStack({ models: ['iris', ...PENGUINS] });
  await eventually(async () => {
    const h = (await s.api.client.get('/health')).body;
    return PENGUINS.every((m) => h.models[m]?.state === 'ready');
  }, 30_000, 'penguin models served');
});
afterAll(async () => s?.close());

it('each penguin model classifies a Gentoo and an Adelie, with probabilities for every class', async () => {
  for (const m of PENGUINS) {
    const r = await s.api.client.post(`/models/${m}/predict`, { json: { records: [GENTOO, ADELIE] } });
    expect([m, r.status]).toEqual([m, 200]);
    expect(r.body.predictions.map((p: { class_name: string }) => p.class_name)).toEqual(['Gentoo', 'Adelie']);
    const p = r.body.predictions[0].probabilities_by_class;
    expect(Object.keys(p)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(p.Adelie + p.Chinstrap + p.Gentoo).toBeCloseTo(1, 12);
  }
});

it('a missing feature that imputes is filled and the answer says so; one that refuses is a 422', async () => {
  const { sex: _sex, body_mass_g: _mass, ...partial } = GENTOO;
  const r = await s.api.client.post('/models/penguins/predict', { json: partial });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ class_name: 'Gentoo', imputed: ['body_mass_g', 'sex'] });
  expect((await s.api.client.post('/models/penguins/predict', { json: { ...GENTOO, sex: null } })).body.imputed).toEqual(['sex']);
  const { island: _island, ...noIsland } = GENTOO;
  const refused = await s.api.client.post('/models/penguins/predict', { json: noIsland });
  expect(refused.status).toBe(422);
  expect(refused.body.errors[0]).toMatchObject({ field: 'island' });
});

it('an unknown level is a 422 naming the field and the allowed values', async () => {
  const r = await s.api.client.post('/models/penguins-knn/predict', { json: { ...GENTOO, island: 'Anvers' } });
  expect(r.status).toBe(422);
  expect(r.body.errors[0].field).toBe('island');
  expect(r.body.errors[0].message).toMatch(/Biscoe.*Dream.*Torgersen/);
});

it('training takes labels by class name or index, and is gated like iris', async () => {
  const samples = [
    { ...GENTOO, label: 'Gentoo' },
    { ...ADELIE, label: 'Adelie' },
    { ...GENTOO, bill_length_mm: 46.1, label: 2 },
    { ...ADELIE, bill_length_mm: 38.6, label: 0 },
    { island: 'Dream', bill_length_mm: 49.5, bill_depth_mm: 19.0, flipper_length_mm: 200, body_mass_g: 3800, sex: null, label: 'Chinstrap' },
  ];
  const r = await s.api.client.post('/models/penguins-logreg/train', { json: { samples }, headers: { prefer: 'wait=30' } });
  expect(r.status).toBe(200);
  expect(r.body.state).toBe('completed');
  expect(['activated', 'rejected']).toContain(r.body.result.status);
  expect(r.body.result.trusted.n).toBe(69);
  const bad = await s.api.client.post('/models/penguins-logreg/train', { json: { samples: samples.map((x) => ({ ...x, label: 'Emperor' })) } });
  expect(bad.status).toBe(422);
});

it('hyperparameters per job are validated by the algorithm: unknown or out of range is a 422', async () => {
  const samples = Array.from({ length: 5 }, (_, i) => ({ ...GENTOO, bill_length_mm: 45 + i, label: 'Gentoo' }));
  const r = await s.api.client.post('/models/penguins/train', { json: { samples, hyperparameters: { n_estimators: 0 } } });
  expect(r.status).toBe(422);
  expect(r.body.errors[0].field).toBe('hyperparameters.n_estimators');
  expect((await s.api.client.post('/models/penguins/train', { json: { samples, hyperparameters: { trees: 5 } } })).status).toBe(422);
  const ok = await s.api.client.post('/models/penguins/train', { json: { samples, hyperparameters: { n_estimators: 20, max_depth: 4 } }, headers: { prefer: 'wait=30' } });
  expect(ok.body.state).toBe('completed');
});
