import { cleanupRedis, eventually, makeTempDir, removeDir, TEST_REDIS, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

// SIGTERM to the API while a client waits for its job with `Prefer: wait=60`: the client gets
// the usual 202 with the job id and Location at once, before the server closes. It used to
// get a socket error when the shutdown timeout cut the connection, and no job id. No trainer
// runs here, so the job stays queued and the wait could only end by the shutdown.

const ROOT = resolve(__dirname, '..');
const SHUTDOWN_TIMEOUT_MS = 8000;

const SAMPLES = [
  { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2, label: 0 },
  { sepal_length: 4.9, sepal_width: 3.0, petal_length: 1.4, petal_width: 0.2, label: 0 },
  { sepal_length: 7.0, sepal_width: 3.2, petal_length: 4.7, petal_width: 1.4, label: 1 },
  { sepal_length: 6.4, sepal_width: 3.2, petal_length: 4.5, petal_width: 1.5, label: 1 },
  { sepal_length: 6.3, sepal_width: 3.3, petal_length: 6.0, petal_width: 2.5, label: 2 },
];

const prefix = uniquePrefix('ct-api-wait');
let dataDir: string;
let queue: Queue;

beforeAll(async () => {
  dataDir = await makeTempDir('ct-api-wait-');
  queue = new Queue('train-iris', { connection: TEST_REDIS, prefix });
});
afterAll(async () => {
  await queue?.close();
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

test('SIGTERM answers a request waiting with Prefer: wait=60 with 202 and its job, then the API exits 0', async () => {
  const proc = spawn(process.execPath, [join(ROOT, 'services/api/dist/main.js')], {
    env: {
      ...process.env,
      CT_DATA_DIR: dataDir,
      PORT: '0',
      REDIS_URL: TEST_REDIS_URL,
      CT_REDIS_PREFIX: prefix,
      CT_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listening = new Promise<number>((done, fail) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const port = /api listening on http:\/\/[^:]+:(\d+)/.exec(out)?.[1];
      if (port) done(Number(port));
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => fail(new Error(`api exited (${code}) before listening:\n${out}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => proc.on('exit', (code, signal) => done({ code, signal })));
  try {
    const port = await listening;
    const answer = fetch(`http://127.0.0.1:${port}/train`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait=60' },
      body: JSON.stringify({ samples: SAMPLES }),
    }).then(async (res) => ({ status: res.status, location: res.headers.get('location'), body: (await res.json()) as { job_id: string; state: string }, at: Date.now() }));
    answer.catch(() => undefined);
    // The job is queued: the request is now waiting for it.
    await eventually(async () => (await queue.getJobCounts('waiting')).waiting === 1, 10_000, 'job queued');

    const signalled = Date.now();
    proc.kill('SIGTERM');
    const res = await answer;
    expect(res.status).toBe(202);
    expect(res.body.state).toBe('queued');
    expect(res.body.job_id).toMatch(/^iris\./);
    expect(res.location).toBe(`/jobs/${encodeURIComponent(res.body.job_id)}`);
    // Answered at once, not when the shutdown timeout closes the connections.
    expect(res.at - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_MS / 2);
    // The job is still there for the client to poll once an API is back.
    expect(await queue.getJob(res.body.job_id)).toBeDefined();
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
}, 60_000);
