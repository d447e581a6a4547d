/**
 * Faults: a service killed or stopped in the middle of a job. One stack of processes on a
 * private Redis, used in turn by each test (they run in order and build on each other's
 * state: trainer A is killed, B takes over and is stopped, C finishes what the API accepted).
 */
import { Queue } from 'bullmq';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acceptedProblems, eventually, FaultStack, historyOf, SETOSA, settle, slowTrainBody, waitFitting, type ApiProcess, type JobView, type ServiceProcess } from './harness';

// A killed trainer's lock expires after 2 s and the survivors look for stalled jobs every
// second: the production defaults (30 s) would make the test wait that long.
const FAST_STALL = { CT_LOCK_DURATION_MS: '2000', CT_STALLED_INTERVAL_MS: '1000' };

let stack: FaultStack;
let api: ApiProcess;
let trainerB: ServiceProcess;
let bootVersion: string;
/** Every job answered 2xx in this file, settled, for the final check. */
const accepted = new Map<string, JobView>();

beforeAll(async () => {
  stack = await FaultStack.create();
  await stack.startTrainer(FAST_STALL, 'trainer-a');
  api = await stack.startApi();
  bootVersion = await stack.serving(api);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const activePath = () => join(stack.dataDir, 'models', 'iris', 'model_active.json');

test('trainer SIGKILLed mid-fit: the user sees the job go on running and complete once (another trainer retries it); serving never stops or tears', async () => {
  const trainerA = stack.services.find((s) => s.name === 'trainer-a') as ServiceProcess;
  const r = await api.client.post('/train', { json: slowTrainBody(400, 1) });
  expect(r.status).toBe(202);
  const id = r.body.job_id as string;
  await stack.watch(waitFitting(api.client, id));
  const activeBefore = readFileSync(activePath(), 'utf8');

  await trainerA.kill();
  // Nothing was committed, the served file is intact and predictions go on.
  expect(readFileSync(activePath(), 'utf8')).toBe(activeBefore);
  const p = await api.client.post('/predict', { json: SETOSA });
  expect({ status: p.status, version: p.body.model_version }).toEqual({ status: 200, version: bootVersion });
  expect((await api.client.get(`/jobs/${encodeURIComponent(id)}`)).body.state).toMatch(/running|queued/);

  // A replica finds the stalled job once its lock has expired and runs it to the end.
  trainerB = await stack.startTrainer(FAST_STALL, 'trainer-b');
  const settled = await stack.watch(settle([api.client], [id], 60_000));
  const job = settled.get(id) as JobView;
  expect(job.state).toBe('completed');
  expect(job.result?.status).toMatch(/activated|rejected/);
  for (const [k, v] of settled) accepted.set(k, v);

  const history = await historyOf(api.client);
  expect(history.map((e) => e.version)).toEqual([bootVersion, job.result?.model_version]);
  expect(history.filter((e) => e.job_id === id)).toHaveLength(1);
  // The served copy follows the commit.
  await eventually(() => (JSON.parse(readFileSync(activePath(), 'utf8')) as { version: string }).version === job.result?.active_version, 10_000, 'active file updated');
  expect(await acceptedProblems([api], accepted)).toEqual([]);
}, 90_000);

test('SIGTERM to the trainer mid-fit: it finishes the job and exits 0; the user sees the job completed once', async () => {
  const r = await api.client.post('/train', { json: slowTrainBody(400, 2) });
  expect(r.status).toBe(202);
  const id = r.body.job_id as string;
  await stack.watch(waitFitting(api.client, id));

  trainerB.signal('SIGTERM');
  expect(await trainerB.exited).toEqual({ code: 0, signal: null });
  expect(trainerB.output()).toContain('shutting down');
  // Finished before the process exited: no retry, no second trainer needed.
  const view = (await api.client.get(`/jobs/${encodeURIComponent(id)}`)).body as JobView;
  expect(view).toMatchObject({ state: 'completed', attempts_made: 1 });
  accepted.set(id, view);
  expect(await acceptedProblems([api], accepted)).toEqual([]);
}, 60_000);

test('SIGTERM to the API while a client waits on a running job (Prefer: wait=60): the client gets 202 and its job id at once, the API exits 0, the job completes once', async () => {
  await stack.startTrainer({}, 'trainer-c');
  const shutdownTimeoutMs = 8000;
  const doomed = await stack.startApi({ CT_SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs), LOG_LEVEL: 'info' }, 'api-doomed');
  await stack.serving(doomed);
  const answer = doomed.client
    .post('/train', { json: slowTrainBody(400, 3), headers: { prefer: 'wait=60' }, timeoutMs: 60_000 })
    .then((res) => ({ ...res, at: Date.now() }));
  answer.catch(() => undefined);

  // The job's id is only in the answer: find it in its queue, then wait until it is fitting.
  const queue = new Queue('train-iris', { connection: { host: '127.0.0.1', port: stack.redis?.port as number }, prefix: stack.prefix });
  let id = '';
  try {
    await stack.watch(
      (async () => {
        for (;;) {
          const [job] = await queue.getJobs(['active']);
          if (job?.id) {
            id = job.id;
            return;
          }
          await new Promise((res) => setTimeout(res, 25));
        }
      })(),
    );
  } finally {
    await queue.close();
  }
  await stack.watch(waitFitting(api.client, id));

  const signalled = Date.now();
  doomed.service.signal('SIGTERM');
  const res = await answer;
  expect(res.status).toBe(202);
  expect(res.body).toMatchObject({ job_id: id, state: 'running' });
  expect(res.headers.get('location')).toBe(`/jobs/${encodeURIComponent(id)}`);
  // Answered at once, not when the shutdown timeout closes the connections.
  expect(res.at - signalled).toBeLessThan(shutdownTimeoutMs / 2);
  expect(await doomed.service.exited).toEqual({ code: 0, signal: null });
  expect(Date.now() - signalled).toBeLessThan(shutdownTimeoutMs / 2);
  expect(doomed.service.output()).toContain('shutting down');

  // The other API reports the job, which completes once.
  const settled = await stack.watch(settle([api.client], [id], 60_000));
  expect(settled.get(id)?.state).toBe('completed');
  for (const [k, v] of settled) accepted.set(k, v);
  expect(await acceptedProblems([api], accepted)).toEqual([]);
}, 90_000);
