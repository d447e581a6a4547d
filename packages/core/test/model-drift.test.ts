import type { FeatureDrift } from '../src/feature-drift';
import { driftOfModel } from '../src/model-drift';

function feature(name: string, drifted: boolean): FeatureDrift {
  return {
    feature: name,
    kind: 'numeric',
    test: 'ks',
    statistic: drifted ? 0.3 : 0.05,
    pValue: drifted ? 0.001 : 0.4,
    threshold: 0.05,
    drifted,
    referenceRows: 500,
    currentRows: 500,
    referenceMissing: 0,
    currentMissing: 0,
  };
}

describe('driftOfModel', () => {
  it("flags the model when at least half its features drifted (Evidently's drift_share = 0.5)", () => {
    const half = driftOfModel([feature('a', true), feature('b', false), feature('c', true), feature('d', false)]);
    expect(half).toEqual({
      features: 4,
      driftedFeatures: 2,
      share: 0.5,
      driftShare: 0.5,
      drifted: true,
      driftedFeatureNames: ['a', 'c'],
    });
    const third = driftOfModel([feature('a', true), feature('b', false), feature('c', false)]);
    expect(third.share).toBeCloseTo(1 / 3, 15);
    expect(third.drifted).toBe(false);
  });

  it('takes another drift share', () => {
    const features = [feature('a', true), feature('b', false), feature('c', false)];
    expect(driftOfModel(features, 0.3).drifted).toBe(true);
    expect(driftOfModel(features, 1).drifted).toBe(false);
    expect(driftOfModel([feature('a', true)], 1).drifted).toBe(true);
  });

  it('rejects an empty feature list and a share outside (0, 1]', () => {
    expect(() => driftOfModel([])).toThrow(RangeError);
    expect(() => driftOfModel([feature('a', true)], 0)).toThrow(RangeError);
    expect(() => driftOfModel([feature('a', true)], 1.5)).toThrow(RangeError);
  });
});
