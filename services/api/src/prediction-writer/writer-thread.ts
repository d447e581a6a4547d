// The writer thread's entry point (see PredictionWriter): the prediction log and the feedback
// index, written here rather than on the API's event loop.
import { createRedisConnection } from '@ct/queue';
import { parentPort, workerData } from 'node:worker_threads';
import { PredictionIndex } from '../feedback/prediction-index';
import { PredictionLog } from '../prediction-log';
import type { FromWriter, ToWriter, WriterSettings } from './messages';
import { writeServed } from './served';

const port = parentPort;
if (!port) throw new Error('writer-thread.js runs as a worker thread of the API');
const settings = workerData as WriterSettings;
const send = (m: FromWriter): void => port.postMessage(m);

const log = settings.log ? new PredictionLog(settings.log.dataDir, true, settings.log.rotation) : undefined;
const redis = settings.index ? createRedisConnection(settings.index.redisUrl, 'producer', 'ct-api-prediction-writer') : undefined;
// Outages show as dropped predictions, which the index reports; ioredis would print every
// connection error too without a listener.
redis?.on('error', () => undefined);
const index =
  settings.index && redis
    ? new PredictionIndex({
        redis,
        prefix: settings.index.prefix,
        retentionS: settings.index.retentionS,
        flushMs: settings.index.flushMs,
        logger: { warn: (fields: Record<string, unknown>, msg: string) => send({ type: 'warn', fields, msg }) },
      })
    : undefined;

port.on('message', (m: ToWriter) => {
  switch (m.type) {
    case 'served':
      port.postMessage({ type: 'written', ...writeServed(m.batch, log, index), nums: m.batch.nums, text: m.batch.text } satisfies FromWriter, [m.batch.nums, m.batch.text]);
      return;
    case 'flush':
      void (index?.flush() ?? Promise.resolve()).finally(() => send({ type: 'flushed', seq: m.seq }));
      return;
    case 'close':
      void Promise.all([log?.close(), index?.close()])
        .then(() => redis?.quit())
        .catch(() => undefined)
        .finally(() => {
          send({ type: 'closed' });
          port.close();
        });
      return;
  }
});
