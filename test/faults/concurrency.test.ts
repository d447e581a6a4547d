/**
 * Faults of scale and replication: two APIs and two trainers on one volume, Redis restarted
 * empty, 50 concurrent `/train` (with a client's retries among them), then `/predict` under
 * load while 10 new versions go live. One stack of processes on a private Redis; the second
 * test starts from the first one's state.
 */
import { Queue } from 'bullmq';
import { acceptedProblems, cleanIrisRows, eventually, FaultStack, SETOSA, settle, versionNumber, type ApiProcess, type JobView } from './harness';

const JOBS = 50;
const RETRIES = 10;
const ROWS = 200;

let stack: FaultStack;
let apis: ApiProcess[];
const accepted = new Map<string, JobView>();

beforeAll(async () => {
  stack = await FaultStack.create();
  await Promise.all([stack.startTrainer({}, 'trainer-a'), stack.startTrainer({}, 'trainer-b')]);
  apis = await Promise.all([stack.startApi({}, 'api-a'), stack.startApi({}, 'api-b')]);
  await Promise.all(apis.map((a) => stack.serving(a)));
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

test('two APIs, two trainers, Redis restarted empty, 50 concurrent /train and 10 client retries: every job answered 202 completes once, none is lost or run twice, no version number is reused, both APIs serve the committed version', async () => {
  // Redis dies and comes back empty on the same port. Seeing both APIs notice the outage
  // first makes "reachable again" mean they reconnected to the new, empty server.
  const health = () => Promise.all(apis.map(async (a) => (await a.client.get('/health', { timeoutMs: 5000 })).body));
  await stack.stopRedis();
  await stack.watch(eventually(async () => (await health()).every((h) => h?.redis?.reachable === false), 20_000, 'both APIs see Redis down', 100));
  await stack.restartRedisEmpty();
  await stack.watch(eventually(async () => (await health()).every((h) => h?.redis?.reachable === true), 30_000, 'both APIs see Redis again', 100));
  // The trainers set the model queue's global concurrency again on reconnect; until they do,
  // both take jobs of one model at once. Removing it keeps that window open for the whole
  // burst, so commits race and the exclusive history entry has to decide them.
  const queue = new Queue('train-iris', { connection: { host: '127.0.0.1', port: stack.redis?.port as number }, prefix: stack.prefix });
  try {
    await eventually(async () => (await queue.getGlobalConcurrency()) === 1, 15_000, 'trainers re-assert the global concurrency');
    await queue.removeGlobalConcurrency();
  } finally {
    await queue.close();
  }

  // 50 batches, alternating between the APIs, each with its own seed and key; then 10 of
  // them sent again with the same key and body to the other API, as a client retrying after
  // a timeout does, all at once.
  const bodies = Array.from({ length: JOBS }, (_, i) => ({ samples: cleanIrisRows(ROWS, 1000 + i) }));
  const send = (i: number, apiIndex: number) =>
    (apis[apiIndex] as ApiProcess).client.post('/train', { json: bodies[i], headers: { 'idempotency-key': `burst-${i}` } }).then((r) => ({ i, status: r.status, id: r.body?.job_id as string }));
  const posted = await Promise.all([...Array.from({ length: JOBS }, (_, i) => send(i, i % 2)), ...Array.from({ length: RETRIES }, (_, i) => send(i, (i + 1) % 2))]);
  expect(posted.filter((p) => p.status !== 202)).toEqual([]);
  // A retry is the same job, whichever API answered it.
  for (const p of posted.slice(JOBS)) expect(p.id).toBe(posted[p.i]?.id);
  const ids = posted.slice(0, JOBS).map((p) => p.id);
  expect(new Set(ids).size).toBe(JOBS);

  const settled = await stack.watch(settle(apis.map((a) => a.client), ids, 120_000));
  for (const [k, v] of settled) accepted.set(k, v);
  const completed = [...settled.values()].filter((j) => j.state === 'completed');
  expect({ completed: completed.length, failed: [...settled.values()].filter((j) => j.state === 'failed').map((j) => j.error) }).toEqual({ completed: JOBS, failed: [] });
  expect(await acceptedProblems(apis, accepted)).toEqual([]);
}, 180_000);

test('/predict under load on both APIs while 10 new versions are activated: every prediction is answered 200 by a live version, never an older one after a newer, and both APIs end on the last', async () => {
  const start: string = await eventually<string>(async () => (await apis[0]?.client.post('/predict', { json: SETOSA }))?.body?.model_version, 10_000, 'served');
  const order = [start];
  let stop = false;
  /** Per client loop: each answer's status and version, in order. */
  const loops = Array.from({ length: 6 }, (_, n) => ({ api: apis[n % 2] as ApiProcess, answers: [] as { status: number; version: string; rows: number }[] }));
  const load = Promise.all(
    loops.map(async (loop) => {
      while (!stop) {
        const r = await loop.api.client.post('/predict', { json: { records: [SETOSA, SETOSA, SETOSA] } });
        loop.answers.push({ status: r.status, version: r.body?.model_version, rows: r.body?.predictions?.length ?? 0 });
      }
    }),
  );
  try {
    // Ten activations, one after another; non_inferior activates clean rows unless they are
    // significantly worse, and a rare rejection just means one more job.
    for (let i = 0; order.length < 11 && i < 20; i++) {
      const r = await apis[i % 2]?.client.post('/train', {
        json: { samples: cleanIrisRows(30, 5000 + i), policy: { name: 'non_inferior' } },
        headers: { prefer: 'wait=30' },
        timeoutMs: 40_000,
      });
      expect(r?.status).toBe(200);
      accepted.set(r?.body.job_id, r?.body);
      if (r?.body.result.status === 'activated') order.push(r.body.result.model_version as string);
    }
    expect(order).toHaveLength(11);
    // Both APIs reach the last version while the load goes on.
    await stack.watch(
      eventually(async () => loops.every((l) => l.answers.at(-1)?.version === order.at(-1)), 20_000, 'every loop served the last version', 50),
    );
  } finally {
    stop = true;
    await load;
  }
  const rank = new Map(order.map((v, i) => [v, i]));
  for (const loop of loops) {
    expect(loop.answers.filter((a) => a.status !== 200 || a.rows !== 3)).toEqual([]);
    expect(loop.answers.filter((a) => !rank.has(a.version))).toEqual([]);
    const ranks = loop.answers.map((a) => rank.get(a.version) as number);
    expect(ranks.filter((r, i) => i > 0 && r < (ranks[i - 1] as number))).toEqual([]);
  }
  expect(loops.reduce((n, l) => n + l.answers.length, 0)).toBeGreaterThan(100);
  expect(new Set(order.map(versionNumber)).size).toBe(order.length);
  expect(await acceptedProblems(apis, accepted)).toEqual([]);
}, 180_000);
