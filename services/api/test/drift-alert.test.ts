/**
 * `drift.alert` end to end: two real trainers and a real API on one volume and one Redis
 * prefix, a local receiver subscribed to the event. Inputs far from the training rows, sent
 * to `/predict`, make the trainers' automation pass emit one alert (not one per trainer),
 * signed per Standard Webhooks, with the drift's numbers; no second one while the drift
 * stays; a new one when it cleared and came back, and when another version became active
 * and drifted. Both trainers log each check (debug), so the test waits for checks, not time.
 */
import { feedbackKeys, RECENT_INPUTS } from '@ct/queue';
import { ModelStore } from '@ct/registry';
import pino, { type Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { Trainer } from '../../trainer/src/trainer';
import { cleanupRedis, eventually, irisSamples, makeTempDir, removeDir, SETOSA, startApi, startTrainer, uniquePrefix, type ApiHandle, type IrisRow, type IrisSample } from './helpers/harness';
import { Receiver, swHeaders, type Received } from './helpers/webhook-receiver';

/** What the trainers logged, as parsed lines, each tagged with its trainer. */
const lines: { trainer: string; msg: string; model?: string; drifted?: boolean; version?: string }[] = [];
const loggerOf = (trainer: string): Logger =>
  pino({ level: 'debug', base: { trainer } }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });

let dataDir: string;
let prefix: string;
let api: ApiHandle;
let trainers: Trainer[] = [];
let secret: string;
const receiver = new Receiver();

beforeAll(async () => {
  dataDir = await makeTempDir();
  prefix = uniquePrefix();
  await receiver.start();
  for (const name of ['a', 'b']) trainers.push(await startTrainer({ dataDir, prefix, logger: loggerOf(name), webhookDelivery: { backoff: { baseMs: 20, maxMs: 100 }, timeoutMs: 5000 } }));
  api = await startApi({ dataDir, prefix, pollIntervalMs: 100, predictionLog: false });
  await eventually(async () => (await api.client.get('/health')).status === 200, 60_000, 'bootstrap served');
  const r = await api.client.post('/webhooks', { json: { url: `${receiver.url}/drift`, events: ['drift.alert'] } });
  expect(r.status).toBe(201);
  secret = r.body.secret;
}, 120_000);

afterAll(async () => {
  await api?.close();
  for (const t of trainers) await t.close();
  trainers = [];
  await receiver.close();
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

/** Rows far from any iris flower (every feature 15 to 25 cm): all four features drift. */
const far = (n: number): IrisRow[] => Array.from({ length: n }, (_, i) => ({ sepal_length: 15 + (i % 11), sepal_width: 15 + ((i * 3) % 11), petal_length: 15 + ((i * 7) % 11), petal_width: 15 + ((i * 5) % 11) }));

/** Sends `rows` to /predict in batches and waits until the prediction index has written them (drift reads them there). */
async function serve(rows: IrisRow[]): Promise<string> {
  let version = '';
  for (let i = 0; i < rows.length; i += 500) {
    const r = await api.client.post('/predict', { json: { records: rows.slice(i, i + 500) }, token: null });
    expect(r.status).toBe(200);
    version = r.body.model_version;
  }
  await api.predictions.flush();
  return version;
}

/** The active version's training rows as /predict records, repeated to fill the drift window: the current inputs look just like the reference. */
async function likeTraining(version: string): Promise<IrisRow[]> {
  const rows = await new ModelStore(dataDir, 'iris').trainingRows(version);
  const records = rows.x.map(([sepal_length, sepal_width, petal_length, petal_width]) => ({ sepal_length, sepal_width, petal_length, petal_width }) as IrisRow);
  return Array.from({ length: Math.ceil(RECENT_INPUTS / records.length) }, () => records).flat();
}

/** Resolves once both trainers have checked the model's drift `n` more times (their automation passes ran), drifted or not as said. */
async function checks(n: number, drifted: boolean, version: string): Promise<void> {
  const counted = (t: string) => lines.filter((l) => l.trainer === t && l.msg === 'drift checked' && l.model === 'iris' && l.version === version && l.drifted === drifted).length;
  const start = { a: counted('a'), b: counted('b') };
  await eventually(() => counted('a') >= start.a + n && counted('b') >= start.b + n, 20_000, `${n} more checks by each trainer (drifted: ${drifted})`);
}

const alerts = (): Received[] => receiver.at('/drift');
/** The alert's payload, verified against the endpoint's secret (throws if the signature is wrong). */
const verified = (r: Received): any => new Webhook(secret).verify(r.body, swHeaders(r));

it('emits one signed drift.alert with the numbers when the inputs drift, and none again while they stay drifted', async () => {
  const version = await serve(far(300));
  const got = await eventually(() => alerts()[0], 20_000, 'drift.alert delivered');
  const event = verified(got);
  expect(event).toMatchObject({ type: 'drift.alert', data: { model: 'iris', version, share: 1, drift_share: 0.5, features_tested: 4, features_drifted: 4, reference_rows: 120, current_rows: 300, episode: 1 } });
  expect(event.data.drifted_features).toHaveLength(4);
  for (const f of event.data.drifted_features) {
    expect(f).toMatchObject({ kind: 'numeric', test: 'ks', threshold: 0.05, reference_rows: 120, current_rows: 300 });
    expect(f.statistic).toBeGreaterThan(0.9);
    expect(f.p_value).toBeLessThan(0.05);
  }
  expect(got.headers['webhook-id']).toMatch(/^msg_/);
  // Both trainers keep checking; the drift stays (more far rows), and nothing more is sent.
  await serve(far(100));
  await checks(3, true, version);
  expect(alerts()).toHaveLength(1);
  expect(await api.queues.redis.hgetall(feedbackKeys(prefix).driftAlert('iris'))).toEqual({ version, episode: '1' });
}, 60_000);

it('is armed again when the drift clears: a new alert, with a new message id, when it comes back', async () => {
  const [first] = alerts() as [Received];
  const version = verified(first).data.version as string;
  await serve(await likeTraining(version));
  await eventually(async () => (await api.queues.redis.hget(feedbackKeys(prefix).driftAlert('iris'), 'version')) === null, 20_000, 'drift cleared');
  await checks(2, false, version);
  expect(alerts()).toHaveLength(1);

  await serve(far(600));
  const again = await eventually(() => alerts()[1], 20_000, 'second drift.alert delivered');
  expect(verified(again)).toMatchObject({ type: 'drift.alert', data: { model: 'iris', version, episode: 2, current_rows: RECENT_INPUTS } });
  expect(again.headers['webhook-id']).not.toBe(first.headers['webhook-id']);
  await checks(2, true, version);
  expect(alerts()).toHaveLength(2);
}, 60_000);

it('is armed again when another version becomes active: its drift is alerted too', async () => {
  const before = verified(alerts()[1] as Received).data.version as string;
  const batch: IrisSample[] = irisSamples().filter((_, i) => i % 50 < 7);
  const job = await api.client.post('/train', { json: { samples: batch }, headers: { prefer: 'wait=30' } });
  expect(job.status).toBe(200);
  expect(job.body.result.status).toBe('activated');
  const version = job.body.result.model_version as string;
  expect(version).not.toBe(before);
  await eventually(async () => (await api.client.post('/predict', { json: SETOSA, token: null })).body.model_version === version, 20_000, 'new version served');
  await serve(far(200));
  const third = await eventually(() => alerts()[2], 20_000, 'drift.alert of the new version delivered');
  expect(verified(third)).toMatchObject({ type: 'drift.alert', data: { model: 'iris', version, episode: 3 } });
  await checks(2, true, version);
  // One alert per transition, whichever trainer saw it first: three in all, three messages.
  expect(alerts()).toHaveLength(3);
  expect(new Set(alerts().map((r) => r.headers['webhook-id'])).size).toBe(3);
}, 90_000);
