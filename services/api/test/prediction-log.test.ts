import { makeTempDir, removeDir } from '@ct/testing';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PREDICTION_LOG_OPTIONS, PredictionLog, type PredictionLogOptions } from '../src/prediction-log';

// The prediction log rotates by size and by age and keeps a bounded number of files. Each test
// writes into its own temp dir and reads the files back after close(), which waits for any
// rotation in flight: nothing here sleeps.

let dataDir: string;
let results: string;
beforeEach(async () => {
  dataDir = await makeTempDir('ct-predlog-');
  results = join(dataDir, 'results');
});
afterEach(async () => {
  await removeDir(dataDir);
});

/** A record whose line is about 150 bytes; `i` makes it unique and orders it. */
const record = (i: number) => ({
  prediction_id: `p-${String(i).padStart(6, '0')}`,
  model: 'iris',
  version: 'v1.0-47d98c',
  inputJson: '{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}',
  outputJson: `{"prediction":${i % 3}}`,
});

/** The log files, oldest first: predictions.log.<k> ... .1, then the live one. */
function files(): string[] {
  const rotated = readdirSync(results)
    .filter((n) => /^predictions\.log\.\d+$/.test(n))
    .sort((a, b) => Number(b.split('.').pop()) - Number(a.split('.').pop()));
  return [...rotated, ...(existsSync(join(results, 'predictions.log')) ? ['predictions.log'] : [])];
}

/** Every line of every file, oldest first, parsed; throws on a torn line. */
function lines(): { prediction_id: string; time: string }[] {
  return files().flatMap((f) => {
    const text = readFileSync(join(results, f), 'utf8');
    expect(text === '' || text.endsWith('\n')).toBe(true);
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { prediction_id: string; time: string });
  });
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => record(from + i).prediction_id);
const size = (f: string) => statSync(join(results, f)).size;

function open(options: PredictionLogOptions): PredictionLog {
  return new PredictionLog(dataDir, true, { onError: (err) => { throw err; }, ...options });
}

test('defaults: 64 MiB files, a day, 8 files (512 MiB at most)', () => {
  expect(DEFAULT_PREDICTION_LOG_OPTIONS).toEqual({ maxBytes: 64 * 1024 * 1024, maxAgeMs: 24 * 3600 * 1000, maxFiles: 8 });
});

test('writes past maxBytes rotate: no file exceeds it and the newest lines are in the live file', async () => {
  const log = open({ maxBytes: 1000, maxFiles: 100 });
  for (let i = 0; i < 40; i++) log.write(record(i));
  await log.close();
  const names = files();
  expect(names.length).toBeGreaterThan(4);
  expect(names.at(-1)).toBe('predictions.log');
  expect(names).toContain('predictions.log.1');
  for (const f of names) expect(size(f)).toBeLessThanOrEqual(1000);
  expect(lines().map((l) => l.prediction_id)).toEqual(ids(40));
});

test('old files are removed past the cap: maxFiles files, within maxBytes * maxFiles, the newest lines kept', async () => {
  const log = open({ maxBytes: 1000, maxFiles: 3 });
  // Several rounds with a yield between them: rotations complete while others are queued.
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 20; i++) log.write(record(round * 20 + i));
    await new Promise((r) => setImmediate(r));
  }
  await log.close();
  expect(files()).toEqual(['predictions.log.2', 'predictions.log.1', 'predictions.log']);
  const total = files().reduce((n, f) => n + size(f), 0);
  expect(total).toBeLessThanOrEqual(3 * 1000);
  // What is kept is the most recent run of lines, with nothing missing inside it.
  const kept = lines().map((l) => l.prediction_id);
  expect(kept).toEqual(ids(kept.length, 100 - kept.length));
});

test('maxFiles 1 keeps only the live file', async () => {
  const log = open({ maxBytes: 500, maxFiles: 1 });
  for (let i = 0; i < 20; i++) log.write(record(i));
  await log.close();
  expect(files()).toEqual(['predictions.log']);
  expect(size('predictions.log')).toBeLessThanOrEqual(500);
  const kept = lines().map((l) => l.prediction_id);
  expect(kept).toEqual(ids(kept.length, 20 - kept.length));
});

test('rotated files left by a run with a larger maxFiles are removed at the next rotation', async () => {
  mkdirSync(results, { recursive: true });
  for (const n of [1, 2, 3, 7]) writeFileSync(join(results, `predictions.log.${n}`), '{"old":true}\n');
  const log = open({ maxBytes: 400, maxFiles: 2 });
  for (let i = 0; i < 6; i++) log.write(record(i));
  await log.close();
  expect(files()).toEqual(['predictions.log.1', 'predictions.log']);
});

test('age-based rotation with an injected clock: the first line past maxAgeMs starts a new file', async () => {
  let now = Date.parse('2026-11-23T00:00:00Z');
  const log = open({ maxAgeMs: 60_000, now: () => now });
  log.write(record(0));
  now += 30_000;
  log.write(record(1)); // same file: 30 s old
  now += 30_000;
  log.write(record(2)); // the file is 60 s old: a new one
  now += 59_999;
  log.write(record(3));
  await log.close();
  expect(files()).toEqual(['predictions.log.1', 'predictions.log']);
  const read = (f: string) => readFileSync(join(results, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l).prediction_id);
  expect(read('predictions.log.1')).toEqual(ids(2));
  expect(read('predictions.log')).toEqual(ids(2, 2));
  // The line's time is the injected clock's.
  expect(lines()[3]?.time).toBe(new Date(now).toISOString());
});

test('an empty live file is never rotated for its age', async () => {
  let now = 0;
  const log = open({ maxAgeMs: 1000, now: () => now });
  now += 10_000;
  log.write(record(0));
  await log.close();
  expect(files()).toEqual(['predictions.log']);
});

test('a restart goes on counting the existing file: its size rotates it', async () => {
  const first = open({ maxBytes: 1000 });
  for (let i = 0; i < 3; i++) first.write(record(i)); // about 640 bytes
  await first.close();
  const before = size('predictions.log');
  const second = open({ maxBytes: 1000 });
  for (let i = 3; i < 8; i++) second.write(record(i)); // the second of these overfills it
  await second.close();
  expect(before).toBeLessThan(1000);
  expect(files()).toEqual(['predictions.log.1', 'predictions.log']);
  for (const f of files()) expect(size(f)).toBeLessThanOrEqual(1000);
  expect(lines().map((l) => l.prediction_id)).toEqual(ids(8));
  expect(readFileSync(join(results, 'predictions.log.1'), 'utf8').trim().split('\n')).toHaveLength(4);
});

test('no line is lost, repeated, split or reordered across many rotations under a burst', async () => {
  const log = open({ maxBytes: 2048, maxFiles: 1000 });
  // One synchronous burst: every rotation but the first is queued behind another.
  for (let i = 0; i < 1000; i++) log.write(record(i));
  // And lines of several sizes after a yield, some larger than a file.
  await new Promise((r) => setImmediate(r));
  const big = { ...record(1000), inputJson: JSON.stringify({ blob: 'x'.repeat(5000) }) };
  log.write(big);
  for (let i = 1001; i < 1100; i++) log.write(record(i));
  await log.close();
  expect(lines().map((l) => l.prediction_id)).toEqual(ids(1100));
  // Every file but one holding the oversized line stays within the size.
  const oversize = files().filter((f) => size(f) > 2048);
  expect(oversize).toHaveLength(1);
  expect(readFileSync(join(results, oversize[0] as string), 'utf8').trim().split('\n')).toHaveLength(1);
});

test('close flushes buffered lines (fewer than a write batch) and later writes are ignored', async () => {
  const log = open({});
  for (let i = 0; i < 3; i++) log.write(record(i)); // about 640 bytes: below the 4 KiB batch
  await log.close();
  expect(lines().map((l) => l.prediction_id)).toEqual(ids(3));
  log.write(record(3));
  await log.close(); // idempotent
  expect(lines()).toHaveLength(3);
});

test('close waits for a rotation in flight, whose waiting lines land', async () => {
  const log = open({ maxBytes: 300, maxFiles: 50 });
  for (let i = 0; i < 10; i++) log.write(record(i));
  const closed = log.close(); // called while the rotations run
  await closed;
  expect(lines().map((l) => l.prediction_id)).toEqual(ids(10));
});

test('a disabled log writes nothing and closes at once', async () => {
  const log = new PredictionLog(dataDir, false, { maxBytes: 1 });
  log.write(record(0));
  await log.close();
  expect(existsSync(results)).toBe(false);
});

test('bad options are refused at construction', () => {
  expect(() => new PredictionLog(dataDir, true, { maxBytes: 0 })).toThrow(/maxBytes/);
  expect(() => new PredictionLog(dataDir, true, { maxFiles: 1.5 })).toThrow(/maxFiles/);
  expect(() => new PredictionLog(dataDir, true, { maxAgeMs: -1 })).toThrow(/maxAgeMs/);
});
