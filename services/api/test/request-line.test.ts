/**
 * The hand-written request line is the line pino writes for the same call, byte for byte,
 * for the loggers the API makes; a logger that would write it differently gets no writer.
 */
import pino, { type Logger } from 'pino';
import { cachedIsoTime, requestLineWriter, type RequestLineWriter } from '../src/pipeline/request-line';

/** A logger whose lines are kept, with a clock that does not move. */
function capture(options: pino.LoggerOptions = {}): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'info', timestamp: () => ',"time":"2026-12-02T08:00:00.000Z"', ...options }, { write: (s: string) => lines.push(s) });
  return { logger, lines };
}

const cases: [string, string, string, number, number][] = [
  ['b3c1e1f2-3f0c-4b7e-9a0e-1c2d3e4f5a6b', 'POST', '/predict', 200, 3],
  ['my.req:1', 'GET', '/models/iris/history?limit=5&cursor=a"b\\c', 404, 0],
  ['x', 'DELETE', '/models/p%C3%A9nguin/\u00e9\u2028\u{1F427}', 429, 12345],
];

describe.each([
  ['the API logger (service binding)', { base: { service: 'api' } }],
  ['pino defaults (pid, hostname)', {}],
  ['a child logger', 'child'],
] as const)('%s', (_name, options) => {
  it.each(cases)('writes what pino writes: %s %s %s', (id, method, url, status, responseTime) => {
    const a = capture(options === 'child' ? {} : options);
    const b = capture(options === 'child' ? {} : options);
    const ours = options === 'child' ? a.logger.child({ component: 'http' }) : a.logger;
    const theirs = options === 'child' ? b.logger.child({ component: 'http' }) : b.logger;
    const write = requestLineWriter(ours) as RequestLineWriter;
    expect(write).toBeDefined();
    write(id, method, url, status, responseTime);
    theirs.info({ req: { id, method, url }, res: { statusCode: status }, responseTime }, 'request completed');
    expect(a.lines).toEqual(b.lines);
    expect(JSON.parse(a.lines[0] as string)).toMatchObject({ level: 30, msg: 'request completed', req: { id, method, url }, res: { statusCode: status }, responseTime });
  });
});

test('a logger above info writes no line, and one lowered to info at run time does', () => {
  const { logger, lines } = capture({ level: 'warn' });
  const write = requestLineWriter(logger) as RequestLineWriter;
  write('a', 'GET', '/health', 200, 1);
  expect(lines).toEqual([]);
  logger.level = 'info';
  write('a', 'GET', '/health', 200, 1);
  expect(lines).toHaveLength(1);
});

test.each([
  ['a mixin', { mixin: () => ({ extra: 1 }) }],
  ['a log formatter', { formatters: { log: (o: Record<string, unknown>) => o } }],
  ['a req serializer', { serializers: { req: (r: unknown) => r } }],
  ['another message key', { messageKey: 'message' }],
  ['a logMethod hook', { hooks: { logMethod(this: Logger, args: Parameters<Logger['info']>, method: Logger['info']) { method.apply(this, args); } } }],
] as const)('a logger with %s gets no writer (pino writes its lines)', (_name, options) => {
  const { logger } = capture(options);
  expect(requestLineWriter(logger)).toBeUndefined();
});

test('cachedIsoTime gives the time field of pino.stdTimeFunctions.isoTime', () => {
  const time = cachedIsoTime();
  const before = Date.now();
  const field = time();
  const after = Date.now();
  const at = Date.parse((JSON.parse(`{${field.slice(1)}}`) as { time: string }).time);
  expect(at).toBeGreaterThanOrEqual(before);
  expect(at).toBeLessThanOrEqual(after);
  expect(field).toMatch(/^,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$/);
});
