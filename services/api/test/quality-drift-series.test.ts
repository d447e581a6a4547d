/**
 * Live accuracy and drift over time, served by the API: the quality series sums the per-minute
 * tallies that predictions and feedback through the API wrote (and tallies written at known
 * minutes) into buckets, each with its accuracy and Wilson interval; the drift history holds
 * the points a real trainer records once a minute with no endpoint subscribed to
 * `drift.alert`. Real Redis under a unique prefix per describe.
 */
import { wilsonInterval } from '@ct/core';
import pino from 'pino';
import { feedbackKeys, minuteOf } from '@ct/queue';
import { qualitySeriesSchema } from '../src/feedback/quality-series';
import { driftHistorySchema } from '../src/routes/drift-history';
import { eventually, irisSamples, startApis, startStack, TEST_TOKENS, type LoneApis, type Stack } from './helpers/harness';

const samples = irisSamples();
const features = ({ label: _l, ...x }: (typeof samples)[number]) => x;
type Point = { t: string; predictions: number; n: number; correct: number; accuracy: number | null; interval: { low: number; high: number } | null };
const total = (points: Point[], f: 'predictions' | 'n' | 'correct') => points.reduce((a, p) => a + p[f], 0);

describe('live accuracy over time', () => {
  let lone: LoneApis;

  beforeAll(async () => {
    lone = await startApis({ bootstrap: true });
  }, 60_000);
  afterAll(() => lone.close());

  it('counts the predictions and labels given through the API in their buckets, each with its accuracy and Wilson interval', async () => {
    const { client } = lone.api;
    const rows = samples.filter((_, i) => i % 12 === 0).slice(0, 12);
    const predicted = await client.post('/predict', { json: { records: rows.map(features) }, token: null });
    expect(predicted.status).toBe(200);
    await lone.api.predictions.flush();
    // 9 labels say the predicted class, 3 say another one: 9 right of 12, whatever the model got right.
    const preds = predicted.body.predictions as { prediction_id: string; prediction: number }[];
    const items = preds.map((p, i) => ({ prediction_id: p.prediction_id, label: i < 9 ? p.prediction : (p.prediction + 1) % 3 }));
    expect((await client.post('/models/iris/feedback', { json: { items }, token: TEST_TOKENS.client })).body).toMatchObject({ recorded: 12 });

    const r = await client.get('/models/iris/quality/series?window_s=3600&step_s=3600', { token: TEST_TOKENS.client });
    expect(r.status).toBe(200);
    const series = qualitySeriesSchema.parse(r.body);
    expect(series).toMatchObject({ model: 'iris', step_s: 3600, window: { seconds: 3600 } });
    const [v] = series.versions;
    expect(v).toMatchObject({ version: predicted.body.model_version, active: true });
    const points = v?.points ?? [];
    // The window rarely starts on an hour: its first bucket is a partial one.
    expect(points.length).toBeGreaterThanOrEqual(1);
    expect(points.length).toBeLessThanOrEqual(2);
    expect([total(points, 'predictions'), total(points, 'n'), total(points, 'correct')]).toEqual([12, 12, 9]);
    for (const p of points) {
      expect(Date.parse(p.t) % 3_600_000).toBe(0);
      expect(p).toEqual({ ...p, accuracy: p.n > 0 ? p.correct / p.n : null, interval: p.n > 0 ? wilsonInterval(p.correct, p.n) : null });
    }
    // The same numbers as the live quality of the window.
    const quality = (await client.get('/models/iris/quality?window_s=3600')).body.versions[0];
    expect([quality.predictions, quality.feedback.n, quality.feedback.correct]).toEqual([12, 12, 9]);

    // By default: the quality window (CT_QUALITY_WINDOW_S, an hour here) in minutes.
    const minutes = (await client.get('/models/iris/quality/series')).body;
    expect(minutes.step_s).toBe(60);
    expect(minutes.versions[0].points.length).toBeGreaterThanOrEqual(60);
    expect(minutes.versions[0].points.length).toBeLessThanOrEqual(61);
    expect(total(minutes.versions[0].points, 'n')).toBe(12);
  });

  it('sums the tallies of known minutes into buckets aligned on the step', async () => {
    const redis = lone.api.queues.redis;
    const keys = feedbackKeys(lone.prefix);
    const version = 'v0.9-aaaaaa';
    const now = minuteOf(Date.now());
    // Two minutes of one 10-minute bucket, and one of the bucket before: 50 minutes ago, well inside the hour.
    const bucket = Math.floor((now - 50) / 10) * 10;
    const tallies: [number, Record<string, number>][] = [
      [bucket + 1, { 'pred:0': 5, 'pred:2': 3, n: 4, correct: 3 }],
      [bucket + 7, { 'pred:1': 2, n: 6, correct: 6 }],
      [bucket - 1, { 'pred:0': 1, n: 1, correct: 0 }],
    ];
    for (const [minute, fields] of tallies) await redis.hset(keys.tally('iris', version, minute), fields);
    await redis.zadd(keys.versions('iris'), bucket + 7, version);
    const series = qualitySeriesSchema.parse((await lone.api.client.get('/models/iris/quality/series?window_s=3600&step_s=600')).body);
    const points = series.versions.find((v) => v.version === version)?.points ?? [];
    expect(points.length).toBeLessThanOrEqual(Math.ceil(3600 / 600) + 1);
    const at = (m: number) => points.find((p) => p.t === new Date(m * 60_000).toISOString());
    expect(at(bucket)).toEqual({ t: new Date(bucket * 60_000).toISOString(), predictions: 10, n: 10, correct: 9, accuracy: 0.9, interval: wilsonInterval(9, 10) });
    expect(at(bucket - 10)).toMatchObject({ predictions: 1, n: 1, correct: 0, accuracy: 0 });
    expect(total(points, 'n')).toBe(11);
    expect(points.filter((p) => p.n === 0).every((p) => p.accuracy === null && p.interval === null)).toBe(true);
  });

  it('refuses more than 1,440 buckets, a step that is not whole minutes, an unknown parameter; needs a read token', async () => {
    const { client } = lone.api;
    const many = await client.get('/models/iris/quality/series?window_s=604800&step_s=60');
    expect(many.status).toBe(422);
    expect(many.body.errors[0]).toMatchObject({ field: 'step_s', code: 'too_many_points' });
    expect((await client.get('/models/iris/quality/series?window_s=604800&step_s=600')).status).toBe(200);
    expect((await client.get('/models/iris/quality/series?step_s=90')).status).toBe(422);
    expect((await client.get('/models/iris/quality/series?points=5')).status).toBe(422);
    expect((await client.get('/models/iris/quality/series', { token: null })).status).toBe(401);
    expect((await client.get('/models/nope/quality/series')).status).toBe(404);
  });
});

describe('drift over time', () => {
  let s: Stack;
  /** The trainer's log lines: its skipped drift checks show its automation passes going on. */
  const lines: { msg: string; model?: string }[] = [];
  const skipped = () => lines.filter((l) => l.msg.startsWith('drift check skipped') && l.model === 'iris').length;

  beforeAll(async () => {
    s = await startStack({ trainerLogger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) }) });
  }, 60_000);
  afterAll(() => s?.close());

  it('keeps the points a trainer records, at most one a minute, with no endpoint subscribed to drift.alert', async () => {
    const { client } = s.api;
    expect((await client.get('/webhooks')).body.webhooks).toEqual([]);
    // Rows far from any iris flower: every feature drifts.
    const far = Array.from({ length: 60 }, (_, i) => ({ sepal_length: 15 + (i % 11), sepal_width: 15 + ((i * 3) % 11), petal_length: 15 + ((i * 7) % 11), petal_width: 15 + ((i * 5) % 11) }));
    const version = (await client.post('/predict', { json: { records: far }, token: null })).body.model_version as string;
    await s.api.predictions.flush();
    const history = async () => driftHistorySchema.parse((await client.get('/models/iris/drift/history', { token: TEST_TOKENS.client })).body);
    await eventually(async () => (await history()).points.length > 0, 20_000, 'a drift point recorded');
    // The trainer checks every 200 ms: five more passes add no point within the minute.
    const before = skipped();
    await eventually(() => skipped() >= before + 5, 20_000, 'five more drift checks');
    const { model, retention, points } = await history();
    expect({ model, retention }).toEqual({ model: 'iris', retention: { points: 1440, seconds: 86_400 } });
    expect(new Set(points.map((p) => minuteOf(Date.parse(p.t)))).size).toBe(points.length);
    expect(points[0]).toEqual({ t: expect.any(String), version, share: 1, drifted: true, drifted_features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], current_rows: 60 });

    const first = points[0]?.t as string;
    expect((await client.get(`/models/iris/drift/history?since=${encodeURIComponent(first)}`)).body.points[0]).toEqual(points[0]);
    expect((await client.get(`/models/iris/drift/history?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).body.points).toEqual([]);
    expect((await client.get('/models/iris/drift/history?since=yesterday')).status).toBe(422);
    expect((await client.get('/models/iris/drift/history', { token: null })).status).toBe(401);
  });
});
