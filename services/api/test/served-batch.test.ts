import { makeTempDir, removeDir } from '@ct/testing';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PredictionLog } from '../src/prediction-log';
import { ServedBatch, unpack } from '../src/prediction-writer/served-batch';
import { writeServed, type ServedPredictions } from '../src/prediction-writer/served';

// What the event loop packs is what the writer thread reads back, answer for answer, whatever
// the text (non-ASCII, astral characters, empty) and the cells (numbers, null, text).

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
// A categorical cell can hold any string JSON.parse makes, lone surrogates included.
const cell = fc.oneof(fc.double({ noNaN: true }), fc.constant(-0), fc.constant(null), text, fc.string({ unit: 'binary', maxLength: 6 }), fc.constant('\ud800'));

const served: fc.Arbitrary<ServedPredictions> = fc.integer({ min: 1, max: 5 }).chain((width) =>
  fc.record({
    t: fc.integer({ min: 0, max: 2 ** 47 }),
    // Often the same as the answer before (written once per run of them), sometimes not.
    model: fc.oneof(fc.constantFrom('iris', ''), text),
    version: fc.oneof(fc.constantFrom('v1.0-abcdef', 'v2.0-abcdef'), text),
    ids: text,
    inputText: text,
    outputJson: text,
    rows: fc.array(fc.array(cell, { minLength: width, maxLength: width }), { minLength: 1, maxLength: 4 }),
    labels: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 4, maxLength: 4 }),
  }),
);

/** The answer as unpack gives it back. */
const expected = (p: ServedPredictions) => ({
  t: p.t,
  model: p.model,
  version: p.version,
  ids: p.ids,
  inputText: p.inputText,
  outputJson: p.outputJson,
  labels: Array.from(p.labels).slice(0, p.rows.length),
  rows: p.rows.map((r) => [...r]),
});

test('answers packed into a batch unpack to the same answers, batch after batch, in reused buffers', () => {
  fc.assert(
    fc.property(fc.array(fc.array(served, { maxLength: 20 }), { minLength: 1, maxLength: 3 }), (batches) => {
      const batch = new ServedBatch();
      for (const answers of batches) {
        for (const a of answers) batch.append(a);
        const packed = batch.take();
        expect(packed.answers).toBe(answers.length);
        const back = [...unpack(packed)];
        // Given back as the writer thread does: the next batch reuses the buffers.
        batch.giveBack(packed.nums, packed.text);
        expect(back).toEqual(answers.map(expected));
        // -0 stays -0 (toEqual would not tell).
        back.forEach((b, i) => b.rows.forEach((r, k) => r.forEach((c, j) => expect(Object.is(c, (answers[i] as ServedPredictions).rows[k]?.[j])).toBe(true))));
      }
    }),
    { numRuns: 150, seed: 20261202 },
  );
});

test('the buffers grow past their first size, and a batch taken leaves an empty one behind', () => {
  const batch = new ServedBatch();
  const big = 'é'.repeat(100_000); // 200,000 bytes of UTF-8, past the first 128 KiB
  const answers: ServedPredictions[] = Array.from({ length: 3000 }, (_, i) => ({
    t: i,
    model: 'iris',
    version: 'v1.0-abcdef',
    ids: `id-${i}`,
    inputText: i === 1500 ? big : '{}',
    outputJson: `{"prediction":${i % 3}}`,
    rows: [[i, null, 'x']],
    labels: [i % 3],
  }));
  for (const a of answers) batch.append(a);
  const back = [...unpack(batch.take())];
  expect(back).toHaveLength(3000);
  expect(back[1500]?.inputText).toBe(big);
  expect(back[2999]).toEqual(expected(answers[2999] as ServedPredictions));
  expect(batch.answers).toBe(0);
  expect([...unpack(batch.take())]).toEqual([]);
});

test('buffers given back carry later batches: none is allocated per batch in steady state', () => {
  const batch = new ServedBatch();
  const one: ServedPredictions = { t: 1, model: 'iris', version: 'v1.0-abcdef', ids: 'a', inputText: '{}', outputJson: '{}', rows: [[1, 2]], labels: [0] };
  const taken = new Set<ArrayBuffer>();
  for (let i = 0; i < 6; i++) {
    batch.append({ ...one, t: i });
    const packed = batch.take();
    taken.add(packed.nums).add(packed.text);
    expect([...unpack(packed)].map((a) => a.t)).toEqual([i]);
    batch.giveBack(packed.nums, packed.text);
  }
  // The first batch's pair, the pair that replaced it, then those two again and again.
  expect(taken.size).toBe(4);
});

test('every body lands in the prediction log as one line of the same JSON, however it was spaced', async () => {
  // A body is text JSON.parse accepted: any JSON value, compact or indented (line breaks too).
  const body = fc.tuple(fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(fc.jsonValue())), fc.constantFrom(undefined, 1, '\t', '\r\n'));
  await fc.assert(
    fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 8 }), async (bodies) => {
      const dir = await makeTempDir('ct-served-');
      try {
        const log = new PredictionLog(dir, true, {});
        const texts = bodies.map(([value, space]) => (space === '\r\n' ? JSON.stringify(value, null, 1).replace(/\n/g, '\r\n') : JSON.stringify(value, null, space)));
        const batch = new ServedBatch();
        texts.forEach((inputText, i) => batch.append({ t: i, model: 'iris', version: 'v1.0-abcdef', ids: `id-${i}`, inputText, outputJson: '{}', rows: [[1]], labels: [0] }));
        expect(writeServed(batch.take(), log, undefined)).toEqual({ answers: texts.length, failed: 0 });
        await log.close();
        const lines = readFileSync(join(dir, 'results', 'predictions.log'), 'utf8').split('\n').slice(0, -1);
        expect(lines).toHaveLength(texts.length);
        // Compared as JSON text: -0 written again is 0, which toEqual would tell apart.
        lines.forEach((line, i) => expect(JSON.stringify((JSON.parse(line) as { input: unknown }).input)).toBe(JSON.stringify(JSON.parse(texts[i] as string))));
      } finally {
        await removeDir(dir);
      }
    }),
    { numRuns: 40, seed: 20261202 },
  );
});
