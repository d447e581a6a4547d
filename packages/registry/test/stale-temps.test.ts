import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { removeStaleTemps, writeTempSynced } from '../src';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ct-stale-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const age = async (path: string, ms: number): Promise<void> => {
  const t = (Date.now() - ms) / 1000;
  await utimes(path, t, t);
};

test('removes the temp files of writes whose writer died, older than the age given, and nothing else', async () => {
  // Named by the writer itself: a crash between its write and its rename leaves exactly these.
  const oldVersion = await writeTempSynced(join(dir, 'models', 'iris', 'versions', 'v3', 'data.json'), '{"rows":[]}');
  const oldRecord = await writeTempSynced(join(dir, 'accepted-jobs', 'train-iris+j1.json'), '{}');
  const fresh = await writeTempSynced(join(dir, 'accepted-jobs', 'train-iris+j2.json'), '{}');
  // A secret's staging file (packages/auth): `<name>.<pid>.<hex>.tmp`, no leading dot.
  const secret = join(dir, 'secrets', 'token-secret.4242.0123456789ab.tmp');
  await mkdir(join(dir, 'secrets'));
  await writeFile(secret, 'x');
  // Not temp files of ours, however old.
  const kept = [join(dir, 'models', 'iris', 'history.jsonl'), join(dir, 'notes.tmp'), join(dir, '.cache.tmp')];
  for (const path of kept) await writeFile(path, 'keep');
  for (const path of [oldVersion, oldRecord, secret, ...kept]) await age(path, 2 * HOUR);
  await age(fresh, 60_000);
  // A link to a folder elsewhere is not followed.
  const outside = await mkdtemp(join(tmpdir(), 'ct-stale-outside-'));
  try {
    const foreign = await writeTempSynced(join(outside, 'x.json'), '{}');
    await age(foreign, 2 * HOUR);
    await symlink(outside, join(dir, 'linked'));

    const removed = await removeStaleTemps(dir, HOUR);

    expect(removed.sort()).toEqual([oldVersion, oldRecord, secret].sort());
    expect(await readdir(join(dir, 'accepted-jobs'))).toEqual([basename(fresh)]);
    expect(await readdir(join(dir, 'models', 'iris', 'versions', 'v3'))).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['.cache.tmp', 'accepted-jobs', 'linked', 'models', 'notes.tmp', 'secrets']);
    expect(await readdir(outside)).toEqual([basename(foreign)]);
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test('a data directory that does not exist yet has nothing to remove', async () => {
  expect(await removeStaleTemps(join(dir, 'absent'))).toEqual([]);
});
