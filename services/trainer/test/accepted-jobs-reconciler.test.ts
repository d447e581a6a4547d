import { createRedisConnection } from '@ct/queue';
import { AcceptedJobs, ModelStore } from '@ct/registry';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { Writable } from 'node:stream';
import { AcceptedJobsReconciler, type AcceptedJobsReconcilerOptions } from '../src/accepted-jobs-reconciler';
import { Trainer } from '../src/trainer';
import { DATASETS, eventually, IRIS, irisRows, sandbox, TEST_REDIS, TEST_REDIS_URL, trainData } from './helpers';

/** A logger whose lines the test reads. */
function capturingLogger(): { logger: pino.Logger; lines: () => { level: number; msg: string; job_id?: string; file?: string }[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(...chunk.toString().split('\n').filter((l) => l.length > 0));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

const ago = (ms: number): Date => new Date(Date.now() - ms);

describe('AcceptedJobsReconciler on the real Redis and a temp dir', () => {
  let box: Awaited<ReturnType<typeof sandbox>>;
  let accepted: AcceptedJobs;
  const connections: Redis[] = [];
  const reconcilers: AcceptedJobsReconciler[] = [];
  const queues: Queue[] = [];

  const connection = async (): Promise<Redis> => {
    const c = createRedisConnection(TEST_REDIS_URL, 'worker', 'ct-test-reconciler');
    connections.push(c);
    await eventually(() => c.status === 'ready', 5000, 'connected');
    return c;
  };
  const reconciler = async (opts: Partial<AcceptedJobsReconcilerOptions> = {}): Promise<AcceptedJobsReconciler> => {
    const r = new AcceptedJobsReconciler({ accepted, connection: await connection(), prefix: box.prefix, committed: async () => false, logger: pino({ level: 'silent' }), graceMs: 1000, ...opts });
    reconcilers.push(r);
    return r;
  };
  const queue = (name: string): Queue => {
    const q = new Queue(name, { connection: TEST_REDIS, prefix: box.prefix });
    queues.push(q);
    return q;
  };

  beforeEach(async () => {
    box = await sandbox();
    accepted = new AcceptedJobs(box.dataDir);
  });

  afterEach(async () => {
    await Promise.all(reconcilers.splice(0).map((r) => r.close()));
    await Promise.all(queues.splice(0).map((q) => q.close()));
    for (const c of connections.splice(0)) c.disconnect();
    await box.cleanup();
  });

  test('a recorded job Redis lacks is queued again under its own id with its recorded data; the next pass finds it queued', async () => {
    const data = trainData(irisRows(1, 6), { request_id: 'req-1', actor: { name: 'etl', role: 'trainer', token_id: 'tok_1' } });
    await accepted.record('train-iris', 'iris.lost-1', data, ago(60_000));
    const r = await reconciler();
    expect(await r.reconcile()).toEqual({ requeued: ['iris.lost-1'], removed: [], pending: [], reported: [] });
    const job = await queue('train-iris').getJob('iris.lost-1');
    expect(job?.name).toBe('train');
    expect(job?.data).toEqual(data);
    expect(await r.reconcile()).toEqual({ requeued: [], removed: [], pending: ['iris.lost-1'], reported: [] });
    expect(await queue('train-iris').getJobCounts('wait')).toEqual({ wait: 1 });
    expect(await accepted.has('train-iris', 'iris.lost-1')).toBe(true);
  });

  test('five reconcilers passing at once add each lost job once (the same id makes a second add a no-op)', async () => {
    for (let i = 0; i < 3; i++) await accepted.record('train-iris', `iris.lost-${i}`, trainData(irisRows(i, 6), { request_id: `req-${i}` }), ago(60_000 - i));
    const rs = await Promise.all(Array.from({ length: 5 }, () => reconciler()));
    const reports = await Promise.all(rs.map((r) => r.reconcile()));
    expect(new Set(reports.flatMap((r) => r.requeued))).toEqual(new Set(['iris.lost-0', 'iris.lost-1', 'iris.lost-2']));
    const q = queue('train-iris');
    expect(await q.getJobCounts('wait', 'active', 'delayed', 'prioritized')).toEqual({ wait: 3, active: 0, delayed: 0, prioritized: 0 });
    // Queued again in the order they were accepted.
    expect((await q.getWaiting()).map((j) => j.id)).toEqual(['iris.lost-0', 'iris.lost-1', 'iris.lost-2']);
  });

  test('a record whose job finished in Redis (completed, or failed for good) is removed; one whose job still waits is kept', async () => {
    const q = queue('train-iris');
    const worker = new Worker(
      'train-iris',
      async (job) => {
        if (job.id === 'iris.bad') throw new UnrecoverableError('bad data');
        return { ok: true };
      },
      { connection: TEST_REDIS, prefix: box.prefix },
    );
    try {
      for (const id of ['iris.done', 'iris.bad']) {
        await accepted.record('train-iris', id, trainData(irisRows(1, 6)), ago(60_000));
        await q.add('train', trainData(irisRows(1, 6)), { jobId: id });
      }
      await eventually(async () => (await q.getJobState('iris.done')) === 'completed' && (await q.getJobState('iris.bad')) === 'failed', 10_000, 'both finished');
    } finally {
      await worker.close();
    }
    await accepted.record('train-penguins', 'penguins.waiting', trainData(irisRows(1, 6), { model: 'penguins' }), ago(60_000));
    await queue('train-penguins').add('train', trainData(irisRows(1, 6), { model: 'penguins' }), { jobId: 'penguins.waiting' });
    const report = await (await reconciler()).reconcile();
    expect(report).toEqual({ requeued: [], removed: ['iris.done', 'iris.bad'], pending: ['penguins.waiting'], reported: [] });
    expect((await accepted.list()).jobs.map((j) => j.job_id)).toEqual(['penguins.waiting']);
  });

  test('a record Redis lacks whose effect is on the volume (it ran, then left Redis) is removed, never queued again', async () => {
    await accepted.record('train-iris', 'iris.ran', trainData(irisRows(1, 6)), ago(60_000));
    const seen: string[] = [];
    const r = await reconciler({
      committed: async (jobId) => {
        seen.push(jobId);
        return true;
      },
    });
    expect(await r.reconcile()).toEqual({ requeued: [], removed: ['iris.ran'], pending: [], reported: [] });
    expect(seen).toEqual(['iris.ran']);
    expect(await queue('train-iris').getJob('iris.ran')).toBeUndefined();
    expect(await accepted.has('train-iris', 'iris.ran')).toBe(false);
  });

  test('a record younger than the grace period is left alone: the API may still be adding it, or about to remove it after a failed add', async () => {
    await accepted.record('train-iris', 'iris.fresh', trainData(irisRows(1, 6)), new Date());
    const r = await reconciler({ graceMs: 60_000 });
    expect(await r.reconcile()).toEqual({ requeued: [], removed: [], pending: ['iris.fresh'], reported: [] });
    expect(await queue('train-iris').getJob('iris.fresh')).toBeUndefined();
  });

  test('a stale record, an invalid one and an unreadable file are reported in the logs once each and left in place, not queued', async () => {
    const { logger, lines } = capturingLogger();
    await accepted.record('train-iris', 'iris.old', trainData(irisRows(1, 6)), ago(3_600_000));
    await accepted.record('train-iris', 'iris.invalid', { kind: 'train', model: 'iris' }, ago(60_000));
    await accepted.record('train-iris', 'penguins.elsewhere', trainData(irisRows(1, 6), { model: 'penguins' }), ago(60_000));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(accepted.fileOf('train-iris', 'iris.torn'), '{"format');
    const r = await reconciler({ staleMs: 600_000, logger });
    const first = await r.reconcile();
    expect(first).toEqual({ requeued: [], removed: [], pending: [], reported: ['iris.old', 'iris.invalid', 'penguins.elsewhere'] });
    await r.reconcile();
    const errors = lines().filter((l) => l.level === 50);
    expect(errors.map((l) => l.job_id ?? l.file).sort()).toEqual(['iris.invalid', 'iris.old', 'penguins.elsewhere', 'train-iris+iris.torn.json']);
    expect(errors.find((l) => l.job_id === 'iris.old')?.msg).toMatch(/neither in Redis nor in the history: not queued again/);
    expect(await queue('train-iris').getJobCounts('wait')).toEqual({ wait: 0 });
    expect((await accepted.list()).jobs).toHaveLength(3);
  });

  test('while Redis is not connected a pass does nothing', async () => {
    await accepted.record('train-iris', 'iris.lost', trainData(irisRows(1, 6)), ago(60_000));
    const offline = createRedisConnection(TEST_REDIS_URL, 'worker');
    offline.disconnect();
    connections.push(offline);
    const r = new AcceptedJobsReconciler({ accepted, connection: offline, prefix: box.prefix, committed: async () => false, logger: pino({ level: 'silent' }), graceMs: 0 });
    reconcilers.push(r);
    expect(await r.reconcile()).toEqual({ requeued: [], removed: [], pending: [], reported: [] });
    expect(await accepted.has('train-iris', 'iris.lost')).toBe(true);
  });
});

describe('Trainer with accepted-job records', () => {
  let box: Awaited<ReturnType<typeof sandbox>>;
  let trainer: Trainer;
  let queue: Queue;
  let accepted: AcceptedJobs;
  let store: ModelStore;

  beforeAll(async () => {
    box = await sandbox();
    accepted = new AcceptedJobs(box.dataDir);
    trainer = new Trainer({
      redisUrl: TEST_REDIS_URL,
      prefix: box.prefix,
      dataDir: box.dataDir,
      datasetsDir: DATASETS,
      specs: [IRIS],
      lockDurationMs: 5000,
      shutdownTimeoutMs: 5000,
      logger: pino({ level: 'silent' }),
      // Jobs recorded now are the workers' to clear (younger than the grace); older ones the reconciler's.
      acceptedJobs: { intervalMs: 100, graceMs: 10_000 },
    });
    queue = new Queue('train-iris', { connection: TEST_REDIS, prefix: box.prefix });
    store = new ModelStore(box.dataDir, 'iris');
    await trainer.start();
    await eventually(() => store.readActive(), 20_000, 'bootstrap');
  });

  afterAll(async () => {
    await trainer.close();
    await queue.close();
    await box.cleanup();
  });

  const inHistory = async (id: string): Promise<number> => (await store.readHistory()).entries.filter((e) => e.job_id === id).length;

  test('the record of a job that completes, or fails for good, is removed once it has', async () => {
    for (const [id, data] of [
      ['iris.ok', trainData(irisRows(7, 12))],
      ['iris.bad', trainData({ x: [[1, 2, 3]], y: [0] })],
    ] as const) {
      await accepted.record('train-iris', id, data);
      await queue.add('train', data, { jobId: id });
    }
    await eventually(async () => (await queue.getJobState('iris.ok')) === 'completed' && (await queue.getJobState('iris.bad')) === 'failed', 30_000, 'both finished');
    await eventually(async () => (await accepted.list()).jobs.length === 0, 5000, 'records removed by the workers');
    expect(await inHistory('iris.ok')).toBe(1);
    expect(await inHistory('iris.bad')).toBe(0);
  });

  test('a recorded job Redis lost is queued again, runs once and leaves no record; a finished one Redis dropped is not run again', async () => {
    await accepted.record('train-iris', 'iris.lost', trainData(irisRows(8, 12)), ago(60_000));
    await eventually(async () => (await queue.getJobState('iris.lost')) === 'completed', 30_000, 'the lost job ran');
    await eventually(async () => !(await accepted.has('train-iris', 'iris.lost')), 5000, 'its record removed');
    expect(await inHistory('iris.lost')).toBe(1);

    // Its record outlived it (a trainer died at that moment) and Redis dropped the finished job.
    await (await queue.getJob('iris.lost'))?.remove();
    await accepted.record('train-iris', 'iris.lost', trainData(irisRows(8, 12)), ago(60_000));
    await eventually(async () => !(await accepted.has('train-iris', 'iris.lost')), 5000, 'the leftover record removed');
    expect(await queue.getJob('iris.lost')).toBeUndefined();
    expect(await inHistory('iris.lost')).toBe(1);
  });
});
