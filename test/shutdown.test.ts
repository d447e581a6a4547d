import { spawn } from 'node:child_process';
import { freePort, makeTempDir, removeDir } from '@ct/testing';
import { join, resolve } from 'node:path';

// SIGTERM ends each service promptly and cleanly, even while Redis is unreachable (BullMQ's
// close calls would otherwise wait for a connection that never comes back).

const ROOT = resolve(__dirname, '..');


let dataDir: string;
beforeAll(async () => {
  dataDir = await makeTempDir('ct-shutdown-');
});
afterAll(async () => {
  await removeDir(dataDir);
});

test.each([
  ['api', 'services/api/dist/main.js', 'api listening'],
  ['trainer', 'services/trainer/dist/main.js', 'trainer starting'],
])('%s exits on SIGTERM while Redis is down', async (_name, script, readyLine) => {
  const deadRedis = await freePort();
  const proc = spawn(process.execPath, [join(ROOT, script)], {
    env: { ...process.env, CT_DATA_DIR: dataDir, PORT: '0', REDIS_URL: `redis://127.0.0.1:${deadRedis}`, CT_SHUTDOWN_TIMEOUT_MS: '2000', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const started = new Promise<void>((done, fail) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(readyLine)) done();
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    // A crash before the ready line fails at once, with the output, rather than timing out.
    proc.once('exit', (code) => fail(new Error(`exited (${code}) before "${readyLine}":\n${out}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => proc.on('exit', (code, signal) => done({ code, signal })));
  await started;
  proc.kill('SIGTERM');
  const result = await exited;
  expect(result).toEqual({ code: 0, signal: null });
  expect(out).toContain('shutting down');
}, 30_000);
