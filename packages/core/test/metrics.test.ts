import { confusionMatrix, evaluate } from '../src';

test('confusion matrix, accuracy and per-class metrics match a hand count', () => {
  const yTrue = [0, 0, 0, 1, 1, 2];
  const yPred = [0, 0, 1, 1, 2, 2];
  expect(confusionMatrix(yTrue, yPred, 3)).toEqual([
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 1],
  ]);
  const m = evaluate(yTrue, yPred, ['a', 'b', 'c']);
  expect(m.accuracy).toBeCloseTo(4 / 6, 12);
  expect(m.correct).toBe(4);
  // class b: tp 1, predicted 2, support 2 -> precision 0.5, recall 0.5, f1 0.5
  expect(m.per_class[1]).toMatchObject({ class_name: 'b', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
  // class a: precision 1, recall 2/3, f1 0.8
  expect(m.per_class[0]?.f1).toBeCloseTo(0.8, 12);
});

test('a class never predicted and never present scores 0, not NaN (zero_division=0)', () => {
  const m = evaluate([0, 1], [0, 1], ['a', 'b', 'c']);
  expect(m.per_class[2]).toMatchObject({ precision: 0, recall: 0, f1: 0, support: 0 });
});

test('labels out of range are refused', () => {
  expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(RangeError);
  expect(() => confusionMatrix([0], [0, 1], 3)).toThrow(RangeError);
});
