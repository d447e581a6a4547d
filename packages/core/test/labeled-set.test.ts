import { setHash, stratifiedSplit } from '../src';

const y = Array.from({ length: 150 }, (_, i) => Math.floor(i / 50));

test('stratified split: 20 % per class, disjoint, covering every row', () => {
  const s = stratifiedSplit(y, 0.2, 42);
  expect(s.holdout).toHaveLength(30);
  expect(s.train).toHaveLength(120);
  for (const k of [0, 1, 2]) expect(s.holdout.filter((i) => y[i] === k)).toHaveLength(10);
  expect(new Set([...s.train, ...s.holdout]).size).toBe(150);
});

test('the split is a function of the seed', () => {
  expect(stratifiedSplit(y, 0.2, 42)).toEqual(stratifiedSplit(y, 0.2, 42));
  expect(stratifiedSplit(y, 0.2, 42)).not.toEqual(stratifiedSplit(y, 0.2, 43));
});

test('a class never gives up its last training row', () => {
  // 10 rows, one of them the only row of class 2.
  const small = [0, 0, 0, 0, 0, 1, 1, 1, 1, 2];
  for (let seed = 0; seed < 20; seed++) {
    const s = stratifiedSplit(small, 0.2, seed);
    expect(s.train.some((i) => small[i] === 2)).toBe(true);
    expect(s.holdout).toHaveLength(2);
  }
});

test("a million rows split (the size of the bench's largest set): sizes exact, every row once", () => {
  const big = Array.from({ length: 1_000_000 }, (_, i) => i % 3);
  const s = stratifiedSplit(big, 0.2, 1);
  expect(s.holdout).toHaveLength(200_000);
  expect(s.train).toHaveLength(800_000);
  const seen = new Uint8Array(big.length);
  for (const i of [...s.train, ...s.holdout]) seen[i] = (seen[i] as number) + 1;
  expect(seen.every((n) => n === 1)).toBe(true);
});

test('set hashes are canonical: equal data, equal hash', () => {
  expect(setHash({ x: [[1, 2]], y: [0] })).toBe(setHash({ y: [0], x: [[1, 2]] }));
  expect(setHash({ x: [[1, 2]], y: [0] })).not.toBe(setHash({ x: [[1, 2]], y: [1] }));
});
