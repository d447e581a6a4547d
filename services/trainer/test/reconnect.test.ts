import { makeTempDir, removeDir, startPrivateRedis, type PrivateRedis } from '@ct/testing';
import { Queue } from 'bullmq';
import pino from 'pino';
import { Trainer } from '../src/trainer';
import { DATASETS, eventually, IRIS } from './helpers';

// BullMQ keeps a queue's global concurrency in Redis. A Redis restarted empty forgets it, and
// two trainers would then run two jobs of one model at once (issue 7, part 2). The trainer sets
// it again whenever its connection comes back. A private redis-server: this test kills it.

let redis: PrivateRedis;
let dataDir: string;
let trainer: Trainer | undefined;

beforeAll(async () => {
  redis = await startPrivateRedis();
  dataDir = await makeTempDir('ct-reconnect-');
});
afterAll(async () => {
  await trainer?.close();
  await redis.kill();
  await removeDir(dataDir);
});

test('the queue global concurrency of 1 is set again after Redis restarts empty', async () => {
  trainer = new Trainer({ redisUrl: redis.url, prefix: 'ct', dataDir, datasetsDir: DATASETS, specs: [IRIS], lockDurationMs: 5000, shutdownTimeoutMs: 5000, logger: pino({ level: 'silent' }) });
  await trainer.start();
  const concurrency = async (): Promise<number | null> => {
    const q = new Queue('train-iris', { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1 }, prefix: 'ct' });
    try {
      return await q.getGlobalConcurrency();
    } finally {
      await q.close();
    }
  };
  expect(await concurrency()).toBe(1);
  const port = redis.port;
  await redis.kill();
  redis = await startPrivateRedis(port);
  await eventually(async () => (await concurrency()) === 1, 15_000, 'global concurrency set again after the restart');
});
