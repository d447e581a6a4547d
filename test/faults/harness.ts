/**
 * The fault suite's harness: the stack as it runs in production (the built API and trainer
 * as processes, from `dist`, configured by environment), on a private redis-server (so a test
 * may stop, freeze or empty it; the shared Redis is never touched), a temp data directory and
 * a catalogue of the models the test needs. Then a client that sends the admin token, helpers
 * to wait for jobs, and the check every fault test ends with: nothing accepted is lost or run
 * twice.
 *
 * "Accepted" means answered 2xx with a job id. Such a job must end `completed` or `failed`
 * (never vanish), a completed job must be in its model's history exactly once, a failed one
 * not at all, no two entries may share a version number, and every API must serve the
 * version the history says is active.
 */
import { cleanupRedis, eventually, freePort, makeTempDir, removeDir, startPrivateRedis, TEST_REDIS_URL, uniquePrefix, type PrivateRedis } from '@ct/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export { eventually, freePort, makeTempDir, removeDir, startPrivateRedis, uniquePrefix, type PrivateRedis } from '@ct/testing';

/** The repository root. */
export const ROOT = resolve(__dirname, '../..');
/** The built API the processes run (`npm run build` first). */
export const API_MAIN = join(ROOT, 'services/api/dist/main.js');
/** The built trainer the processes run. */
export const TRAINER_MAIN = join(ROOT, 'services/trainer/dist/main.js');

/**
 * A fresh admin token (`CT_ADMIN_TOKEN`, at least 24 visible ASCII characters). Every request
 * sends it as `Authorization: Bearer`: routes that need no token ignore it.
 */
export const newAdminToken = (): string => `fault-admin-${randomBytes(12).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// Processes

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A service (or any command) as a child process, with the tail of its output. */
export class ServiceProcess {
  readonly proc: ChildProcess;
  readonly exited: Promise<Exit>;
  /** Set when the test stops the process on purpose: its exit is then no failure. */
  expectingExit = false;
  private out = '';

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: Record<string, string>,
    opts: { detached?: boolean } = {},
  ) {
    this.proc = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
    // Only the tail: enough to explain a crash, not a run's worth of request logs.
    const keep = (d: Buffer): void => {
      this.out = (this.out + d.toString()).slice(-40_000);
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    this.exited = new Promise<Exit>((done) => this.proc.once('exit', (code, signal) => done({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  /** Its stdout and stderr so far (the last 40 KB). */
  output(): string {
    return this.out;
  }

  alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first or the deadline passes. */
  waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    return new Promise((done, fail) => {
      const check = (): boolean => {
        const m = pattern.exec(this.out);
        if (m) {
          cleanup();
          done(m);
        }
        return m !== null;
      };
      const onData = (): void => void check();
      const onExit = (code: number | null, signal: string | null): void => {
        if (check()) return;
        cleanup();
        fail(new Error(`${this.name} exited (code ${code}, signal ${signal}) before printing ${pattern}:\n${this.out.slice(-3000)}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        fail(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.out.slice(-3000)}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.proc.stdout?.off('data', onData);
        this.proc.stderr?.off('data', onData);
        this.proc.off('exit', onExit);
      };
      this.proc.stdout?.on('data', onData);
      this.proc.stderr?.on('data', onData);
      this.proc.once('exit', onExit);
      if (!this.alive()) onExit(this.proc.exitCode, this.proc.signalCode);
      else check();
    });
  }

  /** Sends `signal` (the exit that follows is expected unless it is SIGSTOP or SIGCONT). */
  signal(signal: NodeJS.Signals): void {
    if (signal !== 'SIGSTOP' && signal !== 'SIGCONT') this.expectingExit = true;
    if (this.alive()) this.proc.kill(signal);
  }

  /** SIGKILL, and resolves once it has exited. */
  async kill(): Promise<Exit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM; SIGKILL if it has not exited within `graceMs`. Resolves with how it exited. */
  async stop(graceMs = 15_000): Promise<Exit> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** An answer, its body parsed when it is JSON. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** Options of one request. */
export interface RequestOptions {
  json?: unknown;
  headers?: Record<string, string>;
  /** Client-side timeout; default 30 s. */
  timeoutMs?: number;
}

/** A fetch client for one API that sends the admin token on every request. */
export class Client {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...(opts.headers ?? {}) };
    let body: string | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000) });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, headers: res.headers, text, body: /[/+]json\b/.test(type) && text.length > 0 ? JSON.parse(text) : undefined };
  }

  get = (path: string, opts?: RequestOptions): Promise<HttpResponse> => this.request('GET', path, opts);
  post = (path: string, opts?: RequestOptions): Promise<HttpResponse> => this.request('POST', path, opts);
  delete = (path: string, opts?: RequestOptions): Promise<HttpResponse> => this.request('DELETE', path, opts);
}

/** `GET /jobs/:id`, as the client sees it. */
export interface JobView {
  job_id: string;
  model: string;
  kind: string;
  state: 'queued' | 'running' | 'completed' | 'failed';
  progress: unknown;
  result: { status: string; model_version: string; active_version: string; [k: string]: unknown } | null;
  error: string | null;
  attempts_made: number;
}

/** One entry of `GET /models/:model/history`. */
export interface HistoryItem {
  seq: number;
  version: string;
  source: string;
  status: string;
  job_id: string | null;
  active_after: string;
}

// ---------------------------------------------------------------------------------------------
// The stack

/** An API process and its client. */
export interface ApiProcess {
  service: ServiceProcess;
  port: number;
  client: Client;
}

/** Settings of a {@link FaultStack}. */
export interface FaultStackOptions {
  /** Models of the catalogue the services load (default iris only: each built-in model is bootstrapped at start). */
  models?: readonly string[];
  /** A private redis-server (default), or the shared one under a unique prefix (for tests that never touch Redis). */
  redis?: 'private' | 'shared';
  /**
   * `off` (default) lifts the API's per-caller rate limits and queue caps: the fault tests send
   * bursts from one admin token, and quotas have their own tests. `default` keeps them.
   */
  quotas?: 'off' | 'default';
}

/** The environment that turns the API's rate limits and queue caps off (0 turns a limit off). */
export const QUOTAS_OFF: Readonly<Record<string, string>> = Object.freeze({
  CT_RATE_PREDICT: '0',
  CT_RATE_READ: '0',
  CT_RATE_TRAIN: '0',
  CT_RATE_ADMIN: '0',
  CT_MAX_QUEUED_PER_MODEL: '100000',
  CT_MAX_QUEUED_PER_CALLER: '100000',
});

/**
 * A stack of processes on one data directory, one Redis and one key prefix. Services are
 * started one by one (`startApi`, `startTrainer`) so a test can have two of each, kill one
 * and start another. `watch` fails a wait at once when a service dies unexpectedly, with
 * its output. `close` kills whatever is left and removes the directory and the keys.
 */
export class FaultStack {
  readonly services: ServiceProcess[] = [];
  readonly apis: ApiProcess[] = [];
  readonly token = newAdminToken();
  redis: PrivateRedis | undefined;
  private died: Promise<never> = new Promise<never>(() => undefined);
  private closed = false;

  private constructor(
    readonly dataDir: string,
    readonly catalogDir: string,
    readonly prefix: string,
    readonly redisUrl: string,
    redis: PrivateRedis | undefined,
    private readonly quotas: 'off' | 'default',
  ) {
    this.redis = redis;
  }

  /** A data directory, a catalogue of `models`, a key prefix and (by default) a private Redis. */
  static async create(opts: FaultStackOptions = {}): Promise<FaultStack> {
    const root = await makeTempDir('ct-faults-');
    const dataDir = join(root, 'data');
    const catalogDir = join(root, 'catalog');
    mkdirSync(dataDir);
    mkdirSync(catalogDir);
    for (const m of opts.models ?? ['iris']) copyFileSync(join(ROOT, 'catalog', `${m}.json`), join(catalogDir, `${m}.json`));
    const redis = opts.redis === 'shared' ? undefined : await startPrivateRedis();
    return new FaultStack(dataDir, catalogDir, uniquePrefix('ct-faults'), redis?.url ?? TEST_REDIS_URL, redis, opts.quotas ?? 'off');
  }

  /** The environment both services share. */
  private baseEnv(): Record<string, string> {
    return { REDIS_URL: this.redisUrl, CT_DATA_DIR: this.dataDir, CT_CATALOG_DIR: this.catalogDir, CT_REDIS_PREFIX: this.prefix };
  }

  /** Spawns `script` under this stack's watch: an exit nobody asked for fails the next `watch`. */
  spawn(name: string, script: string, env: Record<string, string>): ServiceProcess {
    const s = new ServiceProcess(name, process.execPath, [script], env);
    this.services.push(s);
    const died = s.exited.then((e) => {
      if (!s.expectingExit && !this.closed) throw new Error(`${name} exited unexpectedly (code ${e.code}, signal ${e.signal}):\n${s.output().slice(-3000)}`);
      return new Promise<never>(() => undefined);
    });
    died.catch(() => undefined); // observed through `watch`
    this.died = Promise.race([this.died, died]);
    return s;
  }

  /** `p`, or the first unexpected death of a service while waiting for it. */
  watch<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.died]);
  }

  /**
   * Starts an API (LOG_LEVEL warn, no prediction log, 500 ms reload poll unless `env` says
   * otherwise) on a free port, and resolves once it answers HTTP (any status: it may still be
   * waiting for its first version).
   */
  async startApi(env: Record<string, string> = {}, name = `api-${this.apis.length + 1}`): Promise<ApiProcess> {
    const port = await freePort();
    const service = this.spawn(name, API_MAIN, {
      ...this.baseEnv(),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      CT_PREDICTION_LOG: 'false',
      CT_RELOAD_INTERVAL_MS: '500',
      CT_ADMIN_TOKEN: this.token,
      ...(this.quotas === 'off' ? QUOTAS_OFF : {}),
      ...env,
    });
    const api: ApiProcess = { service, port, client: new Client(`http://127.0.0.1:${port}`, this.token) };
    await this.watch(
      eventually(
        async () => {
          await api.client.get('/health', { timeoutMs: 2000 });
          return true;
        },
        30_000,
        `${name} answers HTTP`,
        50,
      ),
    );
    this.apis.push(api);
    return api;
  }

  /**
   * Starts a trainer (LOG_LEVEL info: its lines say what it did with each job) and resolves
   * once it logged `ready` (by default `trainer ready`: its workers take jobs). `env` adds or
   * overrides variables (CT_LOCK_DURATION_MS, CT_STALLED_INTERVAL_MS, CT_SHUTDOWN_TIMEOUT_MS...).
   */
  async startTrainer(
    env: Record<string, string> = {},
    name = `trainer-${this.services.filter((s) => s.name.startsWith('trainer')).length + 1}`,
    ready: RegExp = /"msg":"trainer ready"/,
  ): Promise<ServiceProcess> {
    const s = this.spawn(name, TRAINER_MAIN, { ...this.baseEnv(), LOG_LEVEL: 'info', CT_CATALOG_POLL_MS: '500', ...env });
    await this.watch(s.waitForOutput(ready, 30_000));
    return s;
  }

  /** Waits until `api` serves `model` (its `/models/:model/health` is 200), and returns the served version. */
  async serving(api: ApiProcess, model = 'iris', timeoutMs = 30_000): Promise<string> {
    const r = await this.watch(
      eventually(
        async () => {
          const h = await api.client.get(`/models/${model}/health`, { timeoutMs: 5000 });
          return h.status === 200 ? h : undefined;
        },
        timeoutMs,
        `${model} served`,
        50,
      ),
    );
    return r.body.model_version as string;
  }

  /** The private Redis, which the tests may stop. */
  private get privateRedis(): PrivateRedis {
    if (!this.redis) throw new Error('this stack runs on the shared Redis, which a test never stops');
    return this.redis;
  }

  /** SIGKILLs the private Redis. */
  async stopRedis(): Promise<void> {
    await this.privateRedis.kill();
  }

  /** Starts the private Redis again, empty (no persistence), on the same port. */
  async restartRedisEmpty(): Promise<void> {
    const r = this.privateRedis;
    if (r.child.exitCode === null && r.child.signalCode === null) await r.kill();
    this.redis = await startPrivateRedis(r.port);
  }

  /** SIGSTOP (a hung Redis: connections stay open, nothing answers) or SIGCONT. */
  freezeRedis(frozen: boolean): void {
    this.privateRedis.child.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Kills every process left, then removes the volume and the keys (the shared Redis's, by prefix). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.services.filter((s) => s.alive()).map((s) => s.kill()));
    if (this.redis) {
      this.redis.child.kill('SIGCONT');
      await this.redis.kill();
    } else {
      await cleanupRedis(this.prefix);
    }
    await removeDir(join(this.dataDir, '..'));
  }
}

// ---------------------------------------------------------------------------------------------
// Jobs, and the check that nothing accepted is lost or run twice

/**
 * Polls `GET /jobs/:id` for each of `ids` (spread over `clients`) until every one is completed
 * or failed. A job that answers 404 is lost: reported at once, not waited for.
 */
export async function settle(clients: readonly Client[], ids: readonly string[], timeoutMs = 60_000): Promise<Map<string, JobView>> {
  const done = new Map<string, JobView>();
  const lost = new Set<string>();
  await eventually(
    async () => {
      const pending = ids.filter((id) => !done.has(id) && !lost.has(id));
      await Promise.all(
        pending.map(async (id, i) => {
          const r = await (clients[i % clients.length] as Client).get(`/jobs/${encodeURIComponent(id)}`, { timeoutMs: 10_000 });
          if (r.status === 404) lost.add(id);
          else if (r.status === 200 && (r.body.state === 'completed' || r.body.state === 'failed')) done.set(id, r.body as JobView);
        }),
      );
      if (lost.size > 0) return true;
      const left = ids.filter((id) => !done.has(id));
      // Thrown, so that a timeout names the jobs still running.
      if (left.length > 0) throw new Error(`${left.length} of ${ids.length} jobs unfinished: ${left.slice(0, 10).join(', ')}`);
      return true;
    },
    timeoutMs,
    'every accepted job completed or failed',
    200,
  );
  if (lost.size > 0) throw new Error(`accepted jobs lost (GET /jobs/:id answers 404): ${[...lost].join(', ')}`);
  return done;
}

/** Every entry of `model`'s history, oldest first (all pages of `GET /models/:model/history`). */
export async function historyOf(client: Client, model = 'iris'): Promise<HistoryItem[]> {
  const out: HistoryItem[] = [];
  let cursor: string | null = null;
  do {
    const r = await client.get(`/models/${model}/history?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (r.status !== 200) throw new Error(`GET /models/${model}/history answered ${r.status}: ${r.text.slice(0, 500)}`);
    out.push(...(r.body.entries as HistoryItem[]));
    cursor = r.body.next_cursor as string | null;
  } while (cursor);
  return out.sort((a, b) => a.seq - b.seq);
}

/** The N of `vN.0-xxxxxx`. */
export const versionNumber = (v: string): number => Number(/^v(\d+)\.0-[0-9a-f]{6}$/.exec(v)?.[1] ?? NaN);

/**
 * What is wrong with the jobs `settled` against `model`'s history as every API reports it
 * (an empty list when nothing): each completed job in the history once, each failed job not
 * at all, no version number used twice by new candidates, the APIs agreeing on the history
 * and converging on its active version. Jobs of kinds that record no entry when they change
 * nothing (a rollback to the active version) are left out by the caller.
 */
export async function acceptedProblems(apis: readonly ApiProcess[], settled: ReadonlyMap<string, JobView>, model = 'iris'): Promise<string[]> {
  const problems: string[] = [];
  const histories = await Promise.all(apis.map((a) => historyOf(a.client, model)));
  const history = histories[0] ?? [];
  const lines = (h: HistoryItem[]) => h.map((e) => `${e.seq} ${e.job_id} ${e.version}`).join('\n');
  for (const [i, h] of histories.entries()) if (lines(h) !== lines(history)) problems.push(`API ${i + 1} reports another history than API 1 (${h.length} vs ${history.length} entries)`);

  const count = new Map<string, number>();
  for (const e of history) if (e.job_id) count.set(e.job_id, (count.get(e.job_id) ?? 0) + 1);
  const jobs = [...settled.values()].filter((j) => j.model === model);
  for (const j of jobs) {
    const n = count.get(j.job_id) ?? 0;
    if (j.state === 'completed' && n !== 1) problems.push(`completed job ${j.job_id} (${j.result?.status} ${j.result?.model_version}) is in the history ${n} times`);
    if (j.state === 'failed' && n !== 0) problems.push(`failed job ${j.job_id} (${j.error}) is in the history ${n} times: the client was told it failed, yet it took effect`);
  }
  // New candidates take fresh numbers; a reset or rollback re-activates an existing one.
  const byNumber = new Map<number, string[]>();
  for (const e of history.filter((h) => h.source === 'bootstrap' || h.source === 'train')) {
    const n = versionNumber(e.version);
    byNumber.set(n, [...(byNumber.get(n) ?? []), `${e.version} (${e.job_id})`]);
  }
  for (const [n, vs] of byNumber) if (!Number.isNaN(n) && vs.length > 1) problems.push(`version number v${n} is used ${vs.length} times: ${vs.join(', ')}`);
  const malformed = history.filter((e) => Number.isNaN(versionNumber(e.version)));
  if (malformed.length > 0) problems.push(`history versions not of the form vN.0-xxxxxx: ${malformed.map((e) => e.version).join(', ')}`);
  const results = new Map<string, string[]>();
  for (const j of jobs.filter((x) => x.state === 'completed' && x.kind === 'train' && x.result)) {
    const v = j.result?.model_version as string;
    results.set(v, [...(results.get(v) ?? []), j.job_id]);
  }
  for (const [v, ids] of results) if (ids.length > 1) problems.push(`${ids.length} completed jobs were told they made ${v}: ${ids.join(', ')}`);

  const active = history.at(-1)?.active_after;
  try {
    await eventually(
      async () => {
        const served = await Promise.all(apis.map(async (a) => (await a.client.get(`/models/${model}/health`)).body?.model_version as string));
        if (served.some((v) => v !== active)) throw new Error(`served ${served.join(', ')}, history says ${active}`);
        return true;
      },
      15_000,
      'every API serves the committed version',
      100,
    );
  } catch (err) {
    problems.push((err as Error).message);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Data

/** One iris row with its label (0 setosa, 1 versicolor, 2 virginica). */
export type IrisSample = { sepal_length: number; sepal_width: number; petal_length: number; petal_width: number; label: number };

/** A row of each class, for predictions. */
export const SETOSA = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

/** The bundled iris data as `/train` samples (150 rows, CSV order). */
export function irisSamples(): IrisSample[] {
  const classes = ['setosa', 'versicolor', 'virginica'];
  return readFileSync(join(ROOT, 'datasets', 'iris.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [a, b, c, d, species] = line.split(',');
      return { sepal_length: Number(a), sepal_width: Number(b), petal_length: Number(c), petal_width: Number(d), label: classes.indexOf(String(species).trim()) };
    });
}

/** A seeded standard-normal source (mulberry32 + Box-Muller): rows reproducible and distinct per seed. */
function seededNormal(seed: number): () => number {
  let state = seed | 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** `n` correctly labeled iris rows, classes in turn: each class's mean plus seeded jitter, rounded to 1 mm. */
export function cleanIrisRows(n: number, seed: number): IrisSample[] {
  const means = [
    [5.006, 3.428, 1.462, 0.246],
    [5.936, 2.77, 4.26, 1.326],
    [6.588, 2.974, 5.552, 2.026],
  ];
  const normal = seededNormal(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    // Measurements must be > 0; the jitter can take a setosa petal width to 0 after rounding.
    const [a, b, c, d] = (means[label] as number[]).map((m) => Math.max(0.1, Math.round((m + normal() * 0.1) * 10) / 10));
    return { sepal_length: a as number, sepal_width: b as number, petal_length: c as number, petal_width: d as number, label };
  });
}

/**
 * The body of a job that spends a second or more in the fit thread, to be interrupted: the
 * slow gradient-descent baseline (`ml_logistic_regression`, 1,000 steps) on `rows` rows.
 */
export const slowTrainBody = (rows = 400, seed = 7): Record<string, unknown> => ({ samples: cleanIrisRows(rows, seed), algorithm: 'ml_logistic_regression' });

/** Waits until job `id` is in the fit thread (its progress stage is `fitting`). */
export async function waitFitting(client: Client, id: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => {
      const r = await client.get(`/jobs/${encodeURIComponent(id)}`, { timeoutMs: 5000 });
      return r.body?.state === 'running' && (r.body.progress as { stage?: string } | null)?.stage === 'fitting';
    },
    timeoutMs,
    `job ${id} fitting`,
    25,
  );
}
