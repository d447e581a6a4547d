/**
 * Test harness for the API's integration tests: a real API (createServer + listen(0)), a real
 * Trainer, real Redis (shared, under a unique prefix, or a private redis-server child), temp
 * data dirs, a tiny fetch client and a polling `eventually`. Nothing here mocks a component.
 */
import { fromMatrix, irisSpec, modelSpecs, parseNumericCsv, type ModelSpec } from '@ct/core';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import IORedis from 'ioredis';
import { freePort } from '../../../../test/free-port';
import pino, { type Logger } from 'pino';
import { FitThreadClient } from '../../../trainer/src/fit-thread-client';
import { TrainPipeline } from '../../../trainer/src/train-pipeline';
import { Trainer } from '../../../trainer/src/trainer';
import type { JobData, JobResult } from '@ct/queue';
import { ActivationSubscriber } from '../../src/activation-subscriber';
import { createServer } from '../../src/server';
import { JobQueues } from '../../src/job-queues';
import { ModelCache } from '../../src/model-cache';
import { PredictionLog } from '../../src/prediction-log';

export const REPO_ROOT = resolve(__dirname, '../../../..');
export const DATASETS_DIR = join(REPO_ROOT, 'datasets');
export const SHARED_REDIS_URL = process.env.CT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SPECS: readonly ModelSpec[] = Object.values(modelSpecs);

export const silentLogger = (): Logger => pino({ level: 'silent' });

/** A Redis key prefix no other test file uses. */
export const uniquePrefix = (): string => `ct-test-${randomBytes(5).toString('hex')}`;

export const makeTempDir = (tag = 'ct-api-test-'): Promise<string> => mkdtemp(join(tmpdir(), tag));
export const removeDir = (dir: string | undefined): Promise<void> => (dir ? rm(dir, { recursive: true, force: true }) : Promise.resolve());

/**
 * Polls `fn` until it returns something truthy (and returns that), or throws after
 * `timeoutMs` with the last error / value. `fn` may throw while the condition is not met.
 */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, what = 'condition', intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`eventually: ${what} not met within ${timeoutMs} ms (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Deletes every key under `prefix:` (never anything else) on the Redis at `url`. */
export async function cleanupRedis(prefix: string, url = SHARED_REDIS_URL): Promise<void> {
  const redis = new IORedis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body when it is JSON (any `+json` type), else undefined. */
  body: any;
}

export interface RequestOptions {
  /** Serialized with JSON.stringify and sent as application/json. */
  json?: unknown;
  /** Raw body (sent as is, with `contentType` or application/json). */
  raw?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
  /** Client-side timeout (AbortSignal); default 30 s. */
  timeoutMs?: number;
}

/** A minimal HTTP client over Node's fetch. */
export class Client {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: string | Uint8Array | undefined;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] ??= opts.contentType ?? 'application/json';
    } else if (opts.raw !== undefined) {
      body = opts.raw;
      headers['content-type'] ??= opts.contentType ?? 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body as RequestInit['body'],
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown;
    const type = res.headers.get('content-type') ?? '';
    if (/[/+]json\b/.test(type) && text.length > 0) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  get = (path: string, opts?: RequestOptions) => this.request('GET', path, opts);
  post = (path: string, opts?: RequestOptions) => this.request('POST', path, opts);
  delete = (path: string, opts?: RequestOptions) => this.request('DELETE', path, opts);
}

// ---------------------------------------------------------------------------------------------
// Services

export interface ApiHandle {
  client: Client;
  server: Server;
  cache: ModelCache;
  queues: JobQueues;
  subscriber: ActivationSubscriber | undefined;
  predictionLog: PredictionLog;
  close(): Promise<void>;
}

/** Wires the API as `main.ts` does (optionally without the pub/sub subscriber) and listens on port 0. */
export async function startApi(opts: {
  dataDir: string;
  prefix: string;
  redisUrl?: string;
  pollIntervalMs?: number;
  subscriber?: boolean;
  predictionLog?: boolean;
  logger?: Logger;
}): Promise<ApiHandle> {
  const logger = opts.logger ?? silentLogger();
  const redisUrl = opts.redisUrl ?? SHARED_REDIS_URL;
  const cache = new ModelCache({ dataDir: opts.dataDir, specs: SPECS, pollIntervalMs: opts.pollIntervalMs ?? 2000, logger });
  const queues = new JobQueues({ redisUrl, prefix: opts.prefix, models: SPECS.map((s) => s.name), logger });
  const subscriber = opts.subscriber === false ? undefined : new ActivationSubscriber({ redisUrl, prefix: opts.prefix, cache, logger });
  const predictionLog = new PredictionLog(opts.dataDir, opts.predictionLog ?? true);
  await cache.start();
  const server = createServer({ dataDir: opts.dataDir, specs: SPECS, cache, queues, predictionLog, logger });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    client: new Client(`http://127.0.0.1:${port}`),
    server,
    cache,
    queues,
    subscriber,
    predictionLog,
    close: () =>
      (closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        cache.close();
        subscriber?.close();
        await predictionLog.close();
        await queues.close();
      })()),
  };
}

/** A real Trainer (BullMQ workers + the compiled fit thread). */
export async function startTrainer(opts: { dataDir: string; prefix: string; redisUrl?: string; models?: readonly string[]; logger?: Logger }): Promise<Trainer> {
  const trainer = new Trainer({
    redisUrl: opts.redisUrl ?? SHARED_REDIS_URL,
    prefix: opts.prefix,
    dataDir: opts.dataDir,
    datasetsDir: DATASETS_DIR,
    models: opts.models ?? [irisSpec.name],
    lockDurationMs: 30_000,
    shutdownTimeoutMs: 5_000,
    logger: opts.logger ?? silentLogger(),
  });
  await trainer.start();
  return trainer;
}

/**
 * The trainer's real pipeline (fit thread included) without BullMQ or Redis: runs jobs given
 * as plain payloads. `published` collects what it would announce; nothing is sent anywhere,
 * so an API over the same directory can only notice a change through its stat poll.
 */
export function createPipeline(dataDir: string, logger: Logger = silentLogger()) {
  const fitThread = new FitThreadClient();
  const published: { model: string; version: string }[] = [];
  const pipeline = new TrainPipeline({
    dataDir,
    datasetsDir: DATASETS_DIR,
    fitThread,
    logger,
    publish: async (model, version) => {
      published.push({ model, version });
    },
  });
  let n = 0;
  return {
    published,
    run: (data: JobData, id = `${data.model}.test-${++n}`): Promise<JobResult> =>
      pipeline.process({ id, data, updateProgress: async () => undefined }),
    close: () => fitThread.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// A private redis-server (for outage tests; the shared one is never touched)

export interface PrivateRedis {
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGKILLs the server and resolves when it has exited. Idempotent. */
  kill(): Promise<void>;
}

export async function startPrivateRedis(port?: number, timeoutMs = 10_000): Promise<PrivateRedis> {
  port ??= await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`redis-server did not start: ${out}`)), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`redis-server exited with ${code}: ${out}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/Ready to accept connections/i.test(out)) {
        clearTimeout(timer);
        res();
      }
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Data

export type IrisRow = { sepal_length: number; sepal_width: number; petal_length: number; petal_width: number };
export type IrisSample = IrisRow & { label: number };

/** The bundled iris data as `/train` samples (150 rows, classes in CSV order). */
export function irisSamples(): IrisSample[] {
  const table = parseNumericCsv(readFileSync(join(DATASETS_DIR, 'iris.csv'), 'utf8'), { target: irisSpec.dataset.labelColumn });
  return fromMatrix(table.x).map((row, i) => ({
    ...(Object.fromEntries(table.featureNames.map((name, j) => [name, row[j] as number])) as IrisRow),
    label: irisSpec.classes.indexOf(table.yRaw[i] as string),
  }));
}

export const SETOSA: IrisRow = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
