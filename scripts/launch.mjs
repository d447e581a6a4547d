// `npm start`: installs and builds (first run), finds or starts Redis, runs the trainer and
// the API as child processes, and stops them all on Ctrl-C, SIGINT, SIGTERM or SIGHUP (exit
// code 0). Settings come from the environment (see the README's configuration table); the
// services parse and validate them themselves.
//
// Signals. The children run in process groups of their own, so a terminal's Ctrl-C (SIGINT to
// the whole foreground group) reaches the launcher alone, and the launcher stops them in
// order: the services first (the trainer finishes its running job), then a private Redis,
// which they need until they are done. `npm start` runs this script with `exec` (package.json):
// npm forwards SIGINT and SIGTERM to its child, and through a shell in between they killed the
// shell only, which left this process and the stack running and npm exiting 130 or 143.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ROOT, setup } from './setup.mjs';

const log = (msg) => console.log(`[launcher] ${msg}`);

/** Sends PING and resolves true on +PONG (or an auth error: something Redis answers). */
function redisAnswers(url, timeoutMs = 1000) {
  const u = new URL(url);
  return new Promise((done) => {
    const sock = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const finish = (ok) => {
      sock.destroy();
      done(ok);
    };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.on('error', () => finish(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => finish(/^(\+PONG|-NOAUTH)/.test(d.toString())));
  });
}

function freePort() {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => done(port));
    });
  });
}

async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${ms / 1000} s`);
}

/** Every child spawned, in start order; `last` ones (Redis) are stopped after the others. */
const children = [];
let stopping = false;

const alive = (c) => c.proc.exitCode === null && c.proc.signalCode === null;

/** Stops the services, then Redis (each SIGTERM, SIGKILL after 30 s), and exits with `code`. */
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  log('stopping...');
  const stopGroup = async (group) => {
    await Promise.all(
      group.filter(alive).map(
        (c) =>
          new Promise((done) => {
            const kill = setTimeout(() => c.proc.kill('SIGKILL'), 30_000);
            c.proc.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            c.proc.kill('SIGTERM');
          }),
      ),
    );
  };
  // Services first, Redis last: they need it to shut down cleanly.
  await stopGroup(children.filter((c) => !c.last));
  await stopGroup(children.filter((c) => c.last));
  log('stopped.');
  process.exit(code);
}

/** Spawns a child in a process group of its own (see the top of this file) and tracks it. */
function spawnChild(name, command, args, options, last = false) {
  const proc = spawn(command, args, { ...options, detached: true });
  children.push({ name, proc, last });
  return proc;
}

async function main() {
  // Installed before anything is spawned: a signal at any point stops what has started.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stopAll(0));
  // However else the launcher ends (a crash), its children, in groups of their own, must not outlive it.
  process.on('exit', () => {
    for (const c of children) if (alive(c)) c.proc.kill('SIGTERM');
  });

  setup();
  const env = { ...process.env };
  env.CT_DATA_DIR = resolve(env.CT_DATA_DIR ?? join(ROOT, 'data'));
  env.REDIS_URL ??= 'redis://127.0.0.1:6379';
  const dataDir = env.CT_DATA_DIR;
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });

  if (!(await redisAnswers(env.REDIS_URL))) {
    const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
    if (!hasRedis) {
      console.error(
        `[launcher] no Redis answers at ${env.REDIS_URL}, and redis-server is not on the PATH.\n` +
          '  Start one (e.g. `docker run -p 6379:6379 redis:7` or `apt-get install redis-server`),\n' +
          '  or point REDIS_URL at yours, then run `npm start` again.',
      );
      process.exit(1);
    }
    const port = await freePort();
    if (stopping) return;
    const dir = join(dataDir, 'redis');
    mkdirSync(dir, { recursive: true });
    log(`no Redis at ${env.REDIS_URL}; starting a private redis-server on 127.0.0.1:${port} (files in ${dir})`);
    spawnChild(
      'redis',
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction', '--logfile', join(logDir, 'redis.log')],
      { stdio: 'ignore' },
      true,
    );
    env.REDIS_URL = `redis://127.0.0.1:${port}`;
    // On failure main() rejects and the process exits; the exit handler stops redis-server.
    await waitFor(() => redisAnswers(env.REDIS_URL), 10_000, 'redis-server');
  }
  // PORT=0 means any free port: chosen here, since the launcher must know it to probe the API.
  if (env.PORT === '0') env.PORT = String(await freePort());
  if (stopping) return;

  const start = (name, script) => {
    const proc = spawnChild(name, process.execPath, [join(ROOT, script)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    for (const stream of [proc.stdout, proc.stderr]) {
      stream.pipe(file, { end: false });
      stream.pipe(process.stdout, { end: false });
    }
    proc.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`[launcher] ${name} exited unexpectedly (${signal ?? `code ${code}`}); see ${join(logDir, `${name}.log`)}`);
        void stopAll(1);
      }
    });
  };
  start('trainer', 'services/trainer/dist/main.js');
  start('api', 'services/api/dist/main.js');

  const host = env.HOST ?? '127.0.0.1';
  const port = env.PORT ?? '8000';
  const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  // 503 until the API has loaded a model version: expected, and logged by the API as a warning.
  const ready = async () => {
    try {
      const res = await fetch(`${base}/health`);
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(ready, 60_000, 'the API');
  } catch (err) {
    console.error(`[launcher] ${err.message}; see the logs in ${logDir}`);
    await stopAll(1);
    return;
  }
  if (stopping) return;
  log(`stack ready: ${base} (API docs at ${base}/docs), Redis ${env.REDIS_URL}, data in ${dataDir}. Ctrl-C stops it.`);
}

main().catch((err) => {
  console.error(`[launcher] ${err.stack ?? err}`);
  process.exit(1);
});
