/**
 * Experiment tracking: every attempt that fitted a candidate is a run, searched with MLflow's
 * filter and order_by syntax (`GET /models/:model/runs`) and compared side by side, with a
 * paired comparison on the evaluation rows both runs were judged on (`GET /runs/compare`).
 * The volume is built by the trainer's real pipeline (no Redis for the jobs): a bootstrap,
 * three training jobs with different algorithms and policies (one rejected), a replacement of
 * the trusted rows, and one more training job. The API then reads it (real Redis, unique prefix).
 */
import type { JobData, JobResult } from '@ct/queue';
import type { HistoryEntry } from '@ct/registry';
import type { z } from 'zod';
import { parseFilter, parseOrderBy, RunQueryError } from '../src/runs/run-filter';
import { runComparisonSchema, runPageSchema } from '../src/runs/run-schemas';
import { runTimes } from '../src/runs/run-view';
import {
  cleanupRedis,
  createPipeline,
  irisSamples,
  irisSpec,
  makeTempDir,
  removeDir,
  startApi,
  uniquePrefix,
  type ApiHandle,
  type HttpResponse,
  type IrisSample,
} from './helpers/harness';
import { conforms, expectProblem } from './helpers/expect-answers';

const all = irisSamples();
/** 7 rows of each class: activated from the bootstrap state under the default policy. */
const GOOD: IrisSample[] = all.filter((_, i) => i % 50 < 7);
const GOOD_2: IrisSample[] = all.filter((_, i) => i % 50 >= 7 && i % 50 < 14);
const GOOD_3: IrisSample[] = all.filter((_, i) => i % 50 >= 14 && i % 50 < 21);
/** Every label moved to the next class, from scratch: refused by the guardrails. */
const SHIFTED: IrisSample[] = all.filter((_, i) => i % 10 === 0).map((s) => ({ ...s, label: (s.label + 1) % 3 }));
/** 30 rows, 10 per class: the admin's new trusted set. */
const TRUSTED: IrisSample[] = all.filter((_, i) => i % 5 === 0);

const asSet = (s: IrisSample[]) => ({ x: s.map((r) => irisSpec.features.map((f) => r[f.name as keyof IrisSample])), y: s.map((r) => r.label) });
const common = { model: 'iris', request_id: null, body_hash: 'x' } as const;

let dataDir: string;
const prefix = uniquePrefix();
let api: ApiHandle;
/** Job results by run id (iris-<seq>): seq 1 the bootstrap, seq 5 the trusted rows' change (not a run). */
const results: Record<string, JobResult> = {};

const get = (path: string): Promise<HttpResponse> => api.client.get(path);
const search = (query: Record<string, string | number>) => get(`/models/iris/runs?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`);

beforeAll(async () => {
  dataDir = await makeTempDir();
  const pipeline = createPipeline(dataDir);
  try {
    const jobs: JobData[] = [
      { ...common, kind: 'bootstrap' },
      { ...common, kind: 'train', samples: asSet(GOOD), retrain_from_scratch: false, policy: { name: 'any_improvement' } },
      { ...common, kind: 'train', samples: asSet(SHIFTED), retrain_from_scratch: true, policy: { name: 'any_improvement' } },
      { ...common, kind: 'train', samples: asSet(GOOD_2), retrain_from_scratch: false, policy: { name: 'non_inferior', alpha: 0.05 }, algorithm: 'knn', hyperparameters: { k: 3 } },
      { ...common, kind: 'trusted_eval', mode: 'replace', samples: asSet(TRUSTED) },
      { ...common, kind: 'train', samples: asSet(GOOD_3), retrain_from_scratch: false, policy: { name: 'any_improvement' }, algorithm: 'gaussian_nb' },
    ];
    for (const [i, job] of jobs.entries()) results[`iris-${i + 1}`] = await pipeline.run(job);
  } finally {
    await pipeline.close();
  }
  expect([results['iris-2']?.status, results['iris-3']?.status]).toEqual(['activated', 'rejected']);
  api = await startApi({ dataDir, prefix, subscriber: false, predictionLog: false });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await cleanupRedis(prefix);
  if (dataDir) await removeDir(dataDir);
});

const RUN_IDS = ['iris-1', 'iris-2', 'iris-3', 'iris-4', 'iris-6'];
const ids = (body: { runs: { info: { run_id: string } }[] }) => body.runs.map((r) => r.info.run_id);
const metric = (run: { data: { metrics: { key: string; value: number; step: number }[] } }, key: string) =>
  run.data.metrics.filter((m) => m.key === key).sort((a, b) => a.step - b.step).at(-1)?.value;
const param = (run: { data: { params: { key: string; value: string }[] } }, key: string) => run.data.params.find((p) => p.key === key)?.value;

describe('runTimes', () => {
  const entry = { created_at: '2026-12-02T10:00:05.000Z', duration_ms: 4000.4 } as HistoryEntry;
  it("is the job's recorded start and start + duration", () => {
    expect(runTimes({ ...entry, started_at: '2026-12-02T10:00:00.000Z' })).toEqual({ startTime: Date.parse('2026-12-02T10:00:00.000Z'), endTime: Date.parse('2026-12-02T10:00:04.000Z') });
  });
  it('falls back to created_at minus the duration for entries written before started_at', () => {
    expect(runTimes(entry)).toEqual({ startTime: Date.parse('2026-12-02T10:00:01.000Z'), endTime: Date.parse('2026-12-02T10:00:05.000Z') });
  });
});

describe('GET /models/:model/runs', () => {
  it('lists every attempt that fitted a candidate, newest first, as MLflow runs', async () => {
    const body = conforms(runPageSchema, await get('/models/iris/runs'));
    expect(ids(body)).toEqual([...RUN_IDS].reverse());
    expect(body).toMatchObject({ model: 'iris', total: 5, next_page_token: null });
    // The jobs ran one after the other: each run starts when or after the one before it ended
    // (an evaluation longer than the next job once sorted them the wrong way round).
    const oldestFirst = [...body.runs].reverse();
    for (let i = 1; i < oldestFirst.length; i++) {
      expect(oldestFirst[i]?.info.start_time).toBeGreaterThanOrEqual(oldestFirst[i - 1]?.info.end_time as number);
    }

    const byId = Object.fromEntries(body.runs.map((r) => [r.info.run_id, r]));
    const boot = byId['iris-1'] as (typeof body.runs)[number];
    expect(boot.info).toMatchObject({ source: 'bootstrap', status: 'activated', version: results['iris-1']?.model_version, parent_version: null, experiment_id: 'iris' });
    expect(boot.inputs.batch).toBeNull();

    const knn = byId['iris-4'] as (typeof body.runs)[number];
    expect(knn.info).toMatchObject({ run_id: 'iris-4', run_name: results['iris-4']?.model_version, version: results['iris-4']?.model_version, parent_version: results['iris-2']?.model_version });
    expect(Math.abs(knn.info.end_time - knn.info.start_time - knn.info.duration_ms)).toBeLessThanOrEqual(1);
    // Params: flat strings, hyperparameters with their defaults filled, the policy, the seed.
    expect(param(knn, 'algorithm')).toBe('knn');
    expect(param(knn, 'hyperparameters.k')).toBe('3');
    expect(param(knn, 'hyperparameters.weights')).toBe('uniform');
    expect(param(knn, 'policy.name')).toBe('non_inferior');
    expect(param(knn, 'policy.alpha')).toBe('0.05');
    expect(param(knn, 'seed')).toBe(String(irisSpec.seed));
    expect(param(knn, 'retrain_from_scratch')).toBe('false');
    expect(param(knn, 'n_batch_samples')).toBe(String(GOOD_2.length));
    expect(knn.data.params.map((p) => p.key)).toEqual([...knn.data.params.map((p) => p.key)].sort());
    // Metrics: the gate's numbers at step 0, with the entry's timestamp.
    expect(metric(knn, 'accuracy')).toBe(results['iris-4']?.accuracy_new);
    expect(metric(knn, 'accuracy_previous')).toBe(results['iris-4']?.accuracy_previous);
    expect(metric(knn, 'eval_rows')).toBe(results['iris-4']?.eval_set_size);
    expect(metric(knn, 'n_training_samples')).toBe(results['iris-4']?.n_training_samples);
    expect(knn.data.metrics.every((m) => m.timestamp === knn.info.end_time)).toBe(true);
    expect(knn.decision).toMatchObject({ activated: results['iris-4']?.status === 'activated', reason: results['iris-4']?.reason });
    expect(knn.artifact).toEqual({ version: knn.info.version, path: `models/iris/versions/${knn.info.version}/`, url: `/models/iris/versions/${knn.info.version}` });
    expect(knn.data.tags).toEqual(expect.arrayContaining([{ key: 'ct.source', value: 'train' }, { key: 'ct.job_id', value: 'iris.test-4' }]));

    // The loss: a history when the job recorded one, else the fit's final loss at its last iteration.
    const softmax = byId['iris-2'] as (typeof body.runs)[number];
    const losses = softmax.data.metrics.filter((m) => m.key === 'loss');
    // Logistic regression records its objective after every L-BFGS iteration: steps 1..n, not increasing.
    expect(losses.map((m) => m.step)).toEqual(Array.from({ length: results['iris-2']?.fit?.iterations ?? 0 }, (_, i) => i + 1));
    for (let i = 1; i < losses.length; i++) expect((losses[i] as { value: number }).value).toBeLessThanOrEqual((losses[i - 1] as { value: number }).value + 1e-12);
    expect(losses.at(-1)?.step).toBe(results['iris-2']?.fit?.iterations);
    expect(losses.at(-1)?.value).toBe(results['iris-2']?.fit?.final_loss);
    expect(knn.data.metrics.some((m) => m.key === 'loss')).toBe(false); // knn has no objective

    // Inputs: the data hashes and segments; the rows that judged it are the state before it.
    expect(softmax.inputs.eval).toMatchObject({ trusted: boot.inputs.eval.trusted, growing: { count: 0 }, rows: 30, trusted_rows: 30, growing_rows: 0 });
    expect(knn.inputs.eval.growing.count).toBe(1); // the slice iris-2's batch left (iris-3 was rejected)
    expect(knn.inputs.training?.count).toBe(3); // the bootstrap's rows, iris-2's batch and its own
    expect(byId['iris-6']?.inputs.eval.trusted).not.toBe(boot.inputs.eval.trusted); // replaced at seq 5
  });

  it('filters with MLflow clauses joined by AND', async () => {
    const rejected = RUN_IDS.filter((id) => results[id]?.status === 'rejected').reverse();
    expect(rejected.length).toBeGreaterThan(0);
    expect(ids(conforms(runPageSchema, await search({ filter: "attributes.status = 'rejected'" })))).toEqual(rejected);
    expect(ids(conforms(runPageSchema, await search({ filter: "status != 'rejected' and params.algorithm = 'knn'" })))).toEqual(
      results['iris-4']?.status === 'rejected' ? [] : ['iris-4'],
    );
    expect(ids(conforms(runPageSchema, await search({ filter: "params.algorithm = 'knn'" })))).toEqual(['iris-4']);
    expect(ids(conforms(runPageSchema, await search({ filter: "params.policy.name LIKE 'non%'" })))).toEqual(['iris-4']);
    expect(ids(conforms(runPageSchema, await search({ filter: "params.algorithm ILIKE 'GAUSSIAN_%'" })))).toEqual(['iris-6']);
    expect(ids(conforms(runPageSchema, await search({ filter: 'params.hyperparameters.k = "3"' })))).toEqual(['iris-4']);
    expect(ids(conforms(runPageSchema, await search({ filter: "attributes.run_id = 'iris-2'" })))).toEqual(['iris-2']);
    expect(ids(conforms(runPageSchema, await search({ filter: `attributes.version = '${results['iris-3']?.model_version}'` })))).toEqual(['iris-3']);
    expect(ids(conforms(runPageSchema, await search({ filter: "tags.ct.source = 'bootstrap'" })))).toEqual(['iris-1']);
    // A run without the metric matches no clause on it: the bootstrap has no accuracy_previous.
    expect(ids(conforms(runPageSchema, await search({ filter: 'metrics.accuracy_previous >= 0' })))).toEqual(['iris-6', 'iris-4', 'iris-3', 'iris-2']);
    // Times: ms since the epoch, or an ISO date.
    const page = conforms(runPageSchema, await get('/models/iris/runs'));
    const t4 = page.runs.find((r) => r.info.run_id === 'iris-4')?.info.start_time as number;
    expect(ids(conforms(runPageSchema, await search({ filter: `attributes.start_time >= ${t4}` })))).toEqual(['iris-6', 'iris-4']);
    expect(ids(conforms(runPageSchema, await search({ filter: `attributes.start_time < '${new Date(t4).toISOString()}' AND attributes.source = 'train'` })))).toEqual(['iris-3', 'iris-2']);
  });

  it('orders by order_by, then newest first; runs without the key come last', async () => {
    const train = ['iris-2', 'iris-3', 'iris-4', 'iris-6'];
    const accuracy = (id: string) => results[id]?.accuracy_new as number;
    const expected = train
      .filter((id) => accuracy(id) >= 0.5)
      .sort((a, b) => accuracy(b) - accuracy(a) || Number(a.split('-')[1]) - Number(b.split('-')[1]));
    const r = conforms(runPageSchema, await search({ filter: "metrics.accuracy >= 0.5 AND attributes.source = 'train'", order_by: 'metrics.accuracy DESC, attributes.start_time ASC' }));
    expect(ids(r)).toEqual(expected);
    expect(r.total).toBe(expected.length);

    expect(ids(conforms(runPageSchema, await search({ order_by: 'attributes.start_time ASC' })))).toEqual(RUN_IDS);
    expect(ids(conforms(runPageSchema, await search({ order_by: 'params.algorithm' })))).toEqual(['iris-6', 'iris-4', 'iris-3', 'iris-2', 'iris-1'].sort((a, b) => {
      const alg = (id: string) => (id === 'iris-4' ? 'knn' : id === 'iris-6' ? 'gaussian_nb' : 'logistic_regression');
      return alg(a) < alg(b) ? -1 : alg(a) > alg(b) ? 1 : Number(b.split('-')[1]) - Number(a.split('-')[1]);
    }));
    // The bootstrap has no accuracy_previous: last, ascending or descending.
    expect(ids(conforms(runPageSchema, await search({ order_by: 'metrics.accuracy_previous ASC' }))).at(-1)).toBe('iris-1');
    expect(ids(conforms(runPageSchema, await search({ order_by: 'metrics.accuracy_previous DESC' }))).at(-1)).toBe('iris-1');
  });

  it('pages with max_results and page_token, without overlap', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const r: z.output<typeof runPageSchema> = conforms(runPageSchema, await search({ max_results: 2, ...(token ? { page_token: token } : {}) }));
      expect(r.runs.length).toBeLessThanOrEqual(2);
      expect(r.total).toBe(5);
      seen.push(...ids(r));
      token = r.next_page_token;
      pages++;
    } while (token !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...RUN_IDS].reverse());
    // A token belongs to its search.
    const first = conforms(runPageSchema, await search({ max_results: 2 }));
    expectProblem(await search({ max_results: 2, page_token: first.next_page_token as string, filter: "status = 'activated'" }), 422, 'validation_failed');
    expectProblem(await search({ page_token: 'not-a-token' }), 422, 'validation_failed');
    expectProblem(await search({ max_results: 1001 }), 422, 'validation_failed');
    expectProblem(await search({ max_results: 0 }), 422, 'validation_failed');
  });

  it('an invalid filter or order_by is a 422 naming the position', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ filter: 'metrics.accuracy >> 0.9' }, /position 19: expected a number/],
      [{ filter: 'foo.bar = 1' }, /position 1: unknown entity "foo"/],
      [{ filter: "metrics.accuracy = 'high'" }, /position 20: metrics.accuracy is a number/],
      [{ filter: 'params.algorithm = knn' }, /position 20: expected a number or a quoted string/],
      [{ filter: "params.algorithm > 'knn'" }, /position 18: params.algorithm is a string/],
      [{ filter: "metrics.accuracy > 0.5 OR status = 'rejected'" }, /position 24: OR is not supported/],
      [{ filter: 'metrics.accuracy > 0.5 metrics.accuracy < 1' }, /position 24: expected AND/],
      [{ filter: "attributes.colour = 'red'" }, /position 12: unknown attribute "colour"/],
      [{ filter: "params.algorithm = 'knn" }, /unterminated/],
      [{ order_by: 'metrics.accuracy DOWN' }, /position 18/],
      [{ order_by: 'accuracy DESC' }, /position 1: unknown entity "accuracy"/],
    ];
    for (const [query, detail] of cases) {
      const r = await search(query);
      expectProblem(r, 422, 'validation_failed');
      const field = Object.keys(query)[0] as string;
      expect({ query, detail: r.body.detail }).toEqual({ query, detail: expect.stringMatching(detail) });
      expect(r.body.errors).toEqual([expect.objectContaining({ field, pointer: `/${field}` })]);
    }
    expectProblem(await search({ filter: 'metrics.accuracy > 0.5', nope: '1' }), 422, 'validation_failed');
    expectProblem(await get('/models/nosuch/runs'), 404, 'not_found');
    expect((await api.client.get('/models/iris/runs', { token: null })).status).toBe(401);
  });
});

describe('GET /runs/compare', () => {
  it('shows params and metrics side by side with which differ, and each pair scored on their common evaluation rows', async () => {
    const body = conforms(runComparisonSchema, await get('/runs/compare?ids=iris-2,iris-4,iris-6'));
    expect(body.model).toBe('iris');
    expect(body.run_ids).toEqual(['iris-2', 'iris-4', 'iris-6']);
    expect(body.runs.map((r) => r.version)).toEqual([results['iris-2']?.model_version, results['iris-4']?.model_version, results['iris-6']?.model_version]);

    const p = Object.fromEntries(body.params.map((x) => [x.key, x]));
    expect(p.algorithm).toEqual({ key: 'algorithm', values: ['logistic_regression', 'knn', 'gaussian_nb'], differs: true });
    expect(p.seed).toEqual({ key: 'seed', values: [String(irisSpec.seed), String(irisSpec.seed), String(irisSpec.seed)], differs: false });
    expect(p['hyperparameters.k']).toEqual({ key: 'hyperparameters.k', values: [null, '3', null], differs: true });
    expect(p['policy.name']?.values).toEqual(['any_improvement', 'non_inferior', 'any_improvement']);
    const m = Object.fromEntries(body.metrics.map((x) => [x.key, x]));
    expect(m.accuracy?.values).toEqual(['iris-2', 'iris-4', 'iris-6'].map((id) => results[id]?.accuracy_new));
    expect(m.eval_trusted_rows).toEqual({ key: 'eval_trusted_rows', values: [30, 30, 30], differs: false });
    expect(m.loss?.values[0]).toBe(results['iris-2']?.fit?.final_loss);
    expect(m.loss?.values[1]).toBeNull();

    // Each run against the next; the counts add up to the common rows.
    expect(body.pairs).toHaveLength(2);
    for (const pair of body.pairs) {
      if (!('n' in pair)) throw new Error(`pair not scored: ${pair.error}`);
      const o = pair.outcomes;
      expect(o.both_correct + o.only_first_correct + o.only_second_correct + o.both_wrong).toBe(pair.n);
      expect(pair.common_segments.reduce((n, s) => n + s.rows, 0)).toBe(pair.n);
      expect(pair.first.correct).toBe(o.both_correct + o.only_first_correct);
      expect(pair.second.correct).toBe(o.both_correct + o.only_second_correct);
      expect(pair.mcnemar.p_value).toBeGreaterThan(0);
      expect(pair.mcnemar.p_value).toBeLessThanOrEqual(1);
    }
    const [a, b] = body.pairs as [any, any];
    // iris-2 was judged on the bootstrap's trusted rows alone; iris-4 on those and iris-2's slice:
    // in common, the trusted rows. There, each scores as its gate scored it.
    expect(a.run_ids).toEqual(['iris-2', 'iris-4']);
    expect(a.n).toBe(30);
    expect(a.common_segments).toHaveLength(1);
    expect(a.first.accuracy).toBeCloseTo(results['iris-2']?.accuracy_new as number, 5);
    expect(a.second.accuracy).toBeCloseTo((results['iris-4']?.trusted as { challenger: { accuracy: number } }).challenger.accuracy, 5);
    // After the trusted rows were replaced, iris-6 shares only the growing rows with iris-4.
    expect(b.run_ids).toEqual(['iris-4', 'iris-6']);
    expect(b.n).toBe(results['iris-4']?.eval_set_size as number - 30);
    expect(b.n).toBeGreaterThan(0);
  });

  it('a pair with no common evaluation rows scores nothing, and says so with nulls', async () => {
    // The bootstrap was judged on the first trusted rows; iris-6 on the new ones and the growing rows.
    const body = conforms(runComparisonSchema, await get('/runs/compare?ids=iris-1,iris-6'));
    expect(body.pairs[0]).toMatchObject({ n: 0, common_segments: [], first: { correct: 0, accuracy: null }, second: { correct: 0, accuracy: null }, mcnemar: { p_value: 1 } });
  });

  it('refuses what is not a comparison of runs of one model', async () => {
    expectProblem(await get('/runs/compare?ids=iris-2'), 422, 'validation_failed');
    expectProblem(await get('/runs/compare'), 422, 'validation_failed');
    expectProblem(await get(`/runs/compare?ids=${Array.from({ length: 11 }, (_, i) => `iris-${i + 1}`).join(',')}`), 422, 'validation_failed');
    expectProblem(await get('/runs/compare?ids=iris-2,iris-2'), 422, 'validation_failed');
    expectProblem(await get('/runs/compare?ids=iris-2,v2.0-abcdef'), 422, 'validation_failed');
    const mixed = await get('/runs/compare?ids=iris-2,penguins-1');
    expectProblem(mixed, 422, 'validation_failed');
    expect(mixed.body.detail).toMatch(/one model/);
    expectProblem(await get('/runs/compare?ids=iris-2,iris-99'), 404, 'not_found');
    const notRun = await get('/runs/compare?ids=iris-2,iris-5');
    expectProblem(notRun, 404, 'not_found');
    expect(notRun.body.detail).toMatch(/trusted_eval/);
    expectProblem(await get('/runs/compare?ids=nosuch-1,nosuch-2'), 404, 'not_found');
    expect((await api.client.get('/runs/compare?ids=iris-1,iris-2', { token: null })).status).toBe(401);
  });

  it("checks a scoped token's models", async () => {
    const made = await api.client.post('/tokens', { json: { name: 'penguin-reader', role: 'client', models: ['penguins'] } });
    expect(made.status).toBe(201);
    expectProblem(await api.client.get('/runs/compare?ids=iris-1,iris-2', { token: made.body.token }), 403, 'forbidden');
    expectProblem(await api.client.get('/models/iris/runs', { token: made.body.token }), 403, 'forbidden');
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await get('/openapi.json')).body;
    expect(doc.paths['/models/{model}/runs'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['model', 'filter', 'order_by', 'max_results', 'page_token']));
    expect(doc.paths['/runs/compare'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['ids']);
    expect(doc.components.schemas.Run).toBeDefined();
    expect(doc.components.schemas.RunComparison).toBeDefined();
  });
});

describe('the filter and order_by grammar', () => {
  it('parses MLflow clauses', () => {
    expect(parseFilter("metrics.accuracy >= 0.9 and params.`hyperparameters.k` = '3' AND attr.duration_ms < 1e4 AND tags.\"ct.source\" LIKE 'tr%'")).toEqual([
      { entity: 'metric', key: 'accuracy', op: '>=', value: 0.9 },
      { entity: 'param', key: 'hyperparameters.k', op: '=', value: '3' },
      { entity: 'attribute', key: 'duration_ms', op: '<', value: 10_000 },
      { entity: 'tag', key: 'ct.source', op: 'LIKE', value: 'tr%' },
    ]);
    expect(parseFilter('   ')).toEqual([]);
    expect(parseFilter('metrics.accuracy<>-.5')).toEqual([{ entity: 'metric', key: 'accuracy', op: '!=', value: -0.5 }]);
    expect(parseOrderBy('metrics.accuracy DESC, attributes.start_time asc,params.algorithm')).toEqual([
      { entity: 'metric', key: 'accuracy', descending: true },
      { entity: 'attribute', key: 'start_time', descending: false },
      { entity: 'param', key: 'algorithm', descending: false },
    ]);
  });

  it('says where a filter goes wrong', () => {
    const at = (text: string): number => {
      try {
        parseFilter(text);
      } catch (err) {
        if (err instanceof RunQueryError) return err.position;
        throw err;
      }
      throw new Error(`${text} parsed`);
    };
    expect(at('metrics.accuracy')).toBe(17);
    expect(at('metrics. = 1')).toBe(9);
    expect(at("metrics.accuracy > 1 AND params.x LIKE 1")).toBe(40);
    expect(at('metrics. accuracy > 1')).toBe(9);
    expect(at('metrics.accuracy > 1.2.3')).toBe(20);
  });
});
