import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeTempDir, removeDir, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';

// A bad spec stops each service at start with a message naming the file, the place in the
// JSON and what is wrong (issue 8), rather than serving a model it cannot describe.

const ROOT = resolve(__dirname, '..');
let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('ct-catalog-start-');
});
afterAll(async () => removeDir(dir));

function start(service: 'api' | 'trainer', catalog: string) {
  return spawnSync(process.execPath, [join(ROOT, `services/${service}/dist/main.js`)], {
    env: { ...process.env, CT_CATALOG_DIR: catalog, CT_DATA_DIR: join(dir, 'data'), REDIS_URL: TEST_REDIS_URL, CT_REDIS_PREFIX: uniquePrefix(), PORT: '0' },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

test.each(['api', 'trainer'] as const)('%s: a spec with duplicate levels stops the start with exit 2, naming the file and the JSON path', (service) => {
  const catalog = join(dir, `bad-${service}`);
  mkdirSync(catalog, { recursive: true });
  copyFileSync(join(ROOT, 'catalog/iris.json'), join(catalog, 'iris.json'));
  const penguins = JSON.parse(readFileSync(join(ROOT, 'catalog/penguins.json'), 'utf8'));
  penguins.features[5].levels = ['female', 'female'];
  writeFileSync(join(catalog, 'penguins.json'), JSON.stringify(penguins));
  const r = start(service, catalog);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(`${join(catalog, 'penguins.json')} at features[5].levels: levels must be unique`);
});

test('api: a catalogue without the default model is refused', () => {
  const catalog = join(dir, 'no-iris');
  mkdirSync(catalog, { recursive: true });
  copyFileSync(join(ROOT, 'catalog/penguins.json'), join(catalog, 'penguins.json'));
  const r = start('api', catalog);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/no spec of the default model iris/);
});
