/**
 * The prediction index on real Redis: what `record` buffers across versions, seconds and
 * minutes lands, after one flush, as one hash field per prediction, class counts per version
 * and minute, and each version's latest inputs, newest first.
 */
import { createRedisConnection, feedbackKeys, minuteOf } from '@ct/queue';
import { cleanupRedis, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import pino from 'pino';
import { newPredictionId } from '../src/feedback/prediction-id';
import { PredictionIndex } from '../src/feedback/prediction-index';
import { PredictionLookup } from '../src/feedback/prediction-lookup';

const prefix = uniquePrefix();
const redis = createRedisConnection(TEST_REDIS_URL, 'producer', 'prediction-index-test');
const keys = feedbackKeys(prefix);

// The index drops what it cannot send at once: the connection is ready before the test.
beforeAll(async () => {
  await redis.ping();
});
afterAll(async () => {
  await cleanupRedis(prefix);
  redis.disconnect();
});

test('one flush writes every recorded prediction, count and input, grouped by version and second', async () => {
  // A timer that never fires in the test: the flush is called by hand.
  const index = new PredictionIndex({ redis, prefix, retentionS: 3600, flushMs: 3_600_000, logger: pino({ level: 'silent' }) });
  // 59.5 s into a minute: the third second falls in the next minute.
  const t0 = 60_000 * Math.floor(Date.now() / 60_000) - 500;
  const sent: { id: string; v: string; x: (number | string | null)[]; y: number; t: number }[] = [];
  const send = (v: string, rows: (number | string | null)[][], ys: number[], t: number): void => {
    const ids = rows.map(() => newPredictionId(t));
    index.record(ids, 'iris', v, rows.map((x) => JSON.stringify(x)), Int32Array.from(ys), t);
    rows.forEach((x, i) => sent.push({ id: ids[i] as string, v, x, y: ys[i] as number, t }));
  };
  send('v1.0-aaaaaa', [[5.1, 3.5, 1.4, 0.2]], [0], t0);
  send('v1.0-aaaaaa', [[6.0, 2.9, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]], [1, 2], t0 + 100);
  send('v2.0-bbbbbb', [['Dream', null, 1]], [1], t0 + 200);
  send('v1.0-aaaaaa', [[4.9, 3.0, 1.4, 0.2]], [0], t0 + 1000);
  send('v1.0-aaaaaa', [[5.0, 3.4, 1.5, 0.2]], [0], t0 + 700);
  await index.flush();

  for (const p of sent) {
    const stored = await redis.hget(keys.predictions(Math.floor(p.t / 1000)), p.id);
    expect(JSON.parse(stored as string)).toEqual({ m: 'iris', v: p.v, x: p.x, y: p.y, t: p.t });
  }
  // Class counts per version and minute.
  const tally = async (v: string, t: number): Promise<Record<string, string>> => redis.hgetall(keys.tally('iris', v, minuteOf(t)));
  expect(await tally('v1.0-aaaaaa', t0)).toEqual({ 'pred:0': '1', 'pred:1': '1', 'pred:2': '1' });
  expect(await tally('v1.0-aaaaaa', t0 + 1000)).toEqual({ 'pred:0': '2' });
  expect(await tally('v2.0-bbbbbb', t0)).toEqual({ 'pred:1': '1' });
  expect(await redis.zrange(keys.versions('iris'), 0, -1)).toEqual(expect.arrayContaining(['v1.0-aaaaaa', 'v2.0-bbbbbb']));
  // Latest inputs, the last recorded first.
  expect((await redis.lrange(keys.inputs('iris', 'v1.0-aaaaaa'), 0, -1)).map((s) => JSON.parse(s) as unknown)).toEqual([
    [5.0, 3.4, 1.5, 0.2],
    [4.9, 3.0, 1.4, 0.2],
    [6.3, 3.3, 6.0, 2.5],
    [6.0, 2.9, 4.5, 1.5],
    [5.1, 3.5, 1.4, 0.2],
  ]);
  // What feedback reads back.
  expect(await new PredictionLookup({ redis, prefix }).lookup(sent.map((p) => p.id))).toEqual(sent.map((p) => ({ m: 'iris', v: p.v, x: p.x, y: p.y, t: p.t })));
  await index.close();
});

test('past its cap the buffer drops new predictions, and the next flush says how many', async () => {
  const warnings: Record<string, unknown>[] = [];
  const logger = { warn: (fields: Record<string, unknown>) => void warnings.push(fields) };
  const index = new PredictionIndex({ redis, prefix, retentionS: 3600, flushMs: 3_600_000, maxBuffered: 3, logger });
  const t = Date.now();
  const ids = [0, 1, 2, 3].map(() => newPredictionId(t));
  index.record(ids.slice(0, 2), 'iris', 'v1.0-cccccc', ['[1,2,3,4]', '[1,2,3,4]'], Int32Array.from([0, 0]), t);
  // Two more would make four: both are dropped, the buffer keeps the first two.
  index.record(ids.slice(2), 'iris', 'v1.0-cccccc', ['[5,6,7,8]', '[5,6,7,8]'], Int32Array.from([1, 1]), t);
  expect(warnings).toEqual([]);
  await index.flush();
  expect(warnings).toEqual([expect.objectContaining({ dropped: 2, dropped_total: 2 })]);
  const stored = await redis.hmget(keys.predictions(Math.floor(t / 1000)), ...ids);
  expect(stored.map((s) => s !== null)).toEqual([true, true, false, false]);
  // Told once: a later flush with nothing dropped says nothing.
  index.record([newPredictionId(t)], 'iris', 'v1.0-cccccc', ['[1,2,3,4]'], Int32Array.from([0]), t);
  await index.flush();
  expect(warnings).toHaveLength(1);
  await index.close();
});
