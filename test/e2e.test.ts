import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cleanupRedis, freePort, makeTempDir, portAnswers, removeDir, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';

// The stack as a user runs it: `npm start` (the launcher), then `npm run demo -- --reset`,
// then Ctrl-C. Processes, ports and files are real.

const ROOT = resolve(__dirname, '..');


interface Stack {
  proc: ChildProcess;
  output: () => string;
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startStack(env: Record<string, string>): Stack {
  const proc = spawn(process.execPath, [join(ROOT, 'scripts/launch.mjs')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((done, fail) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('stack ready')) done();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.on('exit', (code) => fail(new Error(`launcher exited (${code}) before ready:\n${out}`)));
  });
  const exited = new Promise<number | null>((done) => proc.on('exit', (code) => done(code)));
  return { proc, output: () => out, ready, exited };
}

async function healthVersion(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return ((await res.json()) as { model_version: string }).model_version;
}

let dataDir: string;
const prefix = uniquePrefix('ct-e2e');

beforeAll(async () => {
  dataDir = await makeTempDir('ct-e2e-');
});
afterAll(async () => {
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

test('npm start, the demo with --reset, Ctrl-C; a fresh data dir gives the same bootstrap version', async () => {
  const port = await freePort();
  const env = { REDIS_URL: TEST_REDIS_URL, CT_DATA_DIR: dataDir, PORT: String(port), CT_REDIS_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const first = startStack(env);
  await first.ready;
  const bootVersion = await healthVersion(port);
  expect(bootVersion).toMatch(/^v1\.0-[0-9a-f]{6}$/);

  // No token configured: the API made an admin token in the data directory, for the owner only,
  // and the demo finds it there as a user's `npm run demo` does.
  expect(statSync(join(dataDir, 'secrets', 'admin-token')).mode & 0o777).toBe(0o600);
  const demo = spawnSync(process.execPath, [join(ROOT, 'scripts/dist/demo.js'), '--url', `http://127.0.0.1:${port}`, '--reset'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, CT_DATA_DIR: dataDir },
  });
  expect(demo.stdout).toContain('demo passed');
  expect(demo.status).toBe(0);

  first.proc.kill('SIGINT');
  expect(await first.exited).toBe(0);
  expect(await portAnswers(port)).toBe(false);

  // A new user deletes the data directory and starts again, this time with no Redis at
  // REDIS_URL: the launcher starts a private redis-server under the data directory.
  await removeDir(dataDir);
  const deadRedis = await freePort();
  const second = startStack({ ...env, REDIS_URL: `redis://127.0.0.1:${deadRedis}` });
  await second.ready;
  expect(second.output()).toContain('starting a private redis-server');
  expect(await healthVersion(port)).toBe(bootVersion);
  const privatePort = Number(/private redis-server on 127\.0\.0\.1:(\d+)/.exec(second.output())?.[1]);
  expect(await portAnswers(privatePort)).toBe(true);
  second.proc.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  expect(await portAnswers(privatePort)).toBe(false);
}, 180_000);
