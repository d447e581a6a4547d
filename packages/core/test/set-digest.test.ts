import { concatSets, emptySet, setHash, type LabeledSet } from '../src/labeled-set';
import { SetDigest } from '../src/set-digest';

const rows = (from: number, n: number): LabeledSet => ({
  x: Array.from({ length: n }, (_, i) => [from + i, (from + i) / 7, i % 2 === 0 ? 'a' : null, -0]),
  y: Array.from({ length: n }, (_, i) => (from + i) % 3),
});

test('equals setHash of the whole set, whatever the batches it was fed in', () => {
  const a = rows(0, 5);
  const b = rows(5, 1);
  const c = rows(6, 40);
  const whole = concatSets(concatSets(a, b), c);
  expect(SetDigest.of(whole).hex()).toBe(setHash(whole));
  expect(SetDigest.of(a).append(b).append(c).hex()).toBe(setHash(whole));
  expect(SetDigest.of().append(a).append(emptySet()).append(b).append(c).hex()).toBe(setHash(whole));
  expect(SetDigest.of().hex()).toBe(setHash(emptySet()));
  expect(SetDigest.of(c).size).toBe(40);
});

test('a digest can be read and extended again; a fork leaves its origin as it was', () => {
  const a = rows(0, 10);
  const b = rows(10, 3);
  const d = SetDigest.of(a);
  expect(d.hex()).toBe(setHash(a));
  const longer = d.fork().append(b);
  expect(longer.hex()).toBe(setHash(concatSets(a, b)));
  expect(d.hex()).toBe(setHash(a));
  expect(d.append(b).hex()).toBe(longer.hex());
});

test('refuses a set whose rows and labels differ in number', () => {
  expect(() => SetDigest.of({ x: [[1]], y: [] })).toThrow(RangeError);
});
