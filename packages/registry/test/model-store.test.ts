import { setHash } from '@ct/core';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ArtifactError,
  buildArtifact,
  CommitConflictError,
  createFileExclusive,
  HistoryLog,
  loadClassifier,
  rebuildHistory,
  ModelStore,
  EMPTY_LIST,
} from '../src';
import { artifactBody, historyEntry, trainingSet, versionData } from './fixtures';

let root: string;
let store: ModelStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ct-store-'));
  store = new ModelStore(root, 'iris');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const body = artifactBody;
const entry = historyEntry;


test('the version id is a function of N and the body, not of the time', () => {
  const a = buildArtifact(1, body(), new Date(0));
  const b = buildArtifact(1, body(), new Date());
  expect(a.version).toBe(b.version);
  expect(a.version).toMatch(/^v1\.0-[0-9a-f]{6}$/);
  expect(buildArtifact(2, body()).version).toMatch(/^v2\.0-/);
});

test('nothing is active before a commit; applyActive follows the head of the history', async () => {
  expect(await store.readActive()).toBeUndefined();
  expect(await store.applyActive()).toBeUndefined();
  const a = buildArtifact(1, body());
  const seg = await store.segments.put(trainingSet);
  const e = entry(1, a.version, a.version, 'bootstrap');
  await store.writeCandidate(a, versionData(e, await store.lists.append(EMPTY_LIST, [seg])));
  // Written but not committed: still nothing active.
  expect(await store.readActive()).toBeUndefined();
  await store.commit(e);
  expect(await store.committedActive()).toBe(a.version);
  expect(await store.applyActive()).toBe(a.version);
  expect((await store.readActive())?.version).toBe(a.version);
  expect(await store.trainingRows(a.version)).toEqual(trainingSet);
  expect(loadClassifier(a).classifier.nClasses).toBe(3);
});

test('a tampered artifact is refused with a checksum error', async () => {
  const a = buildArtifact(1, body());
  const e = entry(1, a.version, a.version, 'bootstrap');
  await store.writeCandidate(a, versionData(e, await store.lists.append(EMPTY_LIST, [await store.segments.put(trainingSet)])));
  await store.commit(e);
  await store.applyActive();
  const tampered = JSON.parse(await readFile(store.activePath, 'utf8'));
  tampered.body.seed = 2;
  await writeFile(store.activePath, JSON.stringify(tampered));
  await expect(store.readActive()).rejects.toMatchObject({ kind: 'checksum_mismatch' });
  await writeFile(store.activePath, '{"format_version":1,');
  await expect(store.readActive()).rejects.toBeInstanceOf(ArtifactError);
  await expect(store.readActive()).rejects.toMatchObject({ kind: 'invalid_json' });
  await writeFile(store.activePath, JSON.stringify({ ...tampered, format_version: 99 }));
  await expect(store.readActive()).rejects.toMatchObject({ kind: 'invalid_schema' });
  // applyActive replaces a damaged copy with the version's own file.
  expect(await store.applyActive()).toBe(a.version);
  expect((await store.readActive())?.version).toBe(a.version);
});

describe('the history log', () => {
  test('entry N is created once: of 20 concurrent writers of the same entry exactly one wins', async () => {
    const logs = Array.from({ length: 20 }, () => new HistoryLog(join(root, 'h')));
    const results = await Promise.allSettled(logs.map((log, i) => log.append({ ...entry(1, 'v1.0-aaaaaa', 'v1.0-aaaaaa'), job_id: `w${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost).toHaveLength(19);
    for (const r of lost) expect(r.reason).toBeInstanceOf(CommitConflictError);
    const winner = logs[results.findIndex((r) => r.status === 'fulfilled')] as HistoryLog;
    const fresh = new HistoryLog(join(root, 'h'));
    expect((await fresh.sync()).map((e) => e.job_id)).toEqual([(await winner.head())?.job_id]);
    // No temp file is left behind.
    expect(await readdir(join(root, 'h'))).toEqual(['000000001.json']);
  });

  test('createFileExclusive never replaces an existing file', async () => {
    const p = join(root, 'x.json');
    expect(await createFileExclusive(p, 'first')).toBe(true);
    expect(await createFileExclusive(p, 'second')).toBe(false);
    expect(await readFile(p, 'utf8')).toBe('first');
  });

  test('a second process sees entries appended by another; a deleted log is noticed', async () => {
    const a = new HistoryLog(join(root, 'h'));
    const b = new HistoryLog(join(root, 'h'));
    await a.append(entry(1, 'v1.0-aaaaaa', 'v1.0-aaaaaa'));
    expect((await b.head())?.seq).toBe(1);
    await a.append(entry(2, 'v2.0-bbbbbb', 'v2.0-bbbbbb'));
    expect((await b.head())?.seq).toBe(2);
    expect((await b.findJob('job-2'))?.version).toBe('v2.0-bbbbbb');
    // Appending at a number already taken is a conflict, not an overwrite.
    await expect(b.append(entry(2, 'v2.0-cccccc', 'v2.0-cccccc'))).rejects.toBeInstanceOf(CommitConflictError);
    await rm(join(root, 'h'), { recursive: true });
    expect(await b.head()).toBeUndefined();
  });

  test('a damaged entry, a gap, or an entry under the wrong number is an error naming the file', async () => {
    const log = new HistoryLog(join(root, 'h'));
    await log.append(entry(1, 'v1.0-aaaaaa', 'v1.0-aaaaaa'));
    await log.append(entry(2, 'v2.0-bbbbbb', 'v2.0-bbbbbb'));
    await log.append(entry(3, 'v3.0-cccccc', 'v3.0-cccccc'));
    const p2 = join(root, 'h', '000000002.json');
    const good = await readFile(p2, 'utf8');
    const cases: [string, string, string][] = [
      ['truncated', good.slice(0, 40), 'invalid_json'],
      ['garbage', '\u0000\u0001 not json', 'invalid_json'],
      ['wrong schema', JSON.stringify({ entries: [] }), 'invalid_schema'],
      ['edited body', good.replace('"n_training_samples":3', '"n_training_samples":4'), 'checksum_mismatch'],
      ['old format', good.replace('"format_version":2', '"format_version":1'), 'unsupported_format'],
    ];
    for (const [what, text, kind] of cases) {
      await writeFile(p2, text);
      const err = await new HistoryLog(join(root, 'h')).sync().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect([what, err]).toEqual([what, expect.objectContaining({ kind, path: p2 })]);
    }
    await rm(p2);
    await expect(new HistoryLog(join(root, 'h')).sync()).rejects.toMatchObject({ kind: 'inconsistent', reason: expect.stringContaining('entry 2 is missing') });
    await writeFile(p2, (await readFile(join(root, 'h', '000000003.json'), 'utf8')));
    await expect(new HistoryLog(join(root, 'h')).sync()).rejects.toMatchObject({ kind: 'inconsistent', path: p2 });
  });
});

describe('damage is reported, never bootstrapped over', () => {
  test('versions without a history: head() refuses and names the rebuild command', async () => {
    const a = buildArtifact(1, body());
    await store.writeCandidate(a, versionData(entry(1, a.version, a.version, 'bootstrap'), await store.lists.append(EMPTY_LIST, [await store.segments.put(trainingSet)])));
    await expect(store.head()).rejects.toMatchObject({ kind: 'history_missing', reason: expect.stringContaining('rebuild-history --model iris') });
    // Either file of a version is enough to refuse: a model.json alone, or a data.json alone.
    await rm(join(store.dir, 'versions', a.version, 'data.json'));
    await expect(new ModelStore(root, 'iris').head()).rejects.toMatchObject({ kind: 'history_missing' });
    await mkdir(join(store.dir, 'versions', 'v2.0-abcdef'));
    await writeFile(join(store.dir, 'versions', 'v2.0-abcdef', 'data.json'), '{}');
    await rm(join(store.dir, 'versions', a.version), { recursive: true });
    await expect(new ModelStore(root, 'iris').head()).rejects.toMatchObject({ kind: 'history_missing' });
  });

  test('a version folder with no file of a version yet (its writer died first) is no version: the bootstrap goes ahead', async () => {
    // A bootstrap killed while writing its first file leaves its folder, at most with a temp file in it.
    await mkdir(join(store.dir, 'versions', 'v1.0-abcdef'), { recursive: true });
    await writeFile(join(store.dir, 'versions', 'v1.0-abcdef', '.data.json.4242.0123456789ab.tmp'), '{"partial');
    expect(await store.head()).toBeUndefined();
    expect(await store.listVersions()).toEqual([]);
    // And the bootstrap's candidate lands in that folder as in any other.
    const a = buildArtifact(1, body());
    await store.writeCandidate(a, versionData(entry(1, a.version, a.version, 'bootstrap'), await store.lists.append(EMPTY_LIST, [await store.segments.put(trainingSet)])));
    expect(await store.listVersions()).toEqual([a.version]);
  });

  test('a history from the previous release is refused with a clear reason', async () => {
    await mkdir(store.dir, { recursive: true });
    await writeFile(join(store.dir, 'training_history.json'), '{"format_version":1,"model":"iris","entries":[]}');
    await expect(store.head()).rejects.toMatchObject({ kind: 'unsupported_format' });
  });

  test('a segment whose rows do not match its hash is refused', async () => {
    const hash = await store.segments.put(trainingSet);
    expect(hash).toBe(setHash(trainingSet));
    const path = join(store.dir, 'segments', `${hash}.json`);
    const file = JSON.parse(await readFile(path, 'utf8'));
    file.data.y = [1, 2, 0]; // labels rotated: the kind of damage that would poison training
    await writeFile(path, JSON.stringify(file));
    await expect(new ModelStore(root, 'iris').segments.get(hash)).rejects.toMatchObject({ kind: 'checksum_mismatch', path });
  });

  test('version data is sealed: an edited file is refused', async () => {
    const a = buildArtifact(1, body());
    const e = entry(1, a.version, a.version, 'bootstrap');
    await store.writeCandidate(a, versionData(e, await store.lists.append(EMPTY_LIST, [await store.segments.put(trainingSet)])));
    const path = join(store.dir, 'versions', a.version, 'data.json');
    await writeFile(path, (await readFile(path, 'utf8')).replace('"parent":null', '"parent":"v9.0-aaaaaa"'));
    await expect(store.readVersionData(a.version)).rejects.toMatchObject({ kind: 'checksum_mismatch' });
  });
});

describe('rebuildHistory', () => {
  const candidate = async (seq: number, nSamples: number, activated: boolean, active: string | null) => {
    const a = buildArtifact(seq, { ...body(), training: { ...body().training, n_samples: nSamples } });
    const e = entry(seq, a.version, activated ? a.version : (active as string));
    await store.writeCandidate(a, versionData(e, await store.lists.append(EMPTY_LIST, [await store.segments.put(trainingSet)])));
    return { a, e };
  };

  test('rebuilds the attempts from versions/ in order and activates the last live one', async () => {
    const v1 = await candidate(1, 3, true, null);
    const v2 = await candidate(2, 4, true, v1.a.version);
    const v3 = await candidate(3, 5, false, v2.a.version);
    for (const c of [v1, v2, v3]) await store.commit(c.e);
    await rm(store.history.dir, { recursive: true });
    const fresh = new ModelStore(root, 'iris');
    await expect(fresh.head()).rejects.toMatchObject({ kind: 'history_missing' });
    const report = await rebuildHistory(fresh);
    expect(report.entries.map((e) => [e.seq, e.version, e.status])).toEqual([
      [1, v1.a.version, 'activated'],
      [2, v2.a.version, 'activated'],
      [3, v3.a.version, 'rejected'],
    ]);
    expect(report.active).toBe(v2.a.version);
    expect(await fresh.committedActive()).toBe(v2.a.version);
    expect((await fresh.readActive())?.version).toBe(v2.a.version);
  });

  test('refuses a history that is not empty, and two candidates claiming one entry', async () => {
    const v1 = await candidate(1, 3, true, null);
    await store.commit(v1.e);
    await expect(rebuildHistory(store)).rejects.toMatchObject({ kind: 'inconsistent' });
    await rm(store.history.dir, { recursive: true });
    await candidate(2, 4, true, v1.a.version);
    await candidate(2, 5, true, v1.a.version);
    await expect(rebuildHistory(new ModelStore(root, 'iris'))).rejects.toMatchObject({ kind: 'inconsistent', reason: expect.stringContaining('both claim history entry 2') });
  });
});

test('concurrent syncs of one log share the read: no entry is taken in twice, none is missed', async () => {
  const writer = new HistoryLog(join(root, 'h'));
  const reader = new HistoryLog(join(root, 'h'));
  for (let seq = 1; seq <= 30; seq++) {
    await writer.append(entry(seq, `v${seq}.0-aaaaaa`, `v${seq}.0-aaaaaa`));
    // A poll, a request and an activation message reading at once, as in the API.
    await Promise.all([reader.sync(), reader.head(), reader.findJob(`job-${seq}`)]);
  }
  expect((await reader.sync()).map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  expect((await reader.head())?.seq).toBe(30);
});
