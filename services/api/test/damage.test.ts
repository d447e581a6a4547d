import { rebuildHistory, ModelStore, writeFileAtomic } from '@ct/registry';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, irisSamples, SETOSA, startApi, startStack, startTrainer, type Stack } from './helpers/harness';

// Issue 7, part 3: damage to the files never silently rewrites the past. Each case runs a real
// API and a real trainer on its own volume, damages a file as a disk, an operator or a bad
// script would, and checks what a user sees: /health says why, jobs fail at once naming the
// file, nothing is overwritten or bootstrapped over, and serving goes on from what was committed.

const samples = irisSamples();
const batch = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => samples[(offset + i * 7) % samples.length]);

const stack = startStack;

/** Trains one batch and waits for the outcome. */
async function train(s: Stack, n: number, offset: number): Promise<{ status: number; body: any }> {
  const r = await s.api.client.post('/train', { json: { samples: batch(n, offset) }, headers: { prefer: 'wait=30' } });
  return { status: r.status, body: r.body };
}

const listing = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).sort();

describe('the history deleted while versions exist', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await stack();
  });
  afterAll(async () => s?.close());

  it('is never bootstrapped over: jobs fail at once naming the command, /health says why; the rebuild restores it', async () => {
    const first = await train(s, 30, 0);
    expect(first.body.result.status).toBe('activated');
    const served = first.body.result.model_version as string;
    rmSync(join(s.store.dir, 'history'), { recursive: true });
    const versionsBefore = listing(join(s.store.dir, 'versions'));

    const job = await train(s, 30, 3);
    expect(job.body).toMatchObject({ state: 'failed', attempts_made: 1 });
    expect(job.body.error).toMatch(/^models\/iris\/history: history_missing: .*versions\/ holds 2 version\(s\).*npm run cli -- rebuild-history --model iris/);
    // Nothing was bootstrapped over the versions, and the served model did not change.
    expect(listing(join(s.store.dir, 'versions'))).toEqual(versionsBefore);
    expect((await s.api.client.post('/predict', { json: SETOSA })).body.model_version).toBe(served);
    await eventually(async () => (await s.api.client.get('/health')).body.status === 'degraded', 10_000, 'health degraded');
    const health = (await s.api.client.get('/health')).body;
    expect(health.models.iris.last_error).toMatch(/history_missing in models\/iris\/history: .*rebuild-history/);
    expect(JSON.stringify(health)).not.toContain(s.dataDir);
    // A trainer restarting now does not bootstrap either.
    await s.trainer.close();
    s.trainer = await startTrainer({ dataDir: s.dataDir, prefix: s.prefix });
    expect(listing(join(s.store.dir, 'versions'))).toEqual(versionsBefore);

    const report = await rebuildHistory(new ModelStore(s.dataDir, 'iris'));
    expect(report.active).toBe(served);
    await eventually(async () => (await s.api.client.get('/health')).body.status === 'ok', 10_000, 'health ok again');
    const next = await train(s, 30, 5);
    expect(next.body.state).toBe('completed');
    expect(next.body.result.model_version).toMatch(/^v3\.0-/); // numbering continues
  });
});

describe('a corrupt history entry', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await stack();
  });
  afterAll(async () => s?.close());

  it('fails jobs at once with an error naming the file, overwrites nothing, and /health says why', async () => {
    const path = join(s.store.dir, 'history', '000000001.json');
    const damaged = readFileSync(path, 'utf8').slice(0, 100); // truncated
    writeFileSync(path, damaged);
    // A trainer that starts now reads the log from its files.
    await s.trainer.close();
    s.trainer = await startTrainer({ dataDir: s.dataDir, prefix: s.prefix });
    const files = listing(s.store.dir);
    const job = await train(s, 30, 0);
    expect(job.body).toMatchObject({ state: 'failed', attempts_made: 1 });
    expect(job.body.error).toMatch(/^models\/iris\/history\/000000001\.json: invalid_json: /);
    expect(listing(s.store.dir)).toEqual(files);
    expect(readFileSync(path, 'utf8')).toBe(damaged);
    // The API already serving keeps serving; a restarted one too, and both say why.
    const restarted = await startApi({ dataDir: s.dataDir, prefix: s.prefix, subscriber: false, predictionLog: false });
    try {
      expect((await restarted.client.post('/predict', { json: SETOSA })).status).toBe(200);
      const health = (await restarted.client.get('/health')).body;
      expect(health.status).toBe('degraded');
      expect(health.models.iris.last_error).toMatch(/^invalid_json in models\/iris\/history\/000000001\.json/);
    } finally {
      await restarted.close();
    }
  });
});

describe('a corrupt model_active.json and an API restart', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await stack();
  });
  afterAll(async () => s?.close());

  it('serves the committed version from versions/ at once and reports degraded with the reason', async () => {
    const committed = (await train(s, 30, 0)).body.result.model_version as string;
    await s.api.close();
    await s.trainer.close(); // nothing may repair the file behind the test's back
    await writeFileAtomic(s.store.activePath, '{"format_version":1,"version":');
    const api = await startApi({ dataDir: s.dataDir, prefix: s.prefix, predictionLog: false });
    s.api = api;
    const health = await api.client.get('/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', model_version: committed });
    expect(health.body.models.iris.last_error).toMatch(new RegExp(`^invalid_json in models/iris/model_active\\.json: .*serving the committed version ${committed.replace('.', '\\.')} from versions/`));
    expect((await api.client.post('/predict', { json: SETOSA })).body.model_version).toBe(committed);
    // The next trainer start repairs the copy and the API is ready again.
    s.trainer = await startTrainer({ dataDir: s.dataDir, prefix: s.prefix });
    await eventually(async () => (await api.client.get('/health')).body.status === 'ok', 15_000, 'repaired');
  });
});

describe('accumulated data whose labels were changed on disk', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await stack();
  });
  afterAll(async () => s?.close());

  it('is refused by its checksum: the job fails at once naming the segment, and is never trained on', async () => {
    const head = await s.store.head();
    const data = await s.store.readVersionData(head!.state.active);
    const segment = (await s.store.lists.items(data.training))[0] as string;
    const path = join(s.store.dir, 'segments', `${segment}.json`);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.data.y = file.data.y.map((y: number) => (y + 1) % 3); // every label rotated
    writeFileSync(path, JSON.stringify(file));
    await s.trainer.close(); // a fresh trainer has no copy of the segment in memory
    s.trainer = await startTrainer({ dataDir: s.dataDir, prefix: s.prefix });
    const job = await train(s, 30, 0);
    expect(job.body).toMatchObject({ state: 'failed', attempts_made: 1 });
    expect(job.body.error).toBe(`models/iris/segments/${segment}.json: checksum_mismatch: the rows do not match the segment's hash`);
    expect((await s.store.history.sync()).length).toBe(1);
  });
});
