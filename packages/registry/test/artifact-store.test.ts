import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ArtifactError,
  buildArtifact,
  DirectoryStore,
  ModelStore,
  type ArtifactBody,
  type ArtifactStore,
  type FileStamp,
  type HistoryEntry,
  EMPTY_LIST,
} from '../src';
import { artifactBody, historyEntry, trainingSet } from './fixtures';

let root: string;
let store: DirectoryStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ct-artifact-store-'));
  store = new DirectoryStore(root);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('DirectoryStore', () => {
  test('an absent key reads as undefined; locate is the file path under the root', async () => {
    expect(await store.read('models/iris/model_active.json')).toBeUndefined();
    expect(store.locate('models/iris/model_active.json')).toBe(join(root, 'models', 'iris', 'model_active.json'));
    expect(store.locate('')).toBe(root);
  });

  test('an unreadable key is an ArtifactError naming the file', async () => {
    await mkdir(join(root, 'a.json')); // a folder where a file is expected: EISDIR
    await expect(store.read('a.json')).rejects.toMatchObject({ name: 'ArtifactError', kind: 'unreadable', path: join(root, 'a.json') });
  });

  test('writeAtomic then read round-trips, creating folders and leaving no temp file', async () => {
    await store.writeAtomic('models/iris/x.json', 'one');
    expect(await store.read('models/iris/x.json')).toBe('one');
    await store.writeAtomic('models/iris/x.json', 'two');
    expect(await store.read('models/iris/x.json')).toBe('two');
    expect(await readdir(join(root, 'models', 'iris'))).toEqual(['x.json']);
  });

  test('createExclusive succeeds once; the second writer gets false and the contents stay', async () => {
    expect(await store.createExclusive('h/000000001.json', 'first')).toBe(true);
    expect(await store.createExclusive('h/000000001.json', 'second')).toBe(false);
    expect(await readFile(join(root, 'h', '000000001.json'), 'utf8')).toBe('first');
  });

  test('list names what is directly under a folder, sub-folders with a trailing slash', async () => {
    expect(await store.list('models')).toEqual([]);
    await store.writeAtomic('models/iris/a.json', 'a');
    await store.writeAtomic('models/iris/versions/v1.0-abcdef/model.json', 'm');
    await writeFile(join(root, 'models', 'stray.txt'), 's');
    expect((await store.list('models')).sort()).toEqual(['iris/', 'stray.txt']);
    expect((await store.list('models/iris')).sort()).toEqual(['a.json', 'versions/']);
  });

  test('stamp is undefined when absent and changes when the contents are replaced', async () => {
    expect(await store.stamp('a.json')).toBeUndefined();
    await store.writeAtomic('a.json', 'one');
    const first = (await store.stamp('a.json')) as FileStamp;
    expect(first).toBeDefined();
    await store.writeAtomic('a.json', 'one'); // same size, maybe same mtime: the inode differs
    expect(await store.stamp('a.json')).not.toEqual(first);
  });

  test('remove deletes a folder recursively, and an absent one quietly', async () => {
    await store.writeAtomic('v/1/model.json', 'm');
    await store.writeAtomic('v/1/data.json', 'd');
    await store.writeAtomic('v/2/model.json', 'm');
    await store.remove('v/1');
    expect(await store.list('v')).toEqual(['2/']);
    await store.remove('v/1');
    await store.remove('nothing/here');
  });
});

/** The interface is all the registry needs: a Map is enough to run a model on. */
class MemoryStore implements ArtifactStore {
  readonly files = new Map<string, { text: string; generation: number }>();
  private generation = 0;

  read(key: string): Promise<string | undefined> {
    return Promise.resolve(this.files.get(key)?.text);
  }
  writeAtomic(key: string, contents: string): Promise<void> {
    this.files.set(key, { text: contents, generation: ++this.generation });
    return Promise.resolve();
  }
  createExclusive(key: string, contents: string): Promise<boolean> {
    if (this.files.has(key)) return Promise.resolve(false);
    this.files.set(key, { text: contents, generation: ++this.generation });
    return Promise.resolve(true);
  }
  list(prefix: string): Promise<string[]> {
    const from = prefix === '' ? '' : `${prefix}/`;
    const names = new Set<string>();
    for (const key of this.files.keys()) {
      if (!key.startsWith(from)) continue;
      const [first, ...rest] = key.slice(from.length).split('/');
      names.add(rest.length > 0 ? `${first}/` : (first as string));
    }
    return Promise.resolve([...names]);
  }
  stamp(key: string): Promise<FileStamp | undefined> {
    const f = this.files.get(key);
    return Promise.resolve(f && { ino: f.generation, mtimeMs: 0, size: f.text.length });
  }
  remove(prefix: string): Promise<void> {
    for (const key of [...this.files.keys()]) if (key === prefix || key.startsWith(`${prefix}/`)) this.files.delete(key);
    return Promise.resolve();
  }
  locate(key: string): string {
    return `memory:${key}`;
  }
}

test('a ModelStore on an in-memory ArtifactStore bootstraps, commits and reads back', async () => {
  const rows = trainingSet;
  const body: ArtifactBody = artifactBody();
  const mem = new MemoryStore();
  const store = new ModelStore(mem, 'iris');
  expect(await store.head()).toBeUndefined();
  const a = buildArtifact(1, body);
  const segment = await store.segments.put(rows);
  const e: HistoryEntry = { ...historyEntry(1, a.version, a.version, 'bootstrap', segment), n_batch_samples: 3, eval_set: { size: 3, trusted: 3, growing: 0 }, data_hash: segment };
  await store.writeCandidate(a, { job_id: 'job-1', parent: null, training: await store.lists.append(EMPTY_LIST, [segment]), batch: null, batch_holdout: null, trusted: segment, growing: EMPTY_LIST, entry: e });
  await store.commit(e);
  expect(await store.applyActive()).toBe(a.version);
  expect(store.activePath).toBe('memory:models/iris/model_active.json');
  expect([...mem.files.keys()].every((k) => k.startsWith('models/iris/'))).toBe(true);

  // A second instance has no cache: everything it returns was read through the interface.
  const fresh = new ModelStore(mem, 'iris');
  expect(await fresh.committedActive()).toBe(a.version);
  expect((await fresh.readHistory()).entries.map((x) => x.job_id)).toEqual(['job-1']);
  expect((await fresh.readActive())?.checksum).toBe(a.checksum);
  expect(await fresh.statActive()).toBeDefined();
  expect(await fresh.listVersions()).toEqual([a.version]);
  expect(await fresh.trainingRows(a.version)).toEqual(rows);
  expect((await fresh.evalRows(e.state)).trusted).toEqual(rows);
  // The commit primitive holds: a second entry 1 is a conflict.
  await expect(fresh.commit(e)).rejects.toMatchObject({ name: 'CommitConflictError', seq: 1 });
  // Errors name the location the store gives.
  mem.files.set(`models/iris/segments/${segment}.json`, { text: '{', generation: 99 });
  await expect(new ModelStore(mem, 'iris').segments.get(segment)).rejects.toBeInstanceOf(ArtifactError);
  await expect(new ModelStore(mem, 'iris').segments.get(segment)).rejects.toMatchObject({ path: `memory:models/iris/segments/${segment}.json` });
});
