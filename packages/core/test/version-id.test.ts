import { canonicalJson, sha256Canonical, versionId, versionNumber, VERSION_PATTERN } from '../src';

test('version ids are v<N>.0-<6 hex of the artifact hash>', () => {
  const hash = sha256Canonical({ a: 1 });
  const id = versionId(3, hash);
  expect(id).toBe(`v3.0-${hash.slice(0, 6)}`);
  expect(VERSION_PATTERN.test(id)).toBe(true);
  expect(versionNumber(id)).toBe(3);
  expect(versionNumber('v0.0-abcdef')).toBeUndefined();
  expect(versionNumber('latest')).toBeUndefined();
});

test('invalid inputs are refused', () => {
  expect(() => versionId(0, 'abcdef')).toThrow(RangeError);
  expect(() => versionId(1.5, 'abcdef')).toThrow(RangeError);
  expect(() => versionId(1, 'xyz')).toThrow(RangeError);
});

test('canonical JSON sorts keys at every depth and drops undefined', () => {
  expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  expect(canonicalJson({ v: Float64Array.from([1, 2]) })).toBe('{"v":[1,2]}');
});
