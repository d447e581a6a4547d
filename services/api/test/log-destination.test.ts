/**
 * The API's log destination gathers lines and hands them to the writer 32 KiB at a time, or
 * 100 ms after the first: every line lands whole and in order, a lone line is not held back,
 * flushSync hands over what is gathered, and pino writes through it.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { batchedLogDestination } from '../src/pipeline/log-destination';
import { eventually, makeTempDir, removeDir } from './helpers/harness';

let dir: string;
let fd: number;
let file: string;
beforeEach(async () => {
  dir = await makeTempDir('ct-logdest-');
  file = join(dir, 'out.log');
  fd = openSync(file, 'a');
});
afterEach(async () => {
  closeSync(fd);
  await removeDir(dir);
});

const nextTurn = () => new Promise((r) => setImmediate(r));
const fileLines = (): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

test('lines written in one turn and the next land whole and in order', async () => {
  const out = batchedLogDestination(fd);
  for (let i = 0; i < 100; i++) out.write(`{"n":${i}}\n`);
  await nextTurn();
  for (let i = 100; i < 150; i++) out.write(`{"n":${i}}\n`);
  await eventually(() => fileLines().length === 150, 10_000, 'all lines written');
  expect(fileLines().map((l) => (JSON.parse(l) as { n: number }).n)).toEqual(Array.from({ length: 150 }, (_, i) => i));
});

test('more than a hand-over of lines in one burst lands whole and in order', async () => {
  const out = batchedLogDestination(fd);
  const pad = 'x'.repeat(200);
  for (let i = 0; i < 1000; i++) out.write(`{"n":${i},"pad":"${pad}"}\n`);
  await eventually(() => fileLines().length === 1000, 10_000, 'all lines written');
  expect(fileLines().map((l) => (JSON.parse(l) as { n: number }).n)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
});

test('flushSync hands over the lines still gathered in this turn', () => {
  // Nothing written yet, so no write is in flight: flushSync writes before it returns.
  const out = batchedLogDestination(fd);
  out.write('{"a":1}\n');
  out.write('{"last":true}\n');
  out.flushSync();
  expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"last":true}\n');
});

test('pino logs through it', async () => {
  const logger = pino({ base: null, timestamp: false }, batchedLogDestination(fd));
  logger.info({ req: { id: 'r-1' } }, 'request completed');
  logger.warn('careful');
  await eventually(() => fileLines().length === 2, 10_000, 'both lines written');
  expect(fileLines().map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['request completed', 'careful']);
});
