/**
 * The bad-input suite's harness: a real stack (the built API and trainer as processes, on a
 * temp data directory and a unique Redis key prefix), a raw HTTP client that sends exactly
 * what the generator made, and readers of what the stack holds afterwards (the API's
 * resident memory, the BullMQ queues, each model's history).
 */
import { cleanupRedis, freePort, makeTempDir, removeDir, TEST_REDIS, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import { Queue } from 'bullmq';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** The bearer tokens the API is started with, one per role (CT_ADMIN_TOKEN, CT_TRAINER_TOKEN, CT_CLIENT_TOKEN). */
export interface Tokens {
  admin: string;
  trainer: string;
  client: string;
}

/** `text` with every token of `tokens` replaced by `<role-token>`: nothing printed shows a secret. */
export function maskTokens(text: string, tokens: Tokens): string {
  let out = text;
  for (const [role, token] of Object.entries(tokens)) out = out.split(token).join(`<${role}-token>`);
  return out;
}

/** One generated request, sent byte for byte as built. */
export interface FuzzRequest {
  /** The endpoint it was generated for (`POST /models/{model}/rollback`). */
  endpoint: string;
  method: string;
  /** The raw request target: path and query, already encoded as it goes on the wire. */
  path: string;
  /** Header values as latin1 text (each char one byte on the wire). */
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** Send the body chunked (no Content-Length) in two pieces. */
  chunked: boolean;
  /** What the body is, in a few words (its text may be megabytes). */
  note: string;
  /** The request in one line, for reports; tokens masked. */
  describe(): string;
}

/** The server's answer, or why there was none. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

/** A service of the stack as a child process. */
export interface Service {
  name: string;
  proc: ChildProcess;
  /** The last 50 KB of its stdout and stderr (errors of LOG_LEVEL=warn and up). */
  output(): string;
  alive(): boolean;
}

/** The running stack under test. */
export interface Stack {
  host: string;
  port: number;
  /** The tokens the API was started with; reads and the harness's own requests use the admin's. */
  tokens: Tokens;
  prefix: string;
  api: Service;
  trainer: Service;
  stop(): Promise<void>;
}

function startService(name: string, script: string, env: Record<string, string>): Service {
  const proc = spawn(process.execPath, [join(ROOT, script)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // Only the tail: enough to show an error or a crash without keeping a run's worth of logs.
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-50_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { name, proc, output: () => out, alive: () => proc.exitCode === null && proc.signalCode === null };
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. Resolves once it has exited. */
async function stopService(s: Service, graceMs = 15_000): Promise<void> {
  if (!s.alive()) return;
  const exited = new Promise<void>((r) => s.proc.once('exit', () => r()));
  s.proc.kill('SIGTERM');
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the trainer (it bootstraps every catalogue model) and the API on a free port, both
 * from `dist` (run `npm run build` first), and resolves once `/health` answers 200. The API
 * gets a token of its own per role (`CT_ADMIN_TOKEN` and the like), so the suite can reach
 * write endpoints past authentication, and be refused for the wrong role.
 */
export async function startStack(): Promise<Stack> {
  const prefix = uniquePrefix('ct-fuzz');
  const dataDir = await makeTempDir('ct-fuzz-');
  const port = await freePort();
  const host = '127.0.0.1';
  // Random per run, and longer than the API's minimum (32 characters).
  const tokens: Tokens = {
    admin: `fuzz-admin-${randomBytes(16).toString('hex')}`,
    trainer: `fuzz-trainer-${randomBytes(16).toString('hex')}`,
    client: `fuzz-client-${randomBytes(16).toString('hex')}`,
  };
  // warn: the log keeps the API's "unhandled error" lines (with their stack) and little else.
  const common = { REDIS_URL: TEST_REDIS_URL, CT_DATA_DIR: dataDir, CT_REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'production' };
  const trainer = startService('trainer', 'services/trainer/dist/main.js', common);
  const api = startService('api', 'services/api/dist/main.js', {
    ...common,
    HOST: host,
    PORT: String(port),
    CT_PREDICTION_LOG: 'false',
    CT_ADMIN_TOKEN: tokens.admin,
    CT_TRAINER_TOKEN: tokens.trainer,
    CT_CLIENT_TOKEN: tokens.client,
  });
  const stop = async (): Promise<void> => {
    await Promise.all([stopService(api), stopService(trainer)]);
    await cleanupRedis(prefix);
    await removeDir(dataDir);
  };
  const health: FuzzRequest = { endpoint: 'GET /health', method: 'GET', path: '/health', headers: {}, body: undefined, chunked: false, note: 'harness', describe: () => 'GET /health' };
  try {
    // 503 until the trainer's bootstrap versions are loaded. A service that exits fails the
    // start at once, with its output, rather than at the deadline.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const dead = [api, trainer].find((s) => !s.alive());
      if (dead) throw new Error(`${dead.name} exited (${dead.proc.exitCode ?? dead.proc.signalCode})`);
      const status = await send({ host, port }, health, 5_000).then((a) => a.status, () => 0);
      if (status === 200) break;
      if (Date.now() > deadline) throw new Error(`the API /health did not answer 200 within 90 s (last: ${status || 'no answer'})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- api ---\n${api.output()}\n--- trainer ---\n${trainer.output()}`);
  }
  return { host, port, tokens, prefix, api, trainer, stop };
}

/** Largest response kept (the OpenAPI document is the biggest answer, well under this). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * Sends `r` on a TCP connection of its own, byte for byte as built (no normalisation of the
 * path, no added Content-Type), and resolves with the answer, or rejects if none comes within
 * `timeoutMs`.
 *
 * A raw socket rather than node:http's client, and a kept-alive connection (closed here once
 * the answer is whole): a server may answer early (a 401, a 404, a 413) without reading the
 * rest of a large body. Had the request said `Connection: close`, the server would close with
 * the body unread, the kernel would reset the connection, and the client's next write would
 * fail and drop the connection with the answer unread. Kept alive, Node's server reads and
 * discards the rest of the body instead, as it does for any client.
 */
export function send(stack: Pick<Stack, 'host' | 'port'>, r: FuzzRequest, timeoutMs: number): Promise<Answer> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: ${stack.host}:${stack.port}`];
    for (const [k, v] of Object.entries(r.headers)) lines.push(`${k}: ${v}`);
    if (r.body) lines.push(r.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${r.body.length}`);
    const parts: Buffer[] = [Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')];
    if (r.body && r.chunked) {
      // Two chunks, then the last (empty) one.
      const half = Math.floor(r.body.length / 2);
      for (const c of [r.body.subarray(0, half), r.body.subarray(half)]) if (c.length > 0) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
      parts.push(Buffer.from('0\r\n\r\n'));
    } else if (r.body) {
      parts.push(r.body);
    }
    let received = Buffer.alloc(0);
    let lastError: Error | undefined;
    let settled = false;
    const socket = connect({ host: stack.host, port: stack.port });
    const finish = (answer: Answer | undefined, why?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (answer) done(answer);
      else fail(new Error(why));
    };
    const timer = setTimeout(() => finish(undefined, `no answer within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => {
      socket.cork();
      for (const p of parts) socket.write(p);
      socket.uncork();
    });
    socket.on('data', (d: Buffer) => {
      if (received.length < MAX_RESPONSE_BYTES) received = Buffer.concat([received, d]);
      const answer = parseAnswer(received, performance.now() - started, false);
      if (answer) finish(answer);
    });
    socket.on('error', (err) => {
      lastError = err;
    });
    socket.on('close', () => {
      // An answer without a length ends with the connection.
      const answer = parseAnswer(received, performance.now() - started, true);
      const bytes = received.length > 0 ? ` (${received.length} bytes that are not an HTTP answer)` : '';
      finish(answer, `no answer${lastError ? `: ${lastError.message}` : ' (connection closed)'}${bytes}`);
    });
  });
}

/**
 * The HTTP/1.1 answer in `raw` once it is whole (by Content-Length, by the last chunk, or
 * when `closed` for an answer that has neither), else undefined.
 */
function parseAnswer(raw: Buffer, ms: number, closed: boolean): Answer | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...headerLines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!m) return undefined;
  const headers: Record<string, string | string[] | undefined> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[name];
    headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  const rest = raw.subarray(headEnd + 4);
  let body: Buffer | undefined;
  if (/chunked/i.test(String(headers['transfer-encoding'] ?? ''))) body = dechunk(rest) ?? (closed ? rest : undefined);
  else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    body = rest.length >= n ? rest.subarray(0, n) : closed ? rest : undefined;
  } else if (Number(m[1]) === 204 || Number(m[1]) === 304) body = Buffer.alloc(0);
  else if (closed) body = rest;
  if (body === undefined) return undefined;
  return { status: Number(m[1]), headers, body: body.toString('utf8'), ms };
}

/** The payload of a chunked body, or undefined until its last chunk has arrived. */
function dechunk(b: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const n = parseInt(b.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(n)) return undefined;
    if (n === 0) return Buffer.concat(out);
    if (b.length < eol + 2 + n + 2) return undefined;
    out.push(b.subarray(eol + 2, eol + 2 + n));
    at = eol + 2 + n + 2;
  }
}

/**
 * What is wrong with a 4xx answer as a problem document (RFC 9457 as the API renders it), or
 * undefined when it is one: the media type, and a JSON object whose `status` is the answer's.
 */
export function problemDefect(a: Answer): string | undefined {
  const type = String(a.headers['content-type'] ?? '');
  if (!/^application\/problem\+json\b/i.test(type)) return `Content-Type is "${type}", not application/problem+json`;
  let doc: unknown;
  try {
    doc = JSON.parse(a.body);
  } catch {
    return `the body is not JSON: ${a.body.slice(0, 200)}`;
  }
  if (typeof doc !== 'object' || doc === null) return 'the body is not a JSON object';
  const p = doc as { status?: unknown; type?: unknown; title?: unknown };
  if (p.status !== a.status) return `the problem's status ${String(p.status)} is not the answer's ${a.status}`;
  if (typeof p.type !== 'string' || typeof p.title !== 'string') return 'the problem has no type or title';
  return undefined;
}

/** Resident memory of process `pid` in bytes (VmRSS from /proc). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** A job as found in a queue. */
export interface QueuedJob {
  queue: string;
  id: string;
  name: string;
  state: string;
}

// The queue names of packages/queue/src/names.ts (trainQueueName, REGISTRY_QUEUE). Written out
// here: the root test package resolves only @ct/testing when type-checked.
/** The queue of `model`'s jobs. */
export const trainQueueName = (model: string): string => `train-${model}`;
/** The queue of registrations and archives. */
export const REGISTRY_QUEUE = 'registry';

/** Every job of the named queues under `prefix`, in any state, with its state. */
export async function queuedJobs(prefix: string, queueNames: readonly string[]): Promise<QueuedJob[]> {
  const all: QueuedJob[] = [];
  for (const name of queueNames) {
    const queue = new Queue(name, { connection: TEST_REDIS, prefix });
    try {
      for (const state of ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const) {
        for (const job of await queue.getJobs([state], 0, -1)) {
          if (job?.id) all.push({ queue: name, id: job.id, name: job.name, state });
        }
      }
    } finally {
      await queue.close();
    }
  }
  return all;
}

/** A history entry as `GET /models/:model/history` lists it (the fields this suite reads). */
export interface HistoryItem {
  seq: number;
  source: string;
  status: string;
  job_id: string | null;
}

/** Every entry of `model`'s history, following `next_cursor` until the last page. */
export async function historyOf(stack: Pick<Stack, 'host' | 'port' | 'tokens'>, model: string): Promise<HistoryItem[]> {
  const items: HistoryItem[] = [];
  let cursor: number | null = null;
  for (let page = 0; page < 1_000; page++) {
    const body: { entries: HistoryItem[]; next_cursor: number | null } = await getJson(stack, `/models/${encodeURIComponent(model)}/history?limit=500${cursor === null ? '' : `&cursor=${cursor}`}`);
    items.push(...body.entries);
    if (body.next_cursor === null) return items;
    cursor = body.next_cursor;
  }
  throw new Error(`the history of ${model} did not end within 1,000 pages`);
}

/**
 * GET `path` on the API as JSON, as the admin; throws on anything but a 200. A connection of
 * its own each time: a kept-alive one can be closed by the server while this process is busy
 * generating (its timers late), and the next request on it would fail for nothing.
 */
export async function getJson<T>(stack: Pick<Stack, 'host' | 'port' | 'tokens'>, path: string): Promise<T> {
  const r: FuzzRequest = { endpoint: `GET ${path}`, method: 'GET', path, headers: { authorization: `Bearer ${stack.tokens.admin}` }, body: undefined, chunked: false, note: 'harness', describe: () => `GET ${path}` };
  const a = await send(stack, r, 30_000);
  if (a.status !== 200) throw new Error(`GET ${path} answered ${a.status}: ${a.body.slice(0, 500)}`);
  return JSON.parse(a.body) as T;
}

/** The first `n` rows of `datasets/<name>.csv` taken every `step` rows, as objects (numbers as numbers). */
export function datasetRows(name: string, n: number, step: number): Record<string, string | number | null>[] {
  const [header, ...lines] = readFileSync(join(ROOT, 'datasets', `${name}.csv`), 'utf8').trim().split('\n');
  const cols = (header as string).split(',');
  const rows: Record<string, string | number | null>[] = [];
  for (let i = 0; i < lines.length && rows.length < n; i += step) {
    const cells = (lines[i] as string).split(',');
    rows.push(Object.fromEntries(cols.map((c, j) => {
      const v = cells[j] ?? '';
      return [c, v === '' || v === 'NA' ? null : Number.isFinite(Number(v)) ? Number(v) : v];
    })));
  }
  return rows;
}
