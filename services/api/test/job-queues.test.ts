/**
 * JobQueues.enqueue and the accepted-job records, on the shared Redis (unique prefix) and a
 * temp data dir: what is answered 2xx is on the volume, what is refused is not.
 */
import { type JobData } from '@ct/queue';
import { AcceptedJobs } from '@ct/registry';
import { cleanupRedis, eventually, makeTempDir, removeDir, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import pino from 'pino';
import { ApiError } from '../src/errors/api-error';
import { JobQueues } from '../src/job-queues';

const prefix = uniquePrefix();
let dataDir: string;
let accepted: AcceptedJobs;
let queues: JobQueues;

const job = (requestId: string, bodyHash = 'h1'): JobData => ({ kind: 'reset', model: 'iris', request_id: requestId, body_hash: bodyHash, actor: { name: 'env-admin', role: 'admin', token_id: null } });

beforeAll(async () => {
  dataDir = await makeTempDir('ct-job-queues-');
  accepted = new AcceptedJobs(dataDir);
  queues = new JobQueues({ redisUrl: TEST_REDIS_URL, prefix, models: ['iris'], logger: pino({ level: 'silent' }), accepted });
  await eventually(() => queues.redisReady, 5000, 'connected');
});

afterAll(async () => {
  await queues?.close();
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

test('a new job is recorded on the volume by the time enqueue resolves; a replay of its id writes nothing and answers the same job', async () => {
  const first = await queues.enqueue(job('r1'), 'iris.k1');
  expect(first.created).toBe(true);
  const record = (await accepted.list()).jobs.find((j) => j.job_id === 'iris.k1');
  expect(record).toMatchObject({ queue: 'train-iris', job_id: 'iris.k1', data: job('r1') });
  await accepted.remove('train-iris', 'iris.k1');
  const replay = await queues.enqueue(job('r2'), 'iris.k1');
  expect(replay.created).toBe(false);
  expect(replay.job.data.request_id).toBe('r1');
  expect(await accepted.has('train-iris', 'iris.k1')).toBe(false);
});

test('a job Redis refuses is answered 503 and leaves no record to bring it to life later', async () => {
  // BullMQ refuses an integer custom id after the record is written: an add that fails.
  const refused = queues.enqueue(job('r3'), '12345');
  await expect(refused).rejects.toBeInstanceOf(ApiError);
  await expect(refused).rejects.toMatchObject({ code: 'queue_unavailable' });
  expect(await accepted.has('train-iris', '12345')).toBe(false);
});
