import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../src';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ct-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('writes the whole content and leaves no temp file behind', async () => {
  const path = join(dir, 'sub', 'a.json');
  await writeJsonAtomic(path, { a: 1 });
  expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ a: 1 });
  expect(await readdir(join(dir, 'sub'))).toEqual(['a.json']);
});

test('a concurrent reader only ever sees a complete old or new file', async () => {
  const path = join(dir, 'big.json');
  const payload = (k: number) => JSON.stringify({ k, pad: 'x'.repeat(512 * 1024) });
  await writeFile(path, payload(0));
  let writing = true;
  const seen = new Set<number>();
  const reader = (async () => {
    while (writing) {
      const text = await readFile(path, 'utf8');
      seen.add((JSON.parse(text) as { k: number }).k); // throws on a torn file
    }
  })();
  for (let k = 1; k <= 30; k++) await writeFileAtomic(path, payload(k));
  writing = false;
  await reader;
  expect(JSON.parse(await readFile(path, 'utf8')).k).toBe(30);
  expect(seen.size).toBeGreaterThan(0);
});

test('a failed write removes its temp file and keeps the old content', async () => {
  const path = join(dir, 'keep.json');
  await writeJsonAtomic(path, { ok: true });
  // Renaming a file over a non-empty directory fails after the temp file is written.
  const target = join(dir, 'occupied');
  await writeJsonAtomic(join(target, 'x.json'), {});
  await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
  expect((await readdir(dir)).sort()).toEqual(['keep.json', 'occupied']);
  expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ ok: true });
});
