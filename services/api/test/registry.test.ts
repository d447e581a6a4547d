/**
 * The registry API, read-only part (issue 8, section 4): GET /, the catalogue, each model's
 * candidates, history and activation timeline, the per-model aliases of /jobs/:id and
 * /health, and their OpenAPI entries. A real trainer and API on a fresh volume (real Redis,
 * unique prefix); the history is built by real jobs: an activated batch, a rejected one, a
 * reset, a replacement of the trusted rows, and another activated batch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  activationPageSchema,
  healthSchema,
  historyPageSchema,
  modelDetailSchema,
  modelInfoSchema,
  modelListSchema,
  rootSchema,
  versionDetailSchema,
  versionPageSchema,
} from '../src/registry-schemas';
import { eventually, irisSamples, irisSpec, SPECS, startStack, type HttpResponse, type IrisSample, type Stack } from './helpers/harness';
import { conforms, expectProblem } from './helpers/expect-answers';

const CLASSES = irisSpec.target.classes;

const all = irisSamples();
/** 7 rows of each class: activated from the bootstrap state under the default policy (seeded fit). */
const GOOD: IrisSample[] = all.filter((_, i) => i % 50 < 7);
/** 7 other rows of each class, sent with `non_inferior`: a clean batch is not significantly worse. */
const GOOD_2: IrisSample[] = all.filter((_, i) => i % 50 >= 7 && i % 50 < 14);
/** 15 rows, every label moved to the next class, from scratch: refused by the guardrails on the trusted rows. */
const SHIFTED: IrisSample[] = all.filter((_, i) => i % 10 === 0).map((s) => ({ ...s, label: (s.label + 1) % 3 }));
/** 30 rows, 10 per class: the admin's new trusted set. */
const TRUSTED: IrisSample[] = all.filter((_, i) => i % 5 === 0);

let s: Stack;
const get = (path: string): Promise<HttpResponse> => s.api.client.get(path);

/** The jobs that built the history, in order (entry seq 1 is the bootstrap). */
const jobs: { good: any; shifted: any; reset: any; trusted: any; good2: any } = {} as never;
let v1: string;
let v2: string;
let v3: string;
let v4: string;

async function finished(r: HttpResponse): Promise<any> {
  expect({ status: r.status, body: r.text.slice(0, 300) }).toEqual({ status: 200, body: expect.any(String) });
  expect(r.body.state).toBe('completed');
  return r.body;
}

const wait = { prefer: 'wait=20' };

/** Every page of `path` (which has no query yet) with `limit`, following next_cursor. */
async function allPages(path: string, key: string, limit: number): Promise<{ pages: any[][]; cursors: (number | null)[] }> {
  const pages: any[][] = [];
  const cursors: (number | null)[] = [];
  let cursor: number | null = null;
  do {
    const r = await get(`${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
    expect(r.status).toBe(200);
    expect(r.body.limit).toBe(limit);
    pages.push(r.body[key]);
    cursor = r.body.next_cursor;
    cursors.push(cursor);
    expect(pages.length).toBeLessThan(50);
  } while (cursor !== null);
  return { pages, cursors };
}

beforeAll(async () => {
  s = await startStack();
  v1 = (await get('/health')).body.model_version;
  jobs.good = await finished(await s.api.client.post('/train', { json: { samples: GOOD }, headers: wait }));
  expect(jobs.good.result.status).toBe('activated');
  v2 = jobs.good.result.model_version;
  jobs.shifted = await finished(await s.api.client.post('/train', { json: { samples: SHIFTED, retrain_from_scratch: true }, headers: wait }));
  expect(jobs.shifted.result.status).toBe('rejected');
  v3 = jobs.shifted.result.model_version;
  jobs.reset = await finished(await s.api.client.delete('/model/history', { headers: wait }));
  jobs.trusted = await finished(await s.api.client.request('PUT', '/model/trusted-eval', { json: { samples: TRUSTED }, headers: wait }));
  jobs.good2 = await finished(await s.api.client.post('/train', { json: { samples: GOOD_2, policy: { name: 'non_inferior' } }, headers: wait }));
  expect(jobs.good2.result.status).toBe('activated');
  v4 = jobs.good2.result.model_version;
  await eventually(async () => (await get('/health')).body.model_version === v4, 10_000, 'the last activation is served');
}, 120_000);

afterAll(async () => s?.close());

it('the jobs built the expected history', async () => {
  const entries = (await s.store.readHistory()).entries;
  expect(entries.map((e) => [e.seq, e.source, e.status, e.version])).toEqual([
    [1, 'bootstrap', 'activated', v1],
    [2, 'train', 'activated', v2],
    [3, 'train', 'rejected', v3],
    [4, 'reset', 'activated', v1],
    [5, 'trusted_eval', 'applied', v1],
    [6, 'train', 'activated', v4],
  ]);
  expect(new Set([v1, v2, v3, v4]).size).toBe(4);
});

describe('GET /', () => {
  it("names the service and its version and links to /docs, /models and /health, each of which answers", async () => {
    const body = conforms(rootSchema, await get('/'));
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
    expect(body).toMatchObject({ service: pkg.name, version: pkg.version, default_model: 'iris', links: { docs: '/docs', models: '/models', health: '/health', openapi: '/openapi.json' } });
    for (const link of Object.values(body.links)) expect((await get(link)).status).toBe(200);
  });
});

describe('GET /models', () => {
  it('lists each model with its active version, that version\'s metrics, training rows, features, classes and endpoints', async () => {
    const body = conforms(modelListSchema, await get('/models'));
    expect(body.default_model).toBe('iris');
    // Every model of the catalogue, in its order.
    expect(body.models.map((m) => m.name)).toEqual(SPECS.map((spec) => spec.name));
    const iris = body.models.find((m) => m.name === 'iris') as (typeof body.models)[number];
    const artifact = await s.store.readVersion(v4);
    expect(iris).toMatchObject({
      name: 'iris',
      description: irisSpec.description,
      algorithm: 'logistic_regression',
      active_version: v4,
      state: 'ready',
      n_training_samples: artifact.body.training.n_samples,
      classes: [...CLASSES],
    });
    expect(iris.activated_at).toBe((await s.store.readHistory()).entries[5]?.created_at);
    // The metrics are the gate's score of the active version: the challenger of the job that fitted it.
    const score = jobs.good2.result.challenger;
    const m = iris.metrics;
    expect(m).not.toBeNull();
    expect(m).toMatchObject({ accuracy: score.accuracy, accuracy_ci: score.accuracy_ci, correct: score.correct, n: score.n, confusion_matrix: score.confusion_matrix });
    expect(m?.accuracy_ci.low).toBeLessThanOrEqual(m?.accuracy as number);
    expect(m?.accuracy_ci.high).toBeGreaterThanOrEqual(m?.accuracy as number);
    expect(m?.per_class.map((c) => c.class_name)).toEqual([...CLASSES]);
    for (const c of m?.per_class ?? []) {
      for (const k of ['precision', 'recall', 'f1'] as const) {
        expect(c[k]).toBeGreaterThanOrEqual(0);
        expect(c[k]).toBeLessThanOrEqual(1);
      }
    }
    const meanF1 = (m?.per_class ?? []).reduce((a, c) => a + c.f1, 0) / 3;
    expect(m?.macro_f1).toBeCloseTo(meanF1, 5);
    // Judged on the admin's 30 trusted rows (the growing rows were cleared by the reset).
    expect(m?.evaluated).toMatchObject({ seq: 6, job_id: jobs.good2.job_id, rows: 30, trusted_rows: 30, growing_rows: 0 });
    // The features as the spec declares them: type, unit and bounds.
    expect(iris.features).toEqual(irisSpec.features);
    for (const f of iris.features) expect(f).toMatchObject({ type: 'numeric', unit: 'cm', exclusive_minimum: 0, maximum: 50 });
    expect(iris.endpoints).toEqual({
      self: '/models/iris',
      predict: '/models/iris/predict',
      train: '/models/iris/train',
      info: '/models/iris/model/info',
      versions: '/models/iris/versions',
      history: '/models/iris/history',
      activations: '/models/iris/activations',
      trusted_eval: '/models/iris/model/trusted-eval',
      jobs: '/models/iris/jobs/{id}',
      health: '/models/iris/health',
    });
    // Every GET endpoint it lists answers.
    for (const path of [iris.endpoints.self, iris.endpoints.info, iris.endpoints.versions, iris.endpoints.history, iris.endpoints.activations, iris.endpoints.trusted_eval, iris.endpoints.health]) {
      expect({ path, status: (await get(path)).status }).toEqual({ path, status: 200 });
    }
    expect((await get(iris.endpoints.jobs.replace('{id}', encodeURIComponent(jobs.good.job_id)))).status).toBe(200);
    expect((await s.api.client.post(iris.endpoints.predict, { json: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 } })).status).toBe(200);
  });

  it('a model with no version yet (this stack trains iris only) is listed with its spec and no metrics', async () => {
    const others = SPECS.filter((spec) => spec.name !== 'iris');
    const body = conforms(modelListSchema, await get('/models'));
    for (const spec of others) {
      const m = body.models.find((x) => x.name === spec.name);
      expect(m).toMatchObject({ active_version: null, state: 'loading', metrics: null, n_training_samples: null, activated_at: null, algorithm: spec.algorithm, classes: spec.target.classes, features: spec.features });
      const detail = conforms(modelDetailSchema, await get(`/models/${spec.name}`));
      expect(detail).toMatchObject({ spec, active_version: null, hyperparameters: null });
      expect(conforms(historyPageSchema, await get(`/models/${spec.name}/history`))).toMatchObject({ entries: [], total: 0, next_cursor: null });
      expect(conforms(activationPageSchema, await get(`/models/${spec.name}/activations`)).activations).toEqual([]);
      expectProblem(await get(`/models/${spec.name}/versions/${v1}`), 404, 'not_found');
    }
    // Categorical features come with their levels.
    for (const f of body.models.flatMap((m) => m.features)) if (f.type === 'categorical') expect(f.levels.length).toBeGreaterThan(0);
  });
});

describe('GET /models/:model', () => {
  it('has the spec, the active version and its metrics, the guardrails and the default policy', async () => {
    const body = conforms(modelDetailSchema, await get('/models/iris'));
    const list = (await get('/models')).body.models[0];
    expect(body).toMatchObject({ ...list, guardrails: { alpha: 0.05, min_accuracy: 0.8 }, default_policy: { name: 'any_improvement' } });
    // The spec as JSON: the catalogue's file, defaults filled.
    expect(body.spec).toEqual(irisSpec);
    expect(body.spec).toMatchObject({ name: 'iris', target: { column: 'species', classes: [...CLASSES] }, dataset: { file: 'iris.csv' }, algorithm: 'logistic_regression', seed: 42 });
    const artifact = await s.store.readVersion(v4);
    expect(body).toMatchObject({ hyperparameters: artifact.body.hyperparameters, fit: artifact.body.training.fit, trained_at: artifact.created_at, data_hash: artifact.body.training.data_hash });
  });

  it('an unknown model is a 404 problem on every registry path', async () => {
    for (const path of ['/models/nope', '/models/nope/versions', `/models/nope/versions/${v1}`, '/models/nope/history', '/models/nope/activations', '/models/nope/health', `/models/nope/jobs/${jobs.good.job_id}`]) {
      expectProblem(await get(path), 404, 'not_found');
    }
  });
});

describe('GET /models/:model/versions', () => {
  it('lists every candidate fitted, activated or rejected, newest first, and marks the live one', async () => {
    const body = conforms(versionPageSchema, await get('/models/iris/versions'));
    expect(body).toMatchObject({ model: 'iris', limit: 50, next_cursor: null, total: 4 });
    expect(body.versions.map((v) => [v.version, v.source, v.status, v.active, v.parent])).toEqual([
      [v4, 'train', 'activated', true, v1],
      [v3, 'train', 'rejected', false, v2],
      [v2, 'train', 'activated', false, v1],
      [v1, 'bootstrap', 'activated', false, null],
    ]);
    const v3Item = body.versions[1];
    expect(v3Item).toMatchObject({ job_id: jobs.shifted.job_id, retrain_from_scratch: true, n_batch_samples: SHIFTED.length, accuracy_new: jobs.shifted.result.accuracy_new, url: `/models/iris/versions/${v3}` });
    expect(v3Item?.reason).toBe(jobs.shifted.result.reason);
  });

  it('filters by status and pages with limit and cursor', async () => {
    const rejected = (await get('/models/iris/versions?status=rejected')).body;
    expect(rejected.versions.map((v: { version: string }) => v.version)).toEqual([v3]);
    expect(rejected.total).toBe(1);
    const { pages, cursors } = await allPages('/models/iris/versions', 'versions', 1);
    expect(pages.map((p) => p.map((v: { version: string }) => v.version))).toEqual([[v4], [v3], [v2], [v1]]);
    expect(cursors).toEqual([6, 3, 2, null]);
    const activated = await allPages('/models/iris/versions?status=activated', 'versions', 2);
    expect(activated.pages.map((p) => p.map((v: { version: string }) => v.version))).toEqual([[v4, v2], [v1]]);
  });

  it('a bad query value is a 422 naming the parameter', async () => {
    for (const [q, field] of [['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=ten', 'limit'], ['cursor=0', 'cursor'], ['status=applied', 'status'], ['colour=red', 'colour']]) {
      const r = await get(`/models/iris/versions?${q}`);
      expectProblem(r, 422, 'validation_failed');
      expect(r.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
  });
});

describe('GET /models/:model/versions/:version', () => {
  it("an activated candidate: algorithm, hyperparameters, data hash, rows, fit, metrics, the gate's decision and its lineage", async () => {
    const body = conforms(versionDetailSchema, await get(`/models/iris/versions/${v2}`));
    const artifact = await s.store.readVersion(v2);
    const r = jobs.good.result;
    expect(body).toMatchObject({
      model: 'iris',
      version: v2,
      seq: 2,
      source: 'train',
      status: 'activated',
      active: false,
      job_id: jobs.good.job_id,
      algorithm: 'logistic_regression',
      hyperparameters: artifact.body.hyperparameters,
      data_hash: artifact.body.training.data_hash,
      n_training_samples: r.n_training_samples,
      n_batch_samples: GOOD.length,
      // The version keeps the fit's summary; the loss per iteration is in the job's result (and its run).
      fit: { iterations: r.fit.iterations, converged: r.fit.converged, final_loss: r.fit.final_loss },
      classes: [...CLASSES],
      features: irisSpec.features.map((f) => f.name),
      champion_metrics: r.champion,
      decision: { activated: true, policy: { name: 'any_improvement' }, guardrails: irisSpec.guardrails, reason: r.reason, message: r.message, violations: [], paired: r.paired, trusted: r.trusted, growing: null },
    });
    expect(body.metrics).toMatchObject({ ...r.challenger, evaluated: { seq: 2, job_id: jobs.good.job_id, rows: 30, trusted_rows: 30, growing_rows: 0 } });
    // Lineage: gated against the bootstrap, fitted on the bootstrap's 120 rows and the batch without its held-out slice.
    const lineage = body.lineage;
    expect(lineage).toMatchObject({ parent: v1, parent_url: `/models/iris/versions/${v1}`, retrain_from_scratch: false, batch: { rows: GOOD.length }, batch_holdout: { rows: r.batch_holdout }, trusted: { rows: 30 }, growing: [] });
    expect(lineage?.training.map((t) => t.rows)).toEqual([120, GOOD.length - r.batch_holdout]);
    expect(lineage?.training.reduce((a, t) => a + t.rows, 0)).toBe(body.n_training_samples);
    for (const seg of [...(lineage?.training ?? []), lineage?.batch, lineage?.batch_holdout, lineage?.trusted]) expect(seg?.hash).toMatch(/^[0-9a-f]{64}$/);
    // The bootstrap's training segment is the first of its own lineage.
    const boot = (await get(`/models/iris/versions/${v1}`)).body;
    expect(boot.lineage).toMatchObject({ parent: null, parent_url: null, batch: null, batch_holdout: null });
    expect(boot.lineage.training).toEqual([lineage?.training[0]]);
    expect(boot.decision).toMatchObject({ activated: true, policy: { name: 'bootstrap' } });
    expect(boot.champion_metrics).toBeNull();
    // Its live periods: from the gate until the reset.
    expect(body.live_periods.map((p) => [p.version, p.seq, p.source, p.current])).toEqual([[v2, 2, 'train', false]]);
    expect(boot.live_periods.map((p: { seq: number; source: string }) => [p.seq, p.source])).toEqual([
      [4, 'reset'],
      [1, 'bootstrap'],
    ]);
  });

  it('a rejected candidate: its violations, and the version it was gated against', async () => {
    const body = conforms(versionDetailSchema, await get(`/models/iris/versions/${v3}`));
    expect(body).toMatchObject({ version: v3, status: 'rejected', active: false, decision: { activated: false }, live_periods: [] });
    expect(body.decision.violations.map((v) => v.code)).toEqual(jobs.shifted.result.violations.map((v: { code: string }) => v.code));
    expect(body.decision.violations.map((v) => v.code)).toContain('trusted_below_minimum_accuracy');
    expect(body.lineage).toMatchObject({ parent: v2, retrain_from_scratch: true, batch: { rows: SHIFTED.length } });
    // From scratch: one segment, the batch's own rows.
    expect(body.lineage?.training).toHaveLength(1);
    expect(body.metrics?.accuracy).toBe(jobs.shifted.result.accuracy_new);
  });

  it('a candidate judged after the trusted rows were replaced carries the new rows in its lineage', async () => {
    const body = conforms(versionDetailSchema, await get(`/models/iris/versions/${v4}`));
    const before = (await get(`/models/iris/versions/${v2}`)).body;
    expect(body).toMatchObject({ active: true, lineage: { parent: v1, trusted: { rows: TRUSTED.length } }, decision: { policy: { name: 'non_inferior', alpha: 0.05 } } });
    expect(body.lineage?.trusted.hash).not.toBe(before.lineage.trusted.hash);
    expect(body.live_periods).toMatchObject([{ version: v4, current: true, to: null }]);
  });

  it('an unknown or malformed version is a 404 problem, and nothing outside versions/ is read', async () => {
    for (const v of ['v9.0-abcdef', 'v2.0-000000', 'latest', '..%2F..%2Fmodel_active.json', 'v1.0-47d98c.json']) {
      const r = await get(`/models/iris/versions/${v}`);
      expectProblem(r, 404, 'not_found');
    }
  });
});

describe('GET /models/:model/history', () => {
  it('every entry, newest first, with the decision in brief', async () => {
    const body = conforms(historyPageSchema, await get('/models/iris/history'));
    expect(body).toMatchObject({ model: 'iris', limit: 50, next_cursor: null, total: 6 });
    expect(body.entries.map((e) => [e.seq, e.source, e.status])).toEqual([
      [6, 'train', 'activated'],
      [5, 'trusted_eval', 'applied'],
      [4, 'reset', 'activated'],
      [3, 'train', 'rejected'],
      [2, 'train', 'activated'],
      [1, 'bootstrap', 'activated'],
    ]);
    const [e6, e5, e4, e3] = body.entries;
    expect(e6).toMatchObject({ version: v4, job_id: jobs.good2.job_id, active_before: v1, active_after: v4, policy: { name: 'non_inferior' }, violations: [], version_url: `/models/iris/versions/${v4}` });
    expect(e5).toMatchObject({ job_id: jobs.trusted.job_id, version: v1, active_after: v1, policy: null, reason: jobs.trusted.result.reason, version_url: null });
    expect(e4).toMatchObject({ job_id: jobs.reset.job_id, active_before: v2, active_after: v1, reason: jobs.reset.result.reason, message: jobs.reset.result.message, version_url: null });
    expect(e3?.violations.length).toBeGreaterThan(0);
    // Each entry says when its job started, in the order the jobs ran.
    const starts = body.entries.map((e) => Date.parse(e.started_at as string)).reverse();
    expect(starts.every((t, i) => Number.isFinite(t) && (i === 0 || t >= (starts[i - 1] as number)))).toBe(true);
  });

  it('pages with limit and cursor: the pages put together are the whole history', async () => {
    const whole = (await get('/models/iris/history')).body.entries;
    const { pages, cursors } = await allPages('/models/iris/history', 'entries', 2);
    expect(cursors).toEqual([5, 3, null]);
    expect(pages.flat()).toEqual(whole);
    // A cursor continues strictly below its seq; limit is capped at 500.
    expect((await get('/models/iris/history?cursor=4')).body.entries.map((e: { seq: number }) => e.seq)).toEqual([3, 2, 1]);
    expect((await get('/models/iris/history?cursor=1')).body).toMatchObject({ entries: [], next_cursor: null });
    expect((await get('/models/iris/history?limit=500')).status).toBe(200);
  });

  it('filters by status and source, together with paging', async () => {
    const seqs = async (q: string) => (await get(`/models/iris/history?${q}`)).body.entries.map((e: { seq: number }) => e.seq);
    expect(await seqs('status=rejected')).toEqual([3]);
    expect(await seqs('status=applied')).toEqual([5]);
    expect(await seqs('source=reset')).toEqual([4]);
    expect(await seqs('source=train')).toEqual([6, 3, 2]);
    expect(await seqs('source=train&status=activated')).toEqual([6, 2]);
    expect(await seqs('source=rollback')).toEqual([]);
    const trains = await allPages('/models/iris/history?source=train', 'entries', 1);
    expect(trains.pages.map((p) => p.map((e: { seq: number }) => e.seq))).toEqual([[6], [3], [2]]);
    expect(trains.cursors).toEqual([6, 3, null]);
    expect((await get('/models/iris/history?source=train&limit=1')).body.total).toBe(3);
  });

  it('a bad query value is a 422 naming the parameter, never a 500', async () => {
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=-3', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=', 'limit'],
      ['cursor=abc', 'cursor'],
      ['cursor=0', 'cursor'],
      ['status=live', 'status'],
      ['source=gate', 'source'],
      ['status=rejected&status=activated', 'status'],
      ['page=2', 'page'],
    ]) {
      const r = await get(`/models/iris/history?${q}`);
      expectProblem(r, 422, 'validation_failed');
      expect({ q, fields: r.body.errors.map((e: { field: string }) => e.field) }).toEqual({ q, fields: [field] });
    }
  });
});

describe('GET /models/:model/activations', () => {
  it('the timeline across gate activations and a reset: which version was live from when to when, and why, newest first', async () => {
    const body = conforms(activationPageSchema, await get('/models/iris/activations'));
    const entries = (await s.store.readHistory()).entries;
    const at = (seq: number) => entries[seq - 1]?.created_at;
    expect(body).toMatchObject({ model: 'iris', total: 4, next_cursor: null });
    // Who asked for each change: the harness's admin token, the system for the bootstrap.
    expect(body.activations.map((a: { requested_by: { name: string } | null; trigger: unknown }) => [a.requested_by?.name ?? null, a.trigger])).toEqual([
      ['env-admin', null],
      ['env-admin', null],
      ['env-admin', null],
      [null, null],
    ]);
    expect(body.activations.map(({ requested_by: _by, trigger: _trigger, ...rest }: Record<string, unknown>) => rest)).toEqual([
      { version: v4, from: at(6), to: null, current: true, seq: 6, source: 'train', job_id: jobs.good2.job_id, reason: jobs.good2.result.reason, accuracy: jobs.good2.result.accuracy_new, replaced_by: null },
      {
        version: v1,
        from: at(4),
        to: at(6),
        current: false,
        seq: 4,
        source: 'reset',
        job_id: jobs.reset.job_id,
        reason: jobs.reset.result.reason,
        accuracy: jobs.reset.result.accuracy_new,
        replaced_by: { seq: 6, source: 'train', job_id: jobs.good2.job_id, version: v4 },
      },
      {
        version: v2,
        from: at(2),
        to: at(4),
        current: false,
        seq: 2,
        source: 'train',
        job_id: jobs.good.job_id,
        reason: jobs.good.result.reason,
        accuracy: jobs.good.result.accuracy_new,
        replaced_by: { seq: 4, source: 'reset', job_id: jobs.reset.job_id, version: v1 },
      },
      {
        version: v1,
        from: at(1),
        to: at(2),
        current: false,
        seq: 1,
        source: 'bootstrap',
        job_id: 'iris.bootstrap',
        reason: expect.stringMatching(/^bootstrap/),
        accuracy: entries[0]?.accuracy_new,
        replaced_by: { seq: 2, source: 'train', job_id: jobs.good.job_id, version: v2 },
      },
    ]);
    // Neither the rejected candidate nor the change of the trusted rows changed what was live.
    expect(body.activations.map((a) => a.seq)).not.toContain(3);
    expect(body.activations.map((a) => a.seq)).not.toContain(5);
    // Periods tile time: each ends where the next begins.
    for (let i = 0; i + 1 < body.activations.length; i++) expect(body.activations[i + 1]?.to).toBe(body.activations[i]?.from);
  });

  it('pages like the history; a bad query value is a 422', async () => {
    const whole = (await get('/models/iris/activations')).body.activations;
    const { pages, cursors } = await allPages('/models/iris/activations', 'activations', 3);
    expect(cursors).toEqual([2, null]);
    expect(pages.flat()).toEqual(whole);
    expectProblem(await get('/models/iris/activations?limit=1000'), 422, 'validation_failed');
    expectProblem(await get('/models/iris/activations?status=activated'), 422, 'validation_failed');
  });
});

describe('GET /model/info', () => {
  it('keeps every attempt in `history`, shows those since the last reset, and links to the full log', async () => {
    const body = conforms(modelInfoSchema, await get('/model/info'));
    expect(body.active_version).toBe(v4);
    expect(body.history?.map((h) => h.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(body.history_since_reset?.map((h) => [h.seq, h.source])).toEqual([
      [4, 'reset'],
      [5, 'trusted_eval'],
      [6, 'train'],
    ]);
    expect(body.last_reset).toEqual({ seq: 4, at: (await s.store.readHistory()).entries[3]?.created_at, job_id: jobs.reset.job_id });
    expect(body.full_history).toBe('/models/iris/history');
    expect((await get(body.full_history)).body.total).toBe(6);
    expect((await get('/models/iris/model/info')).body.history_since_reset).toEqual(body.history_since_reset);
  });
});

describe('per-model aliases of /jobs/:id and /health', () => {
  it('GET /models/iris/jobs/:id answers like /jobs/:id for a job of that model; an unknown or foreign id is a 404', async () => {
    for (const job of [jobs.good, jobs.reset, jobs.trusted]) {
      const id = encodeURIComponent(job.job_id);
      const alias = await get(`/models/iris/jobs/${id}`);
      expect(alias.status).toBe(200);
      expect(alias.body).toEqual((await get(`/jobs/${id}`)).body);
      expect(alias.body).toMatchObject({ job_id: job.job_id, model: 'iris', state: 'completed' });
    }
    expectProblem(await get('/models/iris/jobs/iris.no-such-job'), 404, 'not_found');
    expectProblem(await get('/models/iris/jobs/penguins.k123'), 404, 'not_found');
    expectProblem(await get('/models/iris/jobs/nodot'), 404, 'not_found');
  });

  it('GET /models/iris/health answers like /health', async () => {
    const alias = conforms(healthSchema, await get('/models/iris/health'));
    const health = conforms(healthSchema, await get('/health'));
    expect({ ...alias, uptime_s: 0 }).toEqual({ ...health, uptime_s: 0 });
    expect(alias).toMatchObject({ status: 'ok', model_version: v4 });
    // A model with no version loaded yet: its own health is 503 starting, while /health (the default model's) is 200.
    for (const spec of SPECS.filter((x) => x.name !== 'iris')) {
      const r = await get(`/models/${spec.name}/health`);
      expect({ status: r.status, body: r.body }).toMatchObject({ status: 503, body: { status: 'starting', model_version: null } });
      expect(healthSchema.safeParse(r.body).success).toBe(true);
    }
  });
});

describe('OpenAPI', () => {
  const ROUTES = [
    ['/', 'get', 'getServiceRoot'],
    ['/models', 'get', 'listModels'],
    ['/models/{model}', 'get', 'getModel'],
    ['/models/{model}/versions', 'get', 'listVersions'],
    ['/models/{model}/versions/{version}', 'get', 'getVersion'],
    ['/models/{model}/history', 'get', 'listHistory'],
    ['/models/{model}/activations', 'get', 'listActivations'],
    ['/models/{model}/jobs/{id}', 'get', 'getModelJob'],
    ['/models/{model}/health', 'get', 'getModelHealth'],
  ] as const;

  it('lists every registry route with its operationId and a response schema that is not a free object', async () => {
    const doc = (await get('/openapi.json')).body;
    const resolveRef = (schema: any): any => (schema?.$ref ? doc.components.schemas[decodeURIComponent(schema.$ref.split('/').pop())] : schema);
    for (const [path, method, operationId] of ROUTES) {
      const op = doc.paths[path]?.[method];
      expect({ path, operationId: op?.operationId }).toEqual({ path, operationId });
      const schema = resolveRef(op.responses['200'].content['application/json'].schema);
      expect({ path, type: schema.type, properties: Object.keys(schema.properties ?? {}).length > 0 }).toEqual({ path, type: 'object', properties: true });
    }
    const history = doc.paths['/models/{model}/history'].get;
    expect(history.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual(['path:model', 'query:cursor', 'query:limit', 'query:source', 'query:status']);
    for (const status of ['404', '422']) expect(history.responses[status].content['application/problem+json']).toBeDefined();
    // /health and /model/info are documented with their shapes now too.
    for (const path of ['/health', '/model/info']) expect(resolveRef(doc.paths[path].get.responses['200'].content['application/json'].schema).properties).toBeDefined();
  });

  it('every operation has an operationId, and no two share one', async () => {
    const doc = (await get('/openapi.json')).body;
    const ops = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ op: `${method.toUpperCase()} ${path}`, id: op.operationId })),
    );
    expect(ops.filter((o) => typeof o.id !== 'string')).toEqual([]);
    const ids = ops.map((o) => o.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    // Every $ref points at an existing component.
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) expect(doc.components.schemas).toHaveProperty([decodeURIComponent(m[1] as string)]);
  });
});

// Last: it changes what is live.
describe('after a rollback', () => {
  it('the timeline, the versions, the catalogue and the history all show it, with its reason', async () => {
    const r = await s.api.client.post('/models/iris/rollback', { json: { version: v2, reason: 'v4 misbehaves' }, headers: wait });
    const job = await finished(r);
    expect(job.result).toMatchObject({ status: 'activated', active_version: v2 });
    await eventually(async () => (await get('/health')).body.model_version === v2, 10_000, 'the rolled-back version is served');
    const entries = (await s.store.readHistory()).entries;
    const rb = entries.at(-1);
    expect(rb).toMatchObject({ seq: 7, source: 'rollback', active_before: v4, active_after: v2 });

    const timeline = conforms(activationPageSchema, await get('/models/iris/activations')).activations;
    expect(timeline.map((a) => [a.version, a.seq, a.source, a.current])).toEqual([
      [v2, 7, 'rollback', true],
      [v4, 6, 'train', false],
      [v1, 4, 'reset', false],
      [v2, 2, 'train', false],
      [v1, 1, 'bootstrap', false],
    ]);
    expect(timeline[0]).toMatchObject({ from: rb?.created_at, to: null, job_id: job.job_id, reason: `rollback to ${v2} on request: v4 misbehaves` });
    expect(timeline[1]).toMatchObject({ to: rb?.created_at, replaced_by: { seq: 7, source: 'rollback', job_id: job.job_id, version: v2 } });

    // The versions: v2 is live again; its live periods are the gate's and the rollback's.
    const versions = conforms(versionPageSchema, await get('/models/iris/versions'));
    expect(versions.total).toBe(4); // a rollback fits nothing
    expect(versions.versions.filter((v) => v.active).map((v) => v.version)).toEqual([v2]);
    const detail = conforms(versionDetailSchema, await get(`/models/iris/versions/${v2}`));
    expect(detail.active).toBe(true);
    expect(detail.live_periods.map((p) => [p.seq, p.source, p.current])).toEqual([
      [7, 'rollback', true],
      [2, 'train', false],
    ]);

    // The catalogue: v2's metrics are still those of the gate that scored it.
    const iris = conforms(modelListSchema, await get('/models')).models.find((m) => m.name === 'iris');
    expect(iris).toMatchObject({ active_version: v2, activated_at: rb?.created_at, metrics: { ...jobs.good.result.challenger, evaluated: { seq: 2 } } });
    expect((await get('/models/iris/history?source=rollback')).body.entries.map((e: { seq: number }) => e.seq)).toEqual([7]);
  });
});
