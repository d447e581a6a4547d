/**
 * Bad input never yields a 500: every case answers 4xx application/problem+json with a stable
 * `code` and, for schema failures, `errors[]` naming each offending field. Real API, real
 * Redis (unique prefix), model bootstrapped by a real Trainer.
 */
import { trainQueueName } from '@ct/queue';
import { Queue } from 'bullmq';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Trainer } from '../../trainer/src/trainer';
import {
  cleanupRedis,
  eventually,
  irisSamples,
  makeTempDir,
  removeDir,
  SETOSA,
  TEST_REDIS,
  startApi,
  startTrainer,
  uniquePrefix,
  type ApiHandle,
  type HttpResponse,
  type IrisSample,
  irisSpec,
} from './helpers/harness';

const prefix = uniquePrefix();
let dataDir: string;
let trainer: Trainer;
let api: ApiHandle;
let queue: Queue;
/** Every response of this file, to check that none leaks a stack trace. */
const seen: HttpResponse[] = [];

const samples = irisSamples();
/** Five samples of three classes: a valid /train batch. */
const validBatch = (): IrisSample[] => [samples[0], samples[1], samples[50], samples[51], samples[100]] as IrisSample[];

const STACK = /\n\s+at\s|\bat\s+\S+\s+\(.*:\d+:\d+\)|\.ts:\d+|node_modules|Error:\s/;

async function call(method: 'GET' | 'POST' | 'DELETE', path: string, opts: Parameters<ApiHandle['client']['request']>[2] = {}): Promise<HttpResponse> {
  const r = await api.client.request(method, path, opts);
  seen.push(r);
  return r;
}

/** Asserts a problem+json answer with `status` and `code`; with `fields`, that `errors[]` names exactly those fields. */
function expectProblem(r: HttpResponse, status: number, code: string, fields?: string[]): void {
  const context = `${r.status} ${r.text.slice(0, 500)}`;
  expect({ status: r.status, context }).toEqual({ status, context });
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status, code, type: `urn:ct:problem:${code}` });
  expect(typeof r.body.title).toBe('string');
  expect(typeof r.body.detail).toBe('string');
  expect(r.text).not.toMatch(STACK);
  if (fields) {
    expect(Array.isArray(r.body.errors)).toBe(true);
    for (const e of r.body.errors) {
      expect(e).toEqual({ field: expect.any(String), pointer: expect.any(String), code: expect.any(String), message: expect.any(String) });
    }
    expect([...new Set(r.body.errors.map((e: { field: string }) => e.field))].sort()).toEqual([...fields].sort());
  }
}

/** Jobs on the iris queue other than the trainer's own bootstrap job. */
async function queuedJobIds(): Promise<string[]> {
  const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children']);
  return jobs.filter((j) => j && j.id !== `${irisSpec.name}.bootstrap`).map((j) => j.id as string);
}

beforeAll(async () => {
  dataDir = await makeTempDir();
  trainer = await startTrainer({ dataDir, prefix });
  await eventually(() => existsSync(join(dataDir, 'models', 'iris', 'model_active.json')), 30_000, 'bootstrap');
  api = await startApi({ dataDir, prefix, pollIntervalMs: 60_000, predictionLog: false });
  await eventually(async () => (await api.client.get('/health')).body?.status === 'ok', 10_000, 'api ready');
  queue = new Queue(trainQueueName(irisSpec.name), { connection: TEST_REDIS, prefix });
});

afterAll(async () => {
  await api?.close();
  await trainer?.close();
  await queue?.close();
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

describe('POST /predict: valid input (control)', () => {
  it('answers 200 for one row and for a batch, including the 50 cm bound', async () => {
    const one = await call('POST', '/predict', { json: SETOSA });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ model: 'iris', prediction: 0, class_name: 'setosa' });
    const batch = await call('POST', '/predict', { json: { records: [SETOSA, { ...SETOSA, sepal_length: 50 }] } });
    expect(batch.status).toBe(200);
    expect(batch.body.predictions).toHaveLength(2);
  });
});

describe('POST /predict: bad input', () => {
  it('unknown field → 422 naming it', async () => {
    expectProblem(await call('POST', '/predict', { json: { ...SETOSA, color: 'blue' } }), 422, 'validation_failed', ['color']);
  });

  it('unknown field in a batch row → 422 naming records[i].field', async () => {
    const r = await call('POST', '/predict', { json: { records: [SETOSA, { ...SETOSA, stem: 1 }] } });
    expectProblem(r, 422, 'validation_failed', ['records[1].stem']);
    expect(r.body.errors[0]).toMatchObject({ pointer: '/records/1/stem', code: 'unrecognized_key' });
  });

  it('unknown top-level field next to records → 422', async () => {
    expectProblem(await call('POST', '/predict', { json: { records: [SETOSA], verbose: true } }), 422, 'validation_failed', ['verbose']);
  });

  it('missing field → 422 naming it', async () => {
    const { petal_width: _omit, ...row } = SETOSA;
    expectProblem(await call('POST', '/predict', { json: row }), 422, 'validation_failed', ['petal_width']);
    expectProblem(await call('POST', '/predict', { json: { records: [SETOSA, row] } }), 422, 'validation_failed', ['records[1].petal_width']);
  });

  it('string "5.1" for a number is not coerced → 422', async () => {
    const r = await call('POST', '/predict', { json: { records: [{ ...SETOSA, sepal_length: '5.1' }] } });
    expectProblem(r, 422, 'validation_failed', ['records[0].sepal_length']);
    expect(r.body.errors[0].code).toBe('invalid_type');
  });

  it('names every offending field of every row in one answer', async () => {
    const r = await call('POST', '/predict', {
      json: { records: [{ ...SETOSA, sepal_length: '5.1' }, SETOSA, { ...SETOSA, petal_width: -1, petal_length: 0, extra: 1 }] },
    });
    expectProblem(r, 422, 'validation_failed', ['records[0].sepal_length', 'records[2].petal_width', 'records[2].petal_length', 'records[2].extra']);
  });

  it('NaN as raw text → 400 malformed_json', async () => {
    const raw = '{"sepal_length": NaN, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}';
    expectProblem(await call('POST', '/predict', { raw }), 400, 'malformed_json');
  });

  it('1e400 (parses to Infinity) → 422 naming the field', async () => {
    const raw = '{"sepal_length": 1e400, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}';
    expectProblem(await call('POST', '/predict', { raw }), 422, 'validation_failed', ['sepal_length']);
    const neg = '{"records":[{"sepal_length": 5.1, "sepal_width": -1e400, "petal_length": 1.4, "petal_width": 0.2}]}';
    expectProblem(await call('POST', '/predict', { raw: neg }), 422, 'validation_failed', ['records[0].sepal_width']);
  });

  it.each([
    ['negative', -0.1],
    ['zero', 0],
    ['over 50 cm', 50.01],
    ['far over 50 cm', 1e6],
  ])('%s measurement (%p) → 422', async (_what, value) => {
    for (const f of irisSpec.features) {
      expectProblem(await call('POST', '/predict', { json: { ...SETOSA, [f.name]: value } }), 422, 'validation_failed', [f.name]);
    }
  });

  it('wrong content type (text/plain) → 415, even with a JSON body', async () => {
    expectProblem(await call('POST', '/predict', { raw: JSON.stringify(SETOSA), contentType: 'text/plain' }), 415, 'unsupported_media_type');
    expectProblem(await call('POST', '/predict', { raw: 'sepal_length=5.1', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectProblem(await call('POST', '/predict'), 415, 'unsupported_media_type'); // no body, no content type
  });

  it('malformed JSON → 400', async () => {
    for (const raw of ['{"sepal_length": 5.1,', '{sepal_length: 5.1}', "{'a': 1}", '{"a": 1}}', '\u0000']) {
      expectProblem(await call('POST', '/predict', { raw }), 400, 'malformed_json');
    }
  });

  it('oversized body (> 2 MiB) → 413', async () => {
    const raw = JSON.stringify({ records: [SETOSA], pad: 'x'.repeat(2 * 1024 * 1024 + 10) });
    expectProblem(await call('POST', '/predict', { raw }), 413, 'payload_too_large');
    const train = JSON.stringify({ samples: Array.from({ length: 30_000 }, (_, i) => ({ ...SETOSA, label: i % 3 })) });
    expect(train.length).toBeGreaterThan(2 * 1024 * 1024);
    expectProblem(await call('POST', '/train', { raw: train }), 413, 'payload_too_large');
  });

  it('records empty, and over 1000 rows → 422 naming records', async () => {
    expectProblem(await call('POST', '/predict', { json: { records: [] } }), 422, 'validation_failed', ['records']);
    const big = Array.from({ length: 1001 }, () => SETOSA);
    expectProblem(await call('POST', '/predict', { json: { records: big } }), 422, 'validation_failed', ['records']);
    // exactly 1000 is fine
    const ok = await call('POST', '/predict', { json: { records: big.slice(0, 1000) } });
    expect(ok.status).toBe(200);
    expect(ok.body.predictions).toHaveLength(1000);
  });

  it('records of the wrong shape → 422 naming each element', async () => {
    expectProblem(await call('POST', '/predict', { json: { records: 'all' } }), 422, 'validation_failed', ['records']);
    expectProblem(await call('POST', '/predict', { json: { records: {} } }), 422, 'validation_failed', ['records']);
    expectProblem(await call('POST', '/predict', { json: { records: [[5.1, 3.5, 1.4, 0.2], null, 1] } }), 422, 'validation_failed', [
      'records[0]',
      'records[1]',
      'records[2]',
    ]);
  });

  it('__proto__ and constructor keys are refused as unknown fields, and pollute nothing', async () => {
    const raw = `{"__proto__": {"polluted": "yes"}, "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}`;
    const r = await call('POST', '/predict', { raw });
    expectProblem(r, 422, 'validation_failed', ['__proto__']);
    expect(r.body.errors[0]).toMatchObject({ pointer: '/__proto__', code: 'unrecognized_key' });
    const inBatch = `{"records": [{"__proto__": {"records": 1}, "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}`;
    expectProblem(await call('POST', '/predict', { raw: inBatch }), 422, 'validation_failed', ['records[0].__proto__']);
    const ctor = { ...SETOSA, constructor: { prototype: { polluted: 'yes' } } };
    expectProblem(await call('POST', '/predict', { json: ctor }), 422, 'validation_failed', ['constructor']);
    const train = `{"samples": [], "__proto__": {"retrain_from_scratch": true}}`;
    expectProblem(await call('POST', '/train', { raw: train }), 422, 'validation_failed', ['samples', '__proto__']);
    // The API runs in this process: nothing leaked onto Object.prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  it('an array instead of an object → 422 on the body root', async () => {
    const r = await call('POST', '/predict', { json: [SETOSA] });
    expectProblem(r, 422, 'validation_failed', ['']);
    expect(r.body.errors[0]).toMatchObject({ pointer: '', code: 'invalid_type' });
    expectProblem(await call('POST', '/predict', { json: [] }), 422, 'validation_failed', ['']);
  });

  it('null body and JSON scalars → 4xx (malformed under strict JSON), never 500', async () => {
    for (const raw of ['null', '"text"', '42', 'true']) {
      expectProblem(await call('POST', '/predict', { raw }), 400, 'malformed_json');
    }
    expectProblem(await call('POST', '/train', { raw: 'null' }), 400, 'malformed_json');
  });

  it('unsupported charset or content encoding → 415; a gzip body is decoded', async () => {
    expectProblem(await call('POST', '/predict', { raw: JSON.stringify(SETOSA), contentType: 'application/json; charset=latin1' }), 415, 'unsupported_media_type');
    expectProblem(
      await call('POST', '/predict', { raw: JSON.stringify(SETOSA), headers: { 'content-encoding': 'compress' } }),
      415,
      'unsupported_media_type',
    );
    const gz = await call('POST', '/predict', { raw: gzipSync(JSON.stringify(SETOSA)), headers: { 'content-encoding': 'gzip' } });
    expect(gz.status).toBe(200);
    // A decompression bomb is cut at the limit (counted after inflating).
    const bomb = gzipSync(JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) }));
    expectProblem(await call('POST', '/predict', { raw: bomb, headers: { 'content-encoding': 'gzip' } }), 413, 'payload_too_large');
  });

  it.each(['gzip', 'deflate', 'br'])('a corrupt %s body → 400, not 500', async (encoding) => {
    const r = await call('POST', '/predict', { raw: Buffer.from('this is not compressed'), headers: { 'content-encoding': encoding } });
    expectProblem(r, 400, 'bad_request');
  });

  it.each(['/jobs/%E0%A4%A', '/models/%E0%A4%A/predict'])('a malformed percent-escape in %s → 400, not 500', async (path) => {
    const r = await call(path.startsWith('/jobs') ? 'GET' : 'POST', path, path.startsWith('/jobs') ? {} : { json: SETOSA });
    expectProblem(r, 400, 'bad_request');
  });

  it('empty JSON object → 422 naming every missing feature', async () => {
    expectProblem(await call('POST', '/predict', { json: {} }), 422, 'validation_failed', irisSpec.features.map((f) => f.name));
  });

  it('unknown model → 404 problem', async () => {
    expectProblem(await call('POST', '/models/daisy/predict', { json: SETOSA }), 404, 'not_found');
    expectProblem(await call('POST', '/models/__proto__/predict', { json: SETOSA }), 404, 'not_found');
    expectProblem(await call('POST', '/models/constructor/train', { json: { samples: validBatch() } }), 404, 'not_found');
    const ok = await call('POST', '/models/iris/predict', { json: SETOSA });
    expect(ok.status).toBe(200);
  });
});

describe('POST /train: bad input is refused before anything is queued', () => {
  const train = (json: unknown, headers?: Record<string, string>) => call('POST', '/train', { json, ...(headers ? { headers } : {}) });

  it('starts with no job on the queue', async () => {
    expect(await queuedJobIds()).toEqual([]);
  });

  it('4 samples (fewer than 5) → 422 naming samples', async () => {
    expectProblem(await train({ samples: validBatch().slice(0, 4) }), 422, 'validation_failed', ['samples']);
  });

  it('more than 10,000 samples → 422 naming samples', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => samples[i % samples.length]);
    const r = await train({ samples: many });
    expectProblem(r, 422, 'validation_failed', ['samples']);
    expect(r.body.errors[0].code).toBe('too_big');
  });

  it.each([
    ['1.5 (not an integer)', 1.5],
    ['7 (no such class)', 7],
    ['-1', -1],
    ['"1" (a string)', '1'],
    ['null', null],
  ])('label %s → 422 naming samples[i].label', async (_what, label) => {
    const batch: unknown[] = validBatch();
    batch[3] = { ...(batch[3] as object), label };
    expectProblem(await train({ samples: batch }), 422, 'validation_failed', ['samples[3].label']);
  });

  it('missing label, unknown and bad feature fields → each named', async () => {
    const batch: unknown[] = validBatch();
    const { label: _l, ...noLabel } = batch[0] as IrisSample;
    batch[0] = noLabel;
    batch[2] = { ...(batch[2] as object), species: 'setosa', petal_width: '0.2' };
    batch[4] = { ...(batch[4] as object), sepal_length: 0 };
    expectProblem(await train({ samples: batch }), 422, 'validation_failed', [
      'samples[0].label',
      'samples[2].species',
      'samples[2].petal_width',
      'samples[4].sepal_length',
    ]);
  });

  it('unknown top-level field and wrongly typed options → each named', async () => {
    expectProblem(await train({ samples: validBatch(), epochs: 10 }), 422, 'validation_failed', ['epochs']);
    expectProblem(await train({ samples: validBatch(), retrain_from_scratch: 'yes' }), 422, 'validation_failed', ['retrain_from_scratch']);
    expectProblem(await train({ samples: validBatch(), algorithm: 'deep_learning' }), 422, 'validation_failed', ['algorithm']);
    expectProblem(await train({ samples: { 0: validBatch()[0] } }), 422, 'validation_failed', ['samples']);
  });

  it('unknown policy name → 422 naming policy.name', async () => {
    const r = await train({ samples: validBatch(), policy: { name: 'always' } });
    expectProblem(r, 422, 'validation_failed', ['policy.name']);
    expect(r.body.errors[0].pointer).toBe('/policy/name');
    expectProblem(await train({ samples: validBatch(), policy: 'any_improvement' }), 422, 'validation_failed', ['policy']);
    expectProblem(await train({ samples: validBatch(), policy: {} }), 422, 'validation_failed', ['policy.name']);
  });

  it('bad policy parameters → 422 naming them', async () => {
    expectProblem(await train({ samples: validBatch(), policy: { name: 'min_delta', min_delta: 2 } }), 422, 'validation_failed', ['policy.min_delta']);
    expectProblem(await train({ samples: validBatch(), policy: { name: 'any_improvement', min_accuracy: 1.5 } }), 422, 'validation_failed', [
      'policy.min_accuracy',
    ]);
    expectProblem(await train({ samples: validBatch(), policy: { name: 'any_improvement', class: 'setosa' } }), 422, 'validation_failed', ['policy.class']);
  });

  it('policy parameters outside their bounds → 422: a request cannot switch a test off', async () => {
    for (const alpha of [1e-300, 0, 0.0009, 0.5, 1]) {
      expectProblem(await train({ samples: validBatch(), policy: { name: 'non_inferior', alpha } }), 422, 'validation_failed', ['policy.alpha']);
      expectProblem(await train({ samples: validBatch(), policy: { name: 'significant', alpha } }), 422, 'validation_failed', ['policy.alpha']);
    }
    expectProblem(await train({ samples: validBatch(), policy: { name: 'min_delta', min_delta: 0.9 } }), 422, 'validation_failed', ['policy.min_delta']);
    expectProblem(await train({ samples: validBatch(), policy: { name: 'per_class_f1', class: 0, min_support: 5000 } }), 422, 'validation_failed', ['policy.min_support']);
  });

  it('per_class_f1 with an unknown class (name or index) → 422 naming policy.class', async () => {
    for (const cls of ['daisy', 3, 99]) {
      const r = await train({ samples: validBatch(), policy: { name: 'per_class_f1', class: cls } });
      expectProblem(r, 422, 'validation_failed', ['policy.class']);
      expect(r.body.errors[0]).toMatchObject({ pointer: '/policy/class', code: 'unknown_class' });
    }
    expectProblem(await train({ samples: validBatch(), policy: { name: 'per_class_f1' } }), 422, 'validation_failed', ['policy.class']);
  });

  it('retrain_from_scratch with one class → 422 before queuing', async () => {
    const oneClass = samples.slice(0, 20); // all setosa
    const r = await train({ samples: oneClass, retrain_from_scratch: true });
    expectProblem(r, 422, 'validation_failed', ['samples']);
    expect(r.body.errors[0].code).toBe('insufficient_classes');
    expect(r.headers.get('location')).toBeNull();
    expect(await queuedJobIds()).toEqual([]);
  });

  it('a malformed Idempotency-Key → 400 before queuing', async () => {
    expectProblem(await train({ samples: validBatch() }, { 'idempotency-key': 'has space' }), 400, 'bad_request');
    expectProblem(await train({ samples: validBatch() }, { 'idempotency-key': 'k'.repeat(201) }), 400, 'bad_request');
  });

  it('wrong content type, malformed JSON, NaN, 1e400 and arrays on /train', async () => {
    expectProblem(await call('POST', '/train', { raw: JSON.stringify({ samples: validBatch() }), contentType: 'text/plain' }), 415, 'unsupported_media_type');
    expectProblem(await call('POST', '/train', { raw: '{"samples": [' }), 400, 'malformed_json');
    const nan = JSON.stringify({ samples: validBatch() }).replace('"sepal_length":5.1', '"sepal_length":NaN');
    expect(nan).toContain('NaN');
    expectProblem(await call('POST', '/train', { raw: nan }), 400, 'malformed_json');
    const inf = JSON.stringify({ samples: validBatch() }).replace('"sepal_length":5.1', '"sepal_length":1e400');
    expectProblem(await call('POST', '/train', { raw: inf }), 422, 'validation_failed', ['samples[0].sepal_length']);
    expectProblem(await call('POST', '/train', { json: validBatch() }), 422, 'validation_failed', ['']);
  });

  it('none of the refused requests queued a job', async () => {
    expect(await queuedJobIds()).toEqual([]);
  });
});

describe('routes and resources that do not exist', () => {
  it('unknown route → 404 problem+json', async () => {
    expectProblem(await call('GET', '/nope'), 404, 'not_found');
    expectProblem(await call('GET', '/predict'), 404, 'not_found'); // wrong method on a known path
    expectProblem(await call('POST', '/model/info', { json: {} }), 404, 'not_found');
    expectProblem(await call('DELETE', '/models/iris/nope'), 404, 'not_found');
  });

  it('a problem carries the request id; a client X-Request-Id is echoed when well-formed and replaced otherwise', async () => {
    const given = await call('GET', '/nope', { headers: { 'x-request-id': 'client-id-1' } });
    expect(given.headers.get('x-request-id')).toBe('client-id-1');
    expect(given.body.request_id).toBe('client-id-1');
    const bad = await call('GET', '/nope', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(bad.body.request_id).toBe(bad.headers.get('x-request-id'));
    expect(bad.body.instance).toBe('/nope');
  });

  it('unknown job id → 404 problem+json', async () => {
    for (const id of ['iris.does-not-exist', 'no-model-part', 'daisy.x', '__proto__.x', 'iris.', encodeURIComponent('iris.<script>')]) {
      expectProblem(await call('GET', `/jobs/${id}`), 404, 'not_found');
    }
  });

  it('no answer of this file was a 500, and no body carried a stack trace', () => {
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.filter((r) => r.status >= 500).map((r) => `${r.status} ${String(r.body?.instance)}`)).toEqual([]);
    for (const r of seen) expect(r.text).not.toMatch(STACK);
  });
});
