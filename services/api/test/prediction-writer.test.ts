/**
 * The writer thread on real Redis and a real file: what `/predict` records on the event loop
 * lands in the prediction log (one line per answer, as the log has always written it) and in
 * the feedback index (one entry per row); a writer that falls behind drops and counts rather
 * than buffers without bound; a thread that dies is started again.
 */
import { createRedisConnection } from '@ct/queue';
import { cleanupRedis, eventually, makeTempDir, removeDir, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { newPredictionId } from '../src/feedback/prediction-id';
import { PredictionLookup } from '../src/feedback/prediction-lookup';
import { PredictionWriter } from '../src/prediction-writer/prediction-writer';
import type { ServedPredictions } from '../src/prediction-writer/served';
import { WRITER_THREAD } from './helpers/harness';

const redis = createRedisConnection(TEST_REDIS_URL, 'producer', 'prediction-writer-test');
const prefixes: string[] = [];
let dataDir: string;

beforeAll(async () => {
  await redis.ping();
});
beforeEach(async () => {
  dataDir = await makeTempDir('ct-writer-');
});
afterEach(async () => {
  await removeDir(dataDir);
});
afterAll(async () => {
  for (const p of prefixes) await cleanupRedis(p);
  redis.disconnect();
});

function writerOn(prefix: string, opts: { maxPending?: number; workerPath?: string } = {}): PredictionWriter {
  prefixes.push(prefix);
  return new PredictionWriter(
    { log: { dataDir, rotation: {} }, index: { redisUrl: TEST_REDIS_URL, prefix, retentionS: 600, flushMs: 20 } },
    { logger: pino({ level: 'silent' }), workerPath: opts.workerPath ?? WRITER_THREAD, maxPending: opts.maxPending },
  );
}

/** One answer of `rows`, as predict() records it. */
function answer(rows: (number | string | null)[][], labels: number[], inputText: string, t = Date.now()): ServedPredictions & { idList: string[] } {
  const idList = rows.map(() => newPredictionId(t));
  const outputJson = rows.length === 1 ? `{"prediction":${labels[0]}}` : `{"predictions":[${labels.map((y, i) => `{"prediction":${y},"prediction_id":"${idList[i]}"}`).join(',')}]}`;
  return { t, model: 'iris', version: 'v1.0-abcdef', ids: idList.join(','), inputText, outputJson, rows, labels: Int32Array.from(labels), idList };
}

const logLines = (): Record<string, unknown>[] =>
  readFileSync(join(dataDir, 'results', 'predictions.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('answers land in the prediction log and the index, each row under its id', async () => {
  const prefix = uniquePrefix();
  const writer = writerOn(prefix);
  const single = answer([[5.1, 3.5, 1.4, 0.2]], [0], '{ "sepal_length": 5.1,\n "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2 }', Date.now() - 1500);
  const batch = answer(
    [
      [6.0, 2.9, 4.5, 1.5],
      [6.3, 3.3, 6.0, 2.5],
    ],
    [1, 2],
    '{"records":[{"sepal_length":6.0,"sepal_width":2.9,"petal_length":4.5,"petal_width":1.5},{"sepal_length":6.3,"sepal_width":3.3,"petal_length":6.0,"petal_width":2.5}]}',
  );
  const categorical = answer([['Dream', null, -0, 1e21]], [1], '{"island":"Dream","__proto__":1}');
  for (const a of [single, batch, categorical]) writer.record(a);
  await writer.close();

  // The log: one compact line per answer, its time when it was served.
  const lines = logLines();
  expect(lines).toEqual([
    { time: new Date(single.t).toISOString(), prediction_id: single.idList[0], model: 'iris', version: 'v1.0-abcdef', input: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }, output: { prediction: 0 } },
    expect.objectContaining({ prediction_id: batch.idList[0], input: JSON.parse(batch.inputText) as unknown, output: JSON.parse(batch.outputJson) as unknown }),
    expect.objectContaining({ prediction_id: categorical.idList[0] }),
  ]);
  expect(readFileSync(join(dataDir, 'results', 'predictions.log'), 'utf8')).toContain('"input":{"island":"Dream","__proto__":1}');

  // The index: every row, found as feedback finds it.
  const found = await new PredictionLookup({ redis, prefix }).lookup([...single.idList, ...batch.idList, ...categorical.idList]);
  expect(found).toEqual([
    { m: 'iris', v: 'v1.0-abcdef', x: [5.1, 3.5, 1.4, 0.2], y: 0, t: single.t },
    { m: 'iris', v: 'v1.0-abcdef', x: [6.0, 2.9, 4.5, 1.5], y: 1, t: batch.t },
    { m: 'iris', v: 'v1.0-abcdef', x: [6.3, 3.3, 6.0, 2.5], y: 2, t: batch.t },
    { m: 'iris', v: 'v1.0-abcdef', x: ['Dream', null, 0, 1e21], y: 1, t: categorical.t },
  ]);
  expect(writer.droppedCount).toBe(0);
});

test('flush() resolves once what was recorded before it is in the index', async () => {
  const prefix = uniquePrefix();
  const writer = writerOn(prefix);
  const lookup = new PredictionLookup({ redis, prefix });
  try {
    for (let round = 0; round < 3; round++) {
      const answers = Array.from({ length: 50 }, (_, i) => answer([[i, round, 1, 2]], [i % 3], '{}'));
      for (const a of answers) writer.record(a);
      await writer.flush();
      const found = await lookup.lookup(answers.map((a) => a.ids));
      expect(found.every((p) => p !== undefined)).toBe(true);
    }
  } finally {
    await writer.close();
  }
});

test('a writer that falls behind drops answers and counts them, and an unreadable answer is left out', async () => {
  const prefix = uniquePrefix();
  // Two answers may wait for the thread: the third and later recorded in the same turn are dropped.
  const writer = writerOn(prefix, { maxPending: 2 });
  const answers = Array.from({ length: 5 }, (_, i) => answer([[i, 0, 0, 0]], [0], '{}'));
  for (const a of answers) writer.record(a);
  expect(writer.droppedCount).toBe(3);
  await writer.flush();
  // A body is text JSON.parse accepted: one without a line break is written as is, unread; one
  // with a line break is parsed again to put it on one line, and one that fails is left out.
  writer.record(answer([[9, 9, 9, 9]], [0], 'not\njson'));
  await writer.flush();
  expect(writer.droppedCount).toBe(4);
  await writer.close();
  expect(logLines().map((l) => l.prediction_id)).toEqual([answers[0]?.ids, answers[1]?.ids]);
});

test('a writer thread that dies is started again; what it held is counted as dropped', async () => {
  const prefix = uniquePrefix();
  // A thread script that dies on its first message the first time it runs, then runs the real one.
  const marker = join(dataDir, 'died-once');
  const script = join(dataDir, 'dies-once.js');
  writeFileSync(
    script,
    `const { existsSync, writeFileSync } = require('node:fs');
if (!existsSync(${JSON.stringify(marker)})) {
  writeFileSync(${JSON.stringify(marker)}, '');
  require('node:worker_threads').parentPort.once('message', () => process.exit(7));
} else require(${JSON.stringify(WRITER_THREAD)});
`,
  );
  const writer = writerOn(prefix, { workerPath: script });
  const lookup = new PredictionLookup({ redis, prefix });
  try {
    writer.record(answer([[1, 1, 1, 1]], [0], '{}'));
    // The thread dies on the batch: the flush ends with it.
    await writer.flush();
    expect(existsSync(marker)).toBe(true);
    await eventually(() => writer.droppedCount === 1, 5000, 'the lost answer counted');
    // Started again (after a second): later answers are written.
    await eventually(async () => {
      const later = answer([[2, 2, 2, 2]], [1], '{}');
      writer.record(later);
      await writer.flush();
      const [found] = await lookup.lookup([later.ids]);
      return found?.y === 1 && found.x.join() === '2,2,2,2';
    }, 10_000, 'an answer written by the restarted thread');
  } finally {
    await writer.close();
  }
});
