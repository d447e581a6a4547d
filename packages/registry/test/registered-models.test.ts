import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ArtifactError,
  createArchive,
  createRegistration,
  listModelDirs,
  ModelStore,
  parseModelSpec,
  readArchive,
  readRegistration,
  registrationPath,
  whyModelNameTaken,
} from '../src';

// Models registered at run time and archived models are records on the volume (issue 8):
// written once, exclusively, checksummed; every replica reads the same files.

const spec = parseModelSpec(
  {
    name: 'toy',
    features: [{ name: 'size', type: 'numeric' }],
    target: { column: 'kind', classes: ['a', 'b'] },
    dataset: { file: 'toy.csv' },
    algorithm: 'logistic_regression',
    guardrails: { alpha: 0.05, min_accuracy: 0.5 },
  },
  'toy.json',
);
const registration = (jobId: string) => ({
  spec,
  bootstrap: { segment: 'a'.repeat(64), report: { rows: 10, dropped_no_label: 0, dropped_missing: 0, imputed_cells: 0, ignored_columns: [] } },
  registered_at: new Date().toISOString(),
  source: 'api' as const,
  file: null,
  request_id: 'req-1',
  job_id: jobId,
});

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ct-registered-'));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

test('a registration is written once: the second of one name loses; it reads back validated', async () => {
  expect(await readRegistration(root, 'toy')).toBeUndefined();
  expect(await createRegistration(root, registration('toy.register-1'))).toBe(true);
  expect(await createRegistration(root, registration('toy.register-2'))).toBe(false);
  const back = await readRegistration(root, 'toy');
  expect(back).toMatchObject({ job_id: 'toy.register-1', spec: { name: 'toy', seed: 42 } });
  expect(await listModelDirs(root)).toEqual(['toy']);
  expect(await whyModelNameTaken(root, ['iris'], 'toy')).toMatch(/model toy already exists \(registered/);
  expect(await whyModelNameTaken(root, ['iris'], 'iris')).toMatch(/built-in/);
  expect(await whyModelNameTaken(root, ['iris'], 'other')).toBeUndefined();
});

test('an edited spec.json is refused (checksum), naming the file', async () => {
  await createRegistration(root, registration('toy.register-1'));
  const path = registrationPath(root, 'toy');
  await writeFile(path, (await readFile(path, 'utf8')).replace('"size"', '"weight"'));
  await expect(readRegistration(root, 'toy')).rejects.toMatchObject({ kind: 'checksum_mismatch', path });
  await expect(readRegistration(root, 'toy')).rejects.toBeInstanceOf(ArtifactError);
});

test('an archive marker is written once and records who and why', async () => {
  const record = { model: 'toy', archived_at: new Date().toISOString(), request_id: 'req-9', job_id: 'toy.archive-1', reason: 'replaced' };
  expect(await readArchive(root, 'toy')).toBeUndefined();
  expect(await createArchive(root, record)).toBe(true);
  expect(await createArchive(root, { ...record, job_id: 'toy.archive-2' })).toBe(false);
  expect(await readArchive(root, 'toy')).toEqual(record);
});

test('a folder that holds a history is never taken for a free name', async () => {
  await mkdir(join(root, 'models', 'old', 'versions', 'v1.0-abcdef'), { recursive: true });
  // An empty version folder (a write that died before its first file) holds nothing to keep.
  expect(await whyModelNameTaken(root, [], 'old')).toBeUndefined();
  await writeFile(join(root, 'models', 'old', 'versions', 'v1.0-abcdef', 'model.json'), '{}');
  expect(await whyModelNameTaken(root, [], 'old')).toMatch(/already holds a history or versions/);
  expect(await new ModelStore(root, 'old').listVersions()).toEqual(['v1.0-abcdef']);
});
