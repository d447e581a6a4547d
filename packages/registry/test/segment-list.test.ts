import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore, EMPTY_LIST, SegmentLists, type SegmentListRef } from '../src';

// Lists of segment hashes grow by one batch per accepted job. Stored whole in every record
// they made a job's writes grow with the history; as chained nodes an append writes one
// node of at most 64 hashes, whatever the list's length (issue 8, storage that does not grow).

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ct-lists-'));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

const h = (i: number) => i.toString(16).padStart(64, '0');

test('1,000 appends: the items come back in order, and each append writes one node of bounded size', async () => {
  const lists = new SegmentLists(new DirectoryStore(root), 'lists');
  let list: SegmentListRef = EMPTY_LIST;
  const sizes: number[] = [];
  for (let i = 0; i < 1000; i++) {
    list = await lists.append(list, [h(i)]);
    sizes.push((await stat(join(root, 'lists', `${list.head}.json`))).size);
  }
  expect(list.count).toBe(1000);
  const fresh = new SegmentLists(new DirectoryStore(root), 'lists');
  expect(await fresh.items(list)).toEqual(Array.from({ length: 1000 }, (_, i) => h(i)));
  expect(Math.max(...sizes)).toBeLessThan(5000);
  expect(sizes[999]).toBeLessThanOrEqual(1.5 * (sizes[9] as number) + 4500);
  // An earlier list is unchanged by later appends: versions keep their own.
  expect(await fresh.items({ head: (await lists.append(EMPTY_LIST, [h(0)])).head, count: 1 })).toEqual([h(0)]);
});

test('a damaged or renamed node is refused with the file named', async () => {
  const lists = new SegmentLists(new DirectoryStore(root), 'lists');
  const list = await lists.append(await lists.append(EMPTY_LIST, [h(1)]), [h(2)]);
  const path = join(root, 'lists', `${list.head}.json`);
  await writeFile(path, (await readFile(path, 'utf8')).replace(h(2), h(3)));
  await expect(new SegmentLists(new DirectoryStore(root), 'lists').items(list)).rejects.toMatchObject({ kind: 'checksum_mismatch', path });
  expect((await readdir(join(root, 'lists'))).length).toBe(2);
});
