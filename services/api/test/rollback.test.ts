import { irisSamples, eventually, SETOSA, startStack, type Stack } from './helpers/harness';

// Rollback (issue 8): a job on the model's queue that activates a kept version, recorded in the
// history; the next incremental job starts from that version's training rows.

const samples = irisSamples();
const rows = (n: number, offset: number) => Array.from({ length: n }, (_, i) => samples[(offset + i * 7) % samples.length]);
let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => s?.close());

const train = async (n: number, offset: number) => (await s.api.client.post('/train', { json: { samples: rows(n, offset) }, headers: { prefer: 'wait=20' } })).body;
const rollback = (body: unknown) => s.api.client.post('/models/iris/rollback', { json: body, headers: { prefer: 'wait=20' } });
const served = async () => (await s.api.client.post('/predict', { json: SETOSA })).body.model_version as string;

it('activates a kept version; the next job starts from its training rows; the history records it with its reason', async () => {
  const boot = await served();
  const a = await train(30, 0);
  const b = await train(30, 40);
  expect([a.result.status, b.result.status]).toEqual(['activated', 'activated']);
  const r = await rollback({ version: a.result.model_version, reason: 'b misbehaves in production' });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ kind: 'rollback', state: 'completed', result: { status: 'activated', active_version: a.result.model_version, model_updated: true } });
  await eventually(async () => (await served()) === a.result.model_version, 10_000, 'rolled-back version served');
  const entries = (await s.store.readHistory()).entries;
  expect(entries.at(-1)).toMatchObject({ source: 'rollback', version: a.result.model_version, active_before: b.result.model_version, active_after: a.result.model_version });
  expect(entries.at(-1)?.result.reason).toBe(`rollback to ${a.result.model_version} on request: b misbehaves in production`);
  // The next incremental job builds on a's rows, not b's.
  const c = await train(5, 90);
  expect(c.result.n_training_samples).toBe(a.result.n_training_samples + 5);
  expect(boot).toMatch(/^v1\.0-/);
});

it('an already active version is a no-op; an unknown version is a 404; a malformed one a 422', async () => {
  const active = (await s.store.committedActive()) as string;
  const before = (await s.store.readHistory()).entries.length;
  const same = await rollback({ version: active });
  expect(same.body.result).toMatchObject({ status: 'activated', model_updated: false, active_version: active });
  expect((await s.store.readHistory()).entries.length).toBe(before);
  const unknown = await rollback({ version: 'v99.0-abcdef' });
  expect(unknown.status).toBe(404);
  expect(unknown.body.code).toBe('not_found');
  expect((await rollback({ version: 'latest' })).status).toBe(422);
  expect((await rollback({ version: active, extra: 1 })).status).toBe(422);
});

it('a rollback racing a training job: both recorded, one at a time', async () => {
  const boot = (await s.store.readHistory()).entries[0]?.version as string;
  const [t, r] = await Promise.all([train(30, 7), rollback({ version: boot })]);
  expect(t.state).toBe('completed');
  expect(r.body.state).toBe('completed');
  const entries = (await s.store.readHistory()).entries;
  const mine = entries.filter((e) => e.job_id === t.job_id || e.job_id === r.body.job_id);
  expect(mine).toHaveLength(2);
  // Serialized: the later of the two was decided against what the earlier left live.
  const [first, second] = mine as [(typeof mine)[number], (typeof mine)[number]];
  expect(second.seq).toBe(first.seq + 1);
  expect(second.active_before).toBe(first.active_after);
});
