import { Queue, QueueEvents } from 'bullmq';
import { spawn, type ChildProcess } from 'node:child_process';
import { cleanupRedis, eventually, makeTempDir, removeDir, TEST_REDIS, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// DESIGN.md's failure table: a trainer killed mid-job -> the job is retried and completes
// once; no torn artifact is ever visible. The trainer runs as a real process and is SIGKILLed
// while its fit thread works; a second trainer picks the stalled job up.

const ROOT = resolve(__dirname, '..');
const prefix = uniquePrefix('ct-crash');
let dataDir: string;
const children: ChildProcess[] = [];

function startTrainer(): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, [join(ROOT, 'services/trainer/dist/main.js')], {
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL, CT_DATA_DIR: dataDir, CT_REDIS_PREFIX: prefix, CT_LOCK_DURATION_MS: '2000', CT_STALLED_INTERVAL_MS: '1000', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

beforeAll(async () => {
  dataDir = await makeTempDir('ct-crash-');
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

test('a trainer killed mid-fit: the job is retried by another trainer and recorded once', async () => {
  const historyDir = join(dataDir, 'models/iris/history');
  const activePath = join(dataDir, 'models/iris/model_active.json');
  const first = startTrainer();
  // The history entry is the commit point and the active file is written after it, so the
  // bootstrap is complete only once the active file exists.
  await eventually(() => existsSync(activePath), 30_000, 'bootstrap');
  const bootstrapActive = readFileSync(activePath, 'utf8');

  const queue = new Queue('train-iris', { connection: TEST_REDIS, prefix });
  const events = new QueueEvents('train-iris', { connection: TEST_REDIS, prefix });
  await events.waitUntilReady();
  // The slow gradient-descent baseline on 6,000 rows: seconds of fitting to be killed in.
  const x: number[][] = [];
  const y: number[] = [];
  const centres = [
    [5.0, 3.4, 1.5, 0.2],
    [5.9, 2.8, 4.3, 1.3],
    [6.6, 3.0, 5.6, 2.0],
  ];
  for (let i = 0; i < 6000; i++) {
    x.push((centres[i % 3] as number[]).map((v, j) => v + ((i * 7 + j * 13) % 10) / 100));
    y.push(i % 3);
  }
  const job = await queue.add('train', {
    kind: 'train',
    model: 'iris',
    request_id: null,
    body_hash: 'h',
    samples: { x, y },
    retrain_from_scratch: false,
    policy: { name: 'any_improvement' },
    algorithm: 'ml_logistic_regression',
  });
  // Wait until the job is running, then kill the trainer without letting it clean up.
  await eventually(async () => (await job.getState()) === 'active', 30_000, 'job active');
  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.once('exit', r));
  // Nothing was committed and the served file is intact.
  expect(readFileSync(activePath, 'utf8')).toBe(bootstrapActive);

  // A second trainer finds the stalled job (its 2 s lock expired; it checks every second)
  // and runs it to the end.
  startTrainer();
  const result = await job.waitUntilFinished(events, 120_000);
  expect(result.status).toMatch(/activated|rejected/);
  // One file per entry: history/<seq>.json, each a sealed record around the entry.
  const entries = readdirSync(historyDir)
    .filter((n) => /^\d{9}\.json$/.test(n))
    .sort()
    .map((n) => (JSON.parse(readFileSync(join(historyDir, n), 'utf8')) as { body: { job_id: string; version: string } }).body);
  expect(entries.filter((e) => e.job_id === job.id)).toHaveLength(1);
  expect(entries.map((e) => e.version)).toEqual([expect.stringMatching(/^v1\.0-/), result.model_version]);
  const active = JSON.parse(readFileSync(activePath, 'utf8')) as { version: string };
  expect(active.version).toBe(result.active_version);
  await events.close();
  await queue.close();
}, 180_000);
