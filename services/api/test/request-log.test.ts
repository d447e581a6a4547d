/**
 * A normal start logs no error: the 503s a readiness probe gets from /health while the model
 * loads (and /train's while Redis is away) are logged as warnings, without the stack trace
 * pino-http makes up for a 5xx. `npm start`'s probe once made a warm start log 9 error lines.
 * Real API on an empty data dir (no model yet), real Redis or none.
 */
import pino from 'pino';
import { requestLogLevel } from '../src/request-log-level';
import { cleanupRedis, eventually, makeTempDir, removeDir, startApi, startPrivateRedis, uniquePrefix, type ApiHandle } from './helpers/harness';

interface Line {
  level: number;
  msg: string;
  err?: unknown;
  req?: { url: string };
  res?: { statusCode: number };
}

/** A pino logger at info that keeps every line it writes. */
function capturingLogger(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
  return { logger, lines };
}

const WARN = 40;
const ERROR = 50;

let dataDir: string;
let prefix: string;
let api: ApiHandle | undefined;

beforeEach(async () => {
  dataDir = await makeTempDir();
  prefix = uniquePrefix();
});
afterEach(async () => {
  await api?.close();
  api = undefined;
  await cleanupRedis(prefix);
  await removeDir(dataDir);
});

test('GET /health while no model is loaded: 503 logged as a warning, with no stack', async () => {
  const { logger, lines } = capturingLogger();
  api = await startApi({ dataDir, prefix, logger, subscriber: false, predictionLog: false });
  for (let i = 0; i < 3; i++) {
    const r = await api.client.get('/health');
    expect(r.status).toBe(503);
    expect(r.body.status).toBe('starting');
  }
  const probes = lines.filter((l) => l.req?.url === '/health');
  expect(probes).toHaveLength(3);
  for (const l of probes) {
    expect(l).toMatchObject({ level: WARN, msg: 'request completed', res: { statusCode: 503 } });
    expect(l).not.toHaveProperty('err');
  }
  expect(lines.filter((l) => l.level >= ERROR)).toEqual([]);
});

test('POST /train while Redis is unreachable: 503 logged as a warning', async () => {
  const { logger, lines } = capturingLogger();
  let redis = await startPrivateRedis();
  try {
    api = await startApi({ dataDir, prefix, redisUrl: redis.url, logger, subscriber: false, predictionLog: false });
    await eventually(() => api?.queues.redisReady, 10_000, 'redis connected');
    await redis.kill();
    await eventually(() => !api?.queues.redisReady, 10_000, 'redis lost');
    const samples = [0, 0, 1, 1, 2].map((label) => ({ sepal_length: 5 + label, sepal_width: 3, petal_length: 1.4 + 2 * label, petal_width: 0.2 + label, label }));
    const r = await api.client.post('/train', { json: { samples } });
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('queue_unavailable');
    const line = lines.find((l) => l.req?.url === '/train');
    expect(line).toMatchObject({ level: WARN, msg: 'request completed', res: { statusCode: 503 } });
    expect(line).not.toHaveProperty('err');
    expect(lines.filter((l) => l.level >= ERROR)).toEqual([]);
    // Back before closing: the harness's close would otherwise wait on reconnect timers.
    redis = await startPrivateRedis(redis.port);
    await eventually(() => api?.queues.redisReady, 10_000, 'redis back');
  } finally {
    await api?.close();
    api = undefined;
    await redis.kill();
  }
});

describe('requestLogLevel', () => {
  it('info below 500, warn for 503, error for other 5xx and for any error', () => {
    expect([200, 202, 404, 422, 503, 500, 502].map((s) => requestLogLevel(s))).toEqual(['info', 'info', 'info', 'info', 'warn', 'error', 'error']);
    expect(requestLogLevel(200, new Error('socket hang up'))).toBe('error');
  });
});
