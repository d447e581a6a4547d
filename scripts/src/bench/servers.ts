import { createRedisConnection } from '@ct/queue';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request, useToken } from '../http-client';
import { PYTHON } from './fit';
import { commandWorks, exited, FatalWait, freePort, makeTempDir, onCleanup, run, spawnTracked, stopChild, waitFor } from './procs';
import { say, ROOT } from './util';

// The servers under test, each a child process of the bench: our stack (API + trainer, on a
// temp data dir and a unique Redis key prefix), the bare node:http floor, and the peer.

type Redis = ReturnType<typeof createRedisConnection>;

/** A running HTTP server under test. */
export interface Target {
  label: string;
  baseUrl: string;
  /** The process that serves (for CPU accounting). */
  pid: number | undefined;
}

/** The last lines of a log file (for error messages: the temp dir is removed at the end). */
function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts `node script` with stdout and stderr going to `logFile`. */
function startNode(script: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawnTracked(process.execPath, [script], { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/** Whether Redis at `url` answers PING within 2 s. */
async function redisAnswers(url: string): Promise<boolean> {
  const redis = createRedisConnection(url, 'producer', 'ct-bench-probe');
  redis.on('error', () => undefined);
  try {
    const pong = await Promise.race([redis.ping(), new Promise<string>((r) => setTimeout(() => r('timeout'), 2000))]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix:` (SCAN + DEL; never FLUSH*). Returns how many. */
async function deletePrefixedKeys(url: string, prefix: string): Promise<number> {
  const redis: Redis = createRedisConnection(url, 'producer', 'ct-bench-cleanup');
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // Guard against a pattern surprise: only keys that really start with the prefix.
      const mine = keys.filter((k) => k.startsWith(`${prefix}:`));
      if (mine.length > 0) deleted += await redis.del(...mine);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** Our stack: API + trainer as separate processes; the API can be restarted with other settings. */
export class OurStack {
  readonly prefix = `ctbench-${process.pid}-${randomBytes(3).toString('hex')}`;
  /** The stack's tokens (the bench's own requests go as admin, see useToken). */
  readonly adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  readonly clientToken = `bench-client-${randomBytes(16).toString('hex')}`;
  private readonly dir = makeTempDir('stack');
  readonly dataDir = join(this.dir, 'data');
  private redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  private redisNote = '';
  private trainer: ChildProcess | undefined;
  private api: ChildProcess | undefined;
  private apiSettings = '';
  baseUrl = '';

  constructor() {
    useToken(this.adminToken);
  }

  /** Redis: the configured one if it answers (true), else a private redis-server on a free port, if installed (false). */
  private async ensureRedis(): Promise<boolean> {
    if (await redisAnswers(this.redisUrl)) {
      this.redisNote = `Redis ${this.redisUrl} (shared; keys under ${this.prefix}:*, deleted at the end)`;
      return true;
    }
    if (!(await commandWorks('redis-server', ['--version']))) {
      throw new Error(`no Redis answers at ${this.redisUrl} and redis-server is not on the PATH (set REDIS_URL or install redis-server)`);
    }
    const port = await freePort();
    const redisDir = join(this.dir, 'redis');
    mkdirSync(redisDir);
    const child = spawnTracked('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no', '--logfile', join(redisDir, 'redis.log')], { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    await waitFor('private redis-server', async () => ((await redisAnswers(url)) ? true : undefined), child, 10_000, 100);
    this.redisUrl = url;
    this.redisNote = `a private redis-server on port ${port} (none answered at ${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'})`;
    return false;
  }

  get redisDescription(): string {
    return this.redisNote;
  }

  private env(extra: Record<string, string>): NodeJS.ProcessEnv {
    return {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      REDIS_URL: this.redisUrl,
      CT_DATA_DIR: this.dataDir,
      CT_REDIS_PREFIX: this.prefix,
      LOG_LEVEL: 'info',
      CT_PREDICTION_LOG: 'true',
      // Auth on, limits on with budgets the load never reaches: what they cost is measured,
      // never a 429 (the predict section varies these to show the cost).
      CT_ADMIN_TOKEN: this.adminToken,
      CT_CLIENT_TOKEN: this.clientToken,
      CT_RATE_PREDICT: '10000000',
      CT_RATE_READ: '10000000',
      CT_RATE_TRAIN: '10000000',
      CT_RATE_ADMIN: '10000000',
      CT_MAX_QUEUED_PER_MODEL: '1000000',
      CT_MAX_QUEUED_PER_CALLER: '1000000',
      ...extra,
    };
  }

  /** Starts Redis (if needed) and the trainer once, then the API with `apiEnv` unless it already runs with it. */
  async ensure(apiEnv: Record<string, string> = {}): Promise<Target> {
    const settings = JSON.stringify(apiEnv);
    if (this.api && this.apiSettings === settings && !exited(this.api)) return this.target();
    if (!this.trainer) {
      const shared = await this.ensureRedis();
      const url = this.redisUrl;
      const prefix = this.prefix;
      // A private redis-server goes away with its temp dir; a shared one keeps everyone
      // else's keys: delete only ours, after the API and the trainer have stopped.
      if (shared) {
        onCleanup(`Redis keys ${prefix}:*`, async () => {
          const n = await deletePrefixedKeys(url, prefix);
          say(`  removed ${n} Redis keys under ${prefix}:*`);
        });
      }
      mkdirSync(this.dataDir, { recursive: true });
      say(`  our stack: ${this.redisNote}; data in a temp dir`);
      this.trainer = startNode(join(ROOT, 'services', 'trainer', 'dist', 'main.js'), this.env({}), join(this.dir, 'trainer.log'));
    }
    if (this.api) await stopChild(this.api);
    // A free port chosen here rather than PORT=0: below LOG_LEVEL=info the API does not log
    // the port it listens on.
    const port = await freePort();
    const logFile = join(this.dir, `api-${Date.now()}.log`);
    this.api = startNode(join(ROOT, 'services', 'api', 'dist', 'main.js'), this.env({ PORT: String(port), ...apiEnv }), logFile);
    this.apiSettings = settings;
    const api = this.api;
    this.baseUrl = `http://127.0.0.1:${port}`;
    // 503 until the trainer's bootstrap version is loaded.
    const trainer = this.trainer;
    const trainerLog = join(this.dir, 'trainer.log');
    try {
      await this.waitReady(api, trainer);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- API log (end) ---\n${tail(logFile)}\n--- trainer log (end) ---\n${tail(trainerLog)}`);
    }
    return this.target();
  }

  private async waitReady(api: ChildProcess, trainer: ChildProcess): Promise<void> {
    await waitFor(
      'API /health',
      async () => {
        if (trainer.exitCode !== null || trainer.signalCode !== null) throw new FatalWait(`the trainer exited (${trainer.signalCode ?? `code ${trainer.exitCode}`}); see below`);
        return (await request(this.baseUrl, 'GET', '/health')).status === 200 ? true : undefined;
      },
      api,
      90_000,
      100,
    );
  }

  private target(): Target {
    return { label: 'ours', baseUrl: this.baseUrl, pid: this.api?.pid };
  }

  async stop(): Promise<void> {
    await Promise.all([this.api, this.trainer].filter((c): c is ChildProcess => c !== undefined).map((c) => stopChild(c)));
    this.api = undefined;
    this.trainer = undefined;
  }
}

/** The bare node:http floor, in its own process. */
export async function startBareServer(): Promise<{ target: Target; child: ChildProcess }> {
  const child = spawnTracked(process.execPath, [join(ROOT, 'scripts', 'dist', 'bench', 'bare-server.js')], { cwd: ROOT, env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolvePort, reject) => {
    let buf = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /"port":(\d+)/.exec(buf);
      if (m) resolvePort(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`bare server exited (code ${code})`)));
  });
  child.stdout?.resume();
  return { target: { label: 'floor', baseUrl: `http://127.0.0.1:${port}`, pid: child.pid }, child };
}


/** Why the peer cannot run, or undefined when it can. */
export async function peerUnavailable(peerDir: string | undefined): Promise<string | undefined> {
  if (!peerDir) return 'no --peer-dir given (e.g. --peer-dir ../shared/peer); the peer is not part of this repository';
  const dir = resolve(process.env.INIT_CWD ?? process.cwd(), peerDir);
  if (!existsSync(join(dir, 'main.py'))) return `${join(dir, 'main.py')} does not exist`;
  try {
    const r = await run(PYTHON, ['-c', 'import fastapi, uvicorn, sklearn, joblib; print(fastapi.__version__, uvicorn.__version__)'], {}, 60_000);
    if (r.code !== 0) return `${PYTHON} cannot import fastapi, uvicorn, sklearn and joblib (${r.stderr.trim().split('\n').pop()}); apt-get install -y python3-fastapi python3-uvicorn python3-sklearn python3-joblib`;
  } catch (err) {
    return `${PYTHON} not found (${(err as Error).message})`;
  }
  return undefined;
}

/** Versions of the peer's stack and whether uvicorn will use uvloop/httptools. */
export async function peerVersions(): Promise<string> {
  const code = `import fastapi, uvicorn, sklearn, importlib.util as u
print(f"FastAPI {fastapi.__version__}, uvicorn {uvicorn.__version__}, scikit-learn {sklearn.__version__}, uvloop {'yes' if u.find_spec('uvloop') else 'no'}, httptools {'yes' if u.find_spec('httptools') else 'no'}")`;
  const r = await run(PYTHON, ['-c', code], {}, 60_000);
  return r.stdout.trim();
}

/** Starts the peer (uvicorn, 1 worker) on a free loopback port with a temp models dir. */
export async function startPeer(peerDir: string, mode: 'sync' | 'async'): Promise<{ target: Target; child: ChildProcess }> {
  const dir = makeTempDir(`peer-${mode}`);
  const port = await freePort();
  const fd = openSync(join(dir, 'uvicorn.log'), 'a');
  let child: ChildProcess;
  try {
    child = spawnTracked(PYTHON, ['-m', 'uvicorn', 'main:app', '--host', '127.0.0.1', '--port', String(port), '--workers', '1'], {
      cwd: resolve(process.env.INIT_CWD ?? process.cwd(), peerDir),
      env: { ...process.env, IRIS_MODELS_DIR: join(dir, 'models'), IRIS_PREDICT_MODE: mode },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor('peer /health', async () => ((await request(baseUrl, 'GET', '/health')).status === 200 ? true : undefined), child, 120_000, 200);
  return { target: { label: `peer-${mode}`, baseUrl, pid: child.pid }, child };
}
