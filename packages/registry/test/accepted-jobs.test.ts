import { makeTempDir, removeDir } from '@ct/testing';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ACCEPTED_JOBS_DIR, AcceptedJobs } from '../src';

let dataDir: string;
let jobs: AcceptedJobs;
beforeEach(async () => {
  dataDir = await makeTempDir('ct-accepted-');
  jobs = new AcceptedJobs(dataDir);
});
afterEach(async () => {
  await removeDir(dataDir);
});

const data = (n: number) => ({ kind: 'train', model: 'iris', request_id: `req-${n}`, body_hash: `h${n}`, actor: { name: 'etl', role: 'trainer', token_id: 'tok_1' } });

test('records a job in its own file under accepted-jobs/, the whole record, with nothing left behind', async () => {
  await jobs.record('train-iris', 'iris.k0123', data(1), new Date('2026-01-02T03:04:05.000Z'));
  expect(jobs.dir).toBe(join(dataDir, ACCEPTED_JOBS_DIR));
  expect(await readdir(jobs.dir)).toEqual(['train-iris+iris.k0123.json']);
  expect(JSON.parse(await readFile(join(jobs.dir, 'train-iris+iris.k0123.json'), 'utf8'))).toEqual({
    format_version: 1,
    queue: 'train-iris',
    job_id: 'iris.k0123',
    accepted_at: '2026-01-02T03:04:05.000Z',
    data: data(1),
  });
  expect(await jobs.has('train-iris', 'iris.k0123')).toBe(true);
  expect(await jobs.has('registry', 'iris.k0123')).toBe(false);
  expect(await jobs.read('train-iris', 'iris.k0123')).toMatchObject({ job_id: 'iris.k0123', accepted_at: '2026-01-02T03:04:05.000Z', data: data(1) });
  expect(await jobs.read('registry', 'iris.k0123')).toBeUndefined();
});

test('lists the records oldest accepted first; a record written again is replaced whole; remove is idempotent', async () => {
  expect(await jobs.list()).toEqual({ jobs: [], unreadable: [] }); // no folder yet
  await jobs.record('train-iris', 'iris.b', data(2), new Date('2026-01-01T00:00:02.000Z'));
  await jobs.record('train-iris', 'iris.a', data(3), new Date('2026-01-01T00:00:03.000Z'));
  await jobs.record('registry', 'iris.register-x', data(1), new Date('2026-01-01T00:00:01.000Z'));
  await jobs.record('train-iris', 'iris.b', data(4), new Date('2026-01-01T00:00:04.000Z'));
  const listed = await jobs.list();
  expect(listed.unreadable).toEqual([]);
  expect(listed.jobs.map((j) => [j.queue, j.job_id, j.data.request_id])).toEqual([
    ['registry', 'iris.register-x', 'req-1'],
    ['train-iris', 'iris.a', 'req-3'],
    ['train-iris', 'iris.b', 'req-4'],
  ]);
  await jobs.remove('train-iris', 'iris.b');
  await jobs.remove('train-iris', 'iris.b');
  expect((await jobs.list()).jobs.map((j) => j.job_id)).toEqual(['iris.register-x', 'iris.a']);
});

test('names that cannot be a file name safely are refused, never written', async () => {
  for (const [queue, id] of [
    ['train-iris', '../escape'],
    ['train-iris', 'a/b'],
    ['train-iris', '.hidden'],
    ['train-iris', 'a+b'],
    ['../x', 'iris.a'],
    ['train-iris', ''],
  ] as const) {
    await expect(jobs.record(queue, id, data(1))).rejects.toThrow(/cannot name an accepted-job record/);
  }
  expect(await jobs.list()).toEqual({ jobs: [], unreadable: [] });
});

test('damaged files and files named for another job are reported, never removed; temp files are ignored', async () => {
  await jobs.record('train-iris', 'iris.good', data(1));
  await writeFile(join(jobs.dir, 'train-iris+iris.torn.json'), '{"format_version":1,"queue":"tr');
  await writeFile(join(jobs.dir, 'train-iris+iris.other.json'), await readFile(join(jobs.dir, 'train-iris+iris.good.json')));
  await writeFile(join(jobs.dir, 'train-iris+iris.schema.json'), JSON.stringify({ format_version: 1, queue: 'train-iris', job_id: 'iris.schema' }));
  await writeFile(join(jobs.dir, '.train-iris+iris.x.json.123.abc.tmp'), 'partial');
  const listed = await jobs.list();
  expect(listed.jobs.map((j) => j.job_id)).toEqual(['iris.good']);
  expect(listed.unreadable.map((u) => [u.file, u.reason.split(':')[0]])).toEqual([
    ['train-iris+iris.other.json', 'inconsistent'],
    ['train-iris+iris.schema.json', 'invalid_schema'],
    ['train-iris+iris.torn.json', 'invalid_json'],
  ]);
  expect((await readdir(jobs.dir)).sort()).toHaveLength(5);
});
