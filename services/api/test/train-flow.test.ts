/**
 * The training flow end to end: API + a real Trainer on the shared Redis (unique prefix),
 * artifacts in a temp dir. The API's stat poll is set to a minute, so every hot reload seen
 * here comes through the trainer's pub/sub announcement.
 */
import { modelEventsChannel, trainQueueName } from '@ct/queue';
import { AcceptedJobs, ModelStore, type HistoryEntry } from '@ct/registry';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Trainer } from '../../trainer/src/trainer';
import {
  cleanupRedis,
  eventually,
  irisSamples,
  makeTempDir,
  removeDir,
  SETOSA,
  TEST_REDIS,
  TEST_REDIS_URL,
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
let redis: IORedis;
let bootstrapVersion: string;
/** Result of the first (activated) job: the training state every later job starts from until another activation. */
let firstResult: any;

const all = irisSamples();
/** 7 rows of each class (21 samples): activated under any_improvement with the seeded fit. */
const GOOD_BATCH: IrisSample[] = all.filter((_, i) => i % 50 < 7);
/** A batch of `n` real rows starting at `offset`, spread over the three classes. */
const batchOf = (n: number, offset = 0): IrisSample[] => Array.from({ length: n }, (_, i) => all[(offset + i * 37) % all.length] as IrisSample);

const STATE_RANK = { queued: 0, running: 1, completed: 2, failed: 2 } as const;
type JobState = keyof typeof STATE_RANK;

async function predictVersion(): Promise<string> {
  const r = await api.client.post('/predict', { json: SETOSA });
  expect(r.status).toBe(200);
  return r.body.model_version as string;
}

/**
 * Polls GET /jobs/:id until the job finishes; returns the last view and every state seen. An
 * answer other than 200 fails the test at once (not after the deadline).
 */
async function waitJob(id: string, timeoutMs = 30_000): Promise<{ view: any; states: JobState[] }> {
  const states: JobState[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api.client.get(`/jobs/${encodeURIComponent(id)}`);
    expect({ status: r.status, body: r.text.slice(0, 300) }).toEqual({ status: 200, body: expect.any(String) });
    states.push(r.body.state);
    if (r.body.state === 'completed' || r.body.state === 'failed') return { view: r.body, states };
    if (Date.now() > deadline) throw new Error(`job ${id} not finished within ${timeoutMs} ms (states seen: ${states.join(', ')})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function history(): Promise<HistoryEntry[]> {
  return (await new ModelStore(dataDir, irisSpec.name).readHistory()).entries;
}

async function jobCount(): Promise<number> {
  const counts = await queue.getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function expectJobAccepted(r: HttpResponse, status = 202): string {
  expect({ status: r.status, body: r.text.slice(0, 300) }).toEqual({ status, body: expect.any(String) });
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  const id = r.body.job_id as string;
  expect(id).toMatch(/^iris\./);
  expect(r.headers.get('location')).toBe(`/jobs/${encodeURIComponent(id)}`);
  expect(r.body.status_url).toBe(`/jobs/${encodeURIComponent(id)}`);
  return id;
}

beforeAll(async () => {
  dataDir = await makeTempDir();
  redis = new IORedis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  queue = new Queue(trainQueueName(irisSpec.name), { connection: TEST_REDIS, prefix });
  trainer = await startTrainer({ dataDir, prefix });
  await eventually(() => existsSync(join(dataDir, 'models', 'iris', 'model_active.json')), 30_000, 'bootstrap');
  api = await startApi({ dataDir, prefix, pollIntervalMs: 60_000 });
  // The activation subscriber must be listening before the first job activates anything.
  await eventually(async () => {
    const [, n] = (await redis.pubsub('NUMSUB', modelEventsChannel(prefix))) as [string, number];
    return Number(n) >= 1;
  }, 10_000, 'api subscribed to activations');
  const health = await eventually(async () => {
    const r = await api.client.get('/health');
    return r.body?.status === 'ok' ? r.body : undefined;
  }, 10_000, 'api healthy');
  bootstrapVersion = health.model_version;
  expect(bootstrapVersion).toMatch(/^v1\.0-[0-9a-f]{6}$/);
});

afterAll(async () => {
  await api?.close();
  await trainer?.close();
  await queue?.close();
  redis?.disconnect();
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

describe('POST /train and GET /jobs/:id', () => {
  it('answers 202 with a job id and Location; the job goes queued/running → completed with the full result; the API hot-reloads it', async () => {
    expect(await predictVersion()).toBe(bootstrapVersion);
    const r = await api.client.post('/train', { json: { samples: GOOD_BATCH }, headers: { 'x-request-id': 'flow-req-1' } });
    const id = expectJobAccepted(r);
    expect(r.headers.get('x-request-id')).toBe('flow-req-1');
    expect(r.headers.get('preference-applied')).toBeNull();
    expect(r.body).toMatchObject({ job_id: id, model: 'iris', kind: 'train', error: null });
    expect(['queued', 'running', 'completed']).toContain(r.body.state);
    expect(new Date(r.body.created_at).toISOString()).toBe(r.body.created_at);

    const { view, states } = await waitJob(id);
    // States only move forward, through the documented names.
    for (const s of states) expect(['queued', 'running', 'completed']).toContain(s);
    states.forEach((s, i) => i > 0 && expect(STATE_RANK[s]).toBeGreaterThanOrEqual(STATE_RANK[states[i - 1] as JobState]));
    expect(view).toMatchObject({ job_id: id, state: 'completed', error: null, attempts_made: 1 });
    expect(view.started_at).not.toBeNull();
    expect(view.finished_at).not.toBeNull();
    expect(Date.parse(view.finished_at)).toBeGreaterThanOrEqual(Date.parse(view.started_at));

    const res = view.result;
    for (const field of [
      'status',
      'model_version',
      'accuracy_new',
      'accuracy_previous',
      'model_updated',
      'message',
      'policy',
      'reason',
      'violations',
      'challenger',
      'champion',
      'paired',
      'n_training_samples',
      'eval_set_size',
      'duration_ms',
    ]) {
      expect(res).toHaveProperty(field);
    }
    // Seeded fit: this batch is activated (equal or better accuracy on the shared eval set).
    expect(res).toMatchObject({ status: 'activated', model_updated: true, model: 'iris', policy: { name: 'any_improvement' }, violations: [] });
    expect(res.model_version).toMatch(/^v2\.0-[0-9a-f]{6}$/);
    expect(res.active_version).toBe(res.model_version);
    expect(typeof res.message).toBe('string');
    expect(res.message).toContain(res.model_version);
    expect(typeof res.reason).toBe('string');
    expect(res.reason.length).toBeGreaterThan(0);
    expect(res.duration_ms).toBeGreaterThanOrEqual(0);
    // Champion and challenger are scored on the same evaluation set.
    expect(res.accuracy_new).toBe(res.challenger.accuracy);
    expect(res.accuracy_previous).toBe(res.champion.accuracy);
    expect(res.accuracy_new).toBeGreaterThanOrEqual(res.accuracy_previous);
    expect(res.n_batch_samples).toBe(GOOD_BATCH.length);
    // A batch of >= 10 holds out a 20 % slice, which judges nothing now: both models were
    // scored on the 30 trusted rows. The slice joins the growing rows once this batch is activated.
    expect(res.batch_holdout).toBeGreaterThan(0);
    expect(res.eval_set_size).toBe(30);
    expect(res.trusted).toMatchObject({ n: 30 });
    expect(res.growing).toBeNull();
    expect(res.guardrails).toEqual(irisSpec.guardrails);
    expect(res.n_training_samples).toBe(120 + GOOD_BATCH.length - res.batch_holdout);
    for (const score of [res.challenger, res.champion]) {
      expect(score.n).toBe(res.eval_set_size);
      expect(score.per_class.map((c: { class_name: string }) => c.class_name)).toEqual([...irisSpec.target.classes]);
      expect(score.per_class.map((c: { support: number }) => c.support).reduce((a: number, b: number) => a + b, 0)).toBe(res.eval_set_size);
      for (const c of score.per_class) {
        expect(c.f1).toBeGreaterThanOrEqual(0);
        expect(c.f1).toBeLessThanOrEqual(1);
        expect(c.f1_ci).toEqual({ low: expect.any(Number), high: expect.any(Number) });
      }
      expect(score.confusion_matrix).toHaveLength(3);
      for (const row of score.confusion_matrix) expect(row).toHaveLength(3);
      const total = score.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0);
      expect(total).toBe(res.eval_set_size);
      const diagonal = score.confusion_matrix.reduce((a: number, row: number[], i: number) => a + (row[i] as number), 0);
      expect(diagonal).toBe(score.correct);
      expect(score.accuracy).toBeCloseTo(score.correct / score.n, 10);
    }
    // The paired comparison covers every evaluation row once.
    const p = res.paired;
    expect(p.both_correct + p.only_champion_correct + p.only_challenger_correct + p.both_wrong).toBe(res.eval_set_size);
    expect(p.both_correct + p.only_challenger_correct).toBe(res.challenger.correct);
    expect(p.both_correct + p.only_champion_correct).toBe(res.champion.correct);
    expect(p.mcnemar_p_value).toBeGreaterThanOrEqual(0);
    expect(p.mcnemar_p_value).toBeLessThanOrEqual(1);

    firstResult = res;

    // Hot reload through pub/sub (the stat poll is a minute away).
    await eventually(async () => (await predictVersion()) === res.model_version, 10_000, 'API serves the new version');
    const health = await api.client.get('/health');
    expect(health.body).toMatchObject({ status: 'ok', model_version: res.model_version, redis: { reachable: true } });

    // The request id went into the job and its history entry.
    const entry = (await history()).find((e) => e.job_id === id);
    expect(entry).toMatchObject({ request_id: 'flow-req-1', status: 'activated', version: res.model_version, active_before: bootstrapVersion });
  });

  it('Prefer: wait=20 answers 200 with the finished job and Preference-Applied; a rejection is data', async () => {
    const before = await predictVersion();
    const r = await api.client.post('/train', {
      json: { samples: batchOf(12), policy: { name: 'min_delta', min_delta: 0.5 } },
      headers: { prefer: 'wait=20' },
    });
    const id = expectJobAccepted(r, 200);
    expect(r.headers.get('preference-applied')).toBe('wait=20');
    expect(r.body).toMatchObject({ job_id: id, state: 'completed' });
    const res = r.body.result;
    expect(res).toMatchObject({ status: 'rejected', model_updated: false, active_version: before, policy: { name: 'min_delta', min_delta: 0.5 } });
    expect(res.violations.map((v: { code: string }) => v.code)).toContain('delta_below_minimum');
    for (const v of res.violations) expect(typeof v.message).toBe('string');
    expect(res.model_version).not.toBe(before);
    expect(await predictVersion()).toBe(before);
    // The rejected attempt is in the history, with its candidate version kept for audit.
    const entry = (await history()).find((e) => e.job_id === id);
    expect(entry).toMatchObject({ status: 'rejected', version: res.model_version, active_after: before });
    expect(existsSync(join(dataDir, 'models', 'iris', 'versions', res.model_version, 'model.json'))).toBe(true);
    expect(res.batch_holdout).toBeGreaterThan(0);
  });


  it('Prefer: wait=N on a job that does not finish in time answers 202 (queue paused meanwhile)', async () => {
    await queue.pause(); // BullMQ's global pause: the trainer takes no job until resumed
    try {
      const r = await api.client.post('/train', { json: { samples: batchOf(5, 3) }, headers: { prefer: 'wait=1' } });
      const id = expectJobAccepted(r, 202);
      expect(r.headers.get('preference-applied')).toBe('wait=1');
      expect(r.body).toMatchObject({ state: 'queued', result: null, started_at: null });
      await queue.resume();
      const { view } = await waitJob(id);
      expect(view.state).toBe('completed');
      // The batch rejected just before left no trace in the state this job started from:
      // its eval slice is not in the evaluation set, its rows are not in the training data.
      expect(view.result.eval_set_size).toBe(30 + firstResult.batch_holdout);
      expect(view.result.growing.n).toBe(firstResult.batch_holdout);
      expect(view.result.n_training_samples).toBe(firstResult.n_training_samples + 5);
    } finally {
      await queue.resume();
    }
  });
  it('an accepted job is on the volume before its 202 (queue, id, payload; never the token), until the trainer has finished it', async () => {
    const accepted = new AcceptedJobs(dataDir);
    await queue.pause();
    let id: string;
    try {
      const r = await api.client.post('/train', { json: { samples: batchOf(5, 20) }, headers: { 'x-request-id': 'flow-recorded' } });
      id = expectJobAccepted(r, 202);
      // Written before the answer: no waiting here.
      const { jobs } = await accepted.list();
      const record = jobs.find((j) => j.job_id === id);
      const job = await queue.getJob(id);
      expect(record).toMatchObject({ queue: 'train-iris', job_id: id, data: job?.data });
      expect(record?.data).toMatchObject({ kind: 'train', request_id: 'flow-recorded', actor: { name: 'env-admin', role: 'admin' } });
      const text = readFileSync(accepted.fileOf('train-iris', id), 'utf8');
      expect(text).not.toContain(api.client.token as string);
      expect(text.toLowerCase()).not.toContain('bearer');
      expect(text.toLowerCase()).not.toContain('authorization');
    } finally {
      await queue.resume();
    }
    await waitJob(id);
    await eventually(async () => !(await accepted.has('train-iris', id)), 5000, 'record removed once the job completed');
  });

  it('Prefer: wait above the 60 s cap is applied as wait=60', async () => {
    const r = await api.client.post('/train', { json: { samples: batchOf(5, 90) }, headers: { prefer: 'respond-async, wait=999' } });
    expectJobAccepted(r, 200);
    expect(r.headers.get('preference-applied')).toBe('wait=60');
  });
});

describe('Idempotency-Key', () => {
  it('same key and body → the same job, and no second job; same key, other body → 409', async () => {
    const key = `flow-${prefix}-a`;
    const body = { samples: batchOf(6, 11) };
    const first = await api.client.post('/train', { json: body, headers: { 'idempotency-key': key } });
    const id = expectJobAccepted(first);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const countAfterFirst = await jobCount();

    const second = await api.client.post('/train', { json: body, headers: { 'idempotency-key': key } });
    expect(expectJobAccepted(second)).toBe(id);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await jobCount()).toBe(countAfterFirst);

    const other = await api.client.post('/train', { json: { samples: batchOf(6, 12) }, headers: { 'idempotency-key': key } });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body).toMatchObject({ status: 409, code: 'idempotency_conflict' });
    expect(await jobCount()).toBe(countAfterFirst);

    // Replayed after it finished: the same finished job, at once with Prefer: wait.
    const { view } = await waitJob(id);
    const replay = await api.client.post('/train', { json: body, headers: { 'idempotency-key': key, prefer: 'wait=5' } });
    expect(expectJobAccepted(replay, 200)).toBe(id);
    expect(replay.body.result).toEqual(view.result);
    expect((await history()).filter((e) => e.job_id === id)).toHaveLength(1);
  });

  it('the key is scoped by model path: /models/iris/train is the same resource as /train', async () => {
    const key = `flow-${prefix}-b`;
    const body = { samples: batchOf(5, 40) };
    const a = await api.client.post('/train', { json: body, headers: { 'idempotency-key': key } });
    const b = await api.client.post('/models/iris/train', { json: body, headers: { 'idempotency-key': key } });
    expect(expectJobAccepted(b)).toBe(expectJobAccepted(a));
    await waitJob(a.body.job_id);
  });

  it('concurrent requests with one key and different bodies: one job, the other answer is 409', async () => {
    const key = `flow-${prefix}-race`;
    const countBefore = await jobCount();
    // Paused, so that the job's record is still there to look at.
    await queue.pause();
    let winner: HttpResponse;
    let statuses: number[];
    try {
      const [x, y] = await Promise.all([
        api.client.post('/train', { json: { samples: batchOf(5, 60) }, headers: { 'idempotency-key': key } }),
        api.client.post('/train', { json: { samples: batchOf(5, 61) }, headers: { 'idempotency-key': key } }),
      ]);
      expect(await jobCount()).toBe(countBefore + 1);
      statuses = [x.status, y.status].sort();
      winner = x.status === 202 ? x : y;
      // Whichever request wrote its record last, the record holds the job Redis holds, never the refused body.
      const record = (await new AcceptedJobs(dataDir).list()).jobs.find((j) => j.job_id === winner.body.job_id);
      expect(record?.data.body_hash).toBe((await queue.getJob(winner.body.job_id))?.data.body_hash);
    } finally {
      await queue.resume();
    }
    await waitJob(winner.body.job_id);
    expect(statuses).toEqual([202, 409]);
  });

  it('concurrent requests with one key and the same body share one job', async () => {
    const key = `flow-${prefix}-same`;
    const body = { samples: batchOf(5, 70) };
    const countBefore = await jobCount();
    const rs = await Promise.all([1, 2, 3].map(() => api.client.post('/train', { json: body, headers: { 'idempotency-key': key } })));
    const ids = new Set(rs.map((r) => expectJobAccepted(r)));
    expect(ids.size).toBe(1);
    expect(await jobCount()).toBe(countBefore + 1);
    await waitJob([...ids][0] as string);
    expect((await history()).filter((e) => e.job_id === [...ids][0])).toHaveLength(1);
  });
});

describe('GET /model/info', () => {
  it('has the active version, its accuracy and size, the algorithm and every attempt', async () => {
    const r = await api.client.get('/model/info');
    expect(r.status).toBe(200);
    const info = r.body;
    expect(info).toMatchObject({ model: 'iris', algorithm: irisSpec.algorithm, classes: [...irisSpec.target.classes] });
    expect(info.active_version).toBe(await predictVersion());
    expect(Date.parse(info.trained_at)).not.toBeNaN();
    expect(typeof info.accuracy).toBe('number');
    expect(info.n_training_samples).toBeGreaterThanOrEqual(120);
    const entries = await history();
    expect(info.history).toHaveLength(entries.length);
    expect(info.history.map((h: { job_id: string }) => h.job_id)).toEqual(entries.map((e) => e.job_id));
    expect(info.history[0]).toMatchObject({ version: bootstrapVersion, source: 'bootstrap', activated: true, policy: { name: 'bootstrap' }, eval_set_size: 30 });
    for (const h of info.history) {
      for (const f of ['version', 'trained_at', 'accuracy', 'n_training_samples', 'activated', 'status', 'reason', 'violations', 'policy']) {
        expect(h).toHaveProperty(f);
      }
    }
    expect(info.history.some((h: { status: string }) => h.status === 'rejected')).toBe(true);
    // Same answer under the per-model path.
    const again = await api.client.get('/models/iris/model/info');
    expect(again.body.active_version).toBe(info.active_version);
  });
});

describe('many concurrent submissions', () => {
  it('8 POST /train at once: all complete, one at a time, and all are in the history', async () => {
    const before = await history();
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => api.client.post('/train', { json: { samples: batchOf(5 + i, 100 + i) }, headers: { 'x-request-id': `burst-${i}` } })),
    );
    const ids = rs.map((r) => expectJobAccepted(r));
    expect(new Set(ids).size).toBe(8);
    const views = await Promise.all(ids.map(async (id) => (await waitJob(id, 60_000)).view));
    for (const v of views) expect(v.state).toBe('completed');

    // One at a time: no two jobs were running at once.
    const spans = views.map((v) => ({ start: Date.parse(v.started_at), end: Date.parse(v.finished_at) })).sort((a, b) => a.start - b.start);
    spans.forEach((s, i) => i > 0 && expect(s.start).toBeGreaterThanOrEqual((spans[i - 1] as { end: number }).end));

    // Nothing lost, nothing doubled, and each attempt was gated against the previous one's outcome.
    const after = await history();
    expect(after).toHaveLength(before.length + 8);
    expect(after.slice(0, before.length)).toEqual(before);
    const added = after.slice(before.length);
    expect(added.map((e) => e.job_id).sort()).toEqual([...ids].sort());
    added.forEach((e, i) => {
      const prev = i === 0 ? before.at(-1) : added[i - 1];
      expect(e.active_before).toBe(prev?.active_after);
    });
    const entryOf = new Map(added.map((e) => [e.job_id, e]));
    views.forEach((v) => expect(entryOf.get(v.job_id)?.version).toBe(v.result.model_version));
    // Whatever was last activated is what the API serves.
    await eventually(async () => (await predictVersion()) === added.at(-1)?.active_after, 10_000, 'API serves the last active version');
  });
});

describe('DELETE /model/history', () => {
  it('queues a reset: the bootstrap version is active again, hot-reloaded, and the history keeps every attempt plus the reset', async () => {
    const before = await history();
    const activeBefore = before.at(-1)?.active_after;
    expect(activeBefore).not.toBe(bootstrapVersion); // the reset must change something here
    const r = await api.client.delete('/model/history');
    const id = expectJobAccepted(r);
    expect(r.body.kind).toBe('reset');
    const { view } = await waitJob(id);
    expect(view.state).toBe('completed');
    expect(view.result).toMatchObject({ status: 'activated', model_version: bootstrapVersion, active_version: bootstrapVersion, model_updated: true, violations: [] });
    expect(view.result.message).toMatch(/reset/i);

    await eventually(async () => (await predictVersion()) === bootstrapVersion, 10_000, 'API serves the bootstrap version');
    const info = (await api.client.get('/model/info')).body;
    expect(info.active_version).toBe(bootstrapVersion);
    expect(info.n_training_samples).toBe(120);
    expect(info.history).toHaveLength(before.length + 1);
    expect(info.history.slice(0, before.length).map((h: { job_id: string }) => h.job_id)).toEqual(before.map((e) => e.job_id));
    expect(info.history.at(-1)).toMatchObject({ source: 'reset', job_id: id, version: bootstrapVersion, active_after: bootstrapVersion, activated: true });
    const after = await history();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.at(-1)?.active_before).toBe(activeBefore);

    // The next job starts from the bootstrap's training state (120 rows, 30 eval rows).
    const next = await api.client.post('/train', { json: { samples: batchOf(5, 7) }, headers: { prefer: 'wait=20' } });
    expectJobAccepted(next, 200);
    expect(next.body.result).toMatchObject({ n_training_samples: 125, eval_set_size: 30, batch_holdout: 0, accuracy_previous: info.history[0].accuracy });
  });
});

describe('documentation', () => {
  it('/openapi.json is an OpenAPI 3.1 document with the paths', async () => {
    const r = await api.client.get('/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    for (const [path, method] of [
      ['/health', 'get'],
      ['/predict', 'post'],
      ['/train', 'post'],
      ['/jobs/{id}', 'get'],
      ['/model/info', 'get'],
      ['/model/history', 'delete'],
    ] as const) {
      expect(doc.paths[path]?.[method]).toBeDefined();
      expect(Object.keys(doc.paths[path][method].responses ?? {}).length).toBeGreaterThan(0);
    }
    expect(doc.paths['/train'].post.requestBody.content['application/json'].schema).toBeDefined();
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(expect.arrayContaining(['Problem', 'Job']));
    // Every $ref points at an existing component.
    const refs = [...r.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => decodeURIComponent(m[1] as string));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(doc.components.schemas).toHaveProperty([ref]);
  });

  it('/docs serves the Swagger UI as HTML', async () => {
    const r = await api.client.get('/docs/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.text).toMatch(/swagger/i);
    const bare = await api.client.get('/docs'); // redirected to /docs/
    expect(bare.status).toBe(200);
    expect(bare.headers.get('content-type')).toMatch(/^text\/html/);
  });
});

describe('prediction log', () => {
  it('every served prediction is a JSON line with its id, model, version, input and output', async () => {
    const r = await api.client.post('/predict', { json: { records: [SETOSA, SETOSA] } });
    expect(r.status).toBe(200);
    await api.predictions.close(); // flushes; last test of the file
    const text = readFileSync(join(dataDir, 'results', 'predictions.log'), 'utf8');
    const bad = text
      .trim()
      .split('\n')
      .filter((l) => {
        try {
          JSON.parse(l);
          return false;
        } catch {
          return true;
        }
      });
    expect(bad.map((l) => l.slice(0, 40))).toEqual([]);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(5);
    // A batch's line carries its first row's id (each row's id is in the output).
    const last = lines.find((l) => l.prediction_id === r.body.predictions[0].prediction_id);
    expect(last).toMatchObject({ model: 'iris', version: r.body.model_version, input: { records: [SETOSA, SETOSA] } });
    expect(last.output.predictions).toHaveLength(2);
    expect(Date.parse(last.time)).not.toBeNaN();
  });
});
