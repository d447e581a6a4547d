import { accuracyBelowBound, enoughNewRows, worseThanPredecessor } from '../src/automation-rules';
import { wilsonInterval } from '../src/wilson';

describe('enoughNewRows', () => {
  it('fires at the threshold, not one row before', () => {
    expect(enoughNewRows(99, 100).fire).toBe(false);
    expect(enoughNewRows(100, 100)).toMatchObject({ fire: true, code: 'enough_new_rows' });
  });
});

describe('accuracyBelowBound (Wilson upper bound below the bound, with a minimum sample)', () => {
  it('does not fire below the minimum sample, however bad the estimate', () => {
    expect(accuracyBelowBound({ n: 19, correct: 0 }, { bound: 0.9, minSamples: 20 })).toMatchObject({ fire: false, code: 'too_few_samples' });
  });

  it('fires exactly when the upper end crosses the bound', () => {
    // 40 labels: find the largest number right whose 95% Wilson upper end is still below 0.8.
    let boundary = -1;
    for (let c = 0; c <= 40; c++) if (wilsonInterval(c, 40).high < 0.8) boundary = c;
    expect(boundary).toBeGreaterThan(0);
    expect(accuracyBelowBound({ n: 40, correct: boundary }, { bound: 0.8, minSamples: 20 })).toMatchObject({ fire: true, code: 'accuracy_below_bound' });
    expect(accuracyBelowBound({ n: 40, correct: boundary + 1 }, { bound: 0.8, minSamples: 20 })).toMatchObject({ fire: false, code: 'within_bounds' });
  });
});

describe('worseThanPredecessor (pooled two-proportion test, one-sided)', () => {
  // 80/100 vs 90/100: z = -1.980, p = 0.0238 (two-proportion.test.ts has scipy's figures).
  it('fires at alpha 0.05, not at 0.01', () => {
    const opts = { minSamples: 50 };
    expect(worseThanPredecessor({ n: 100, correct: 80 }, { n: 100, correct: 90 }, { ...opts, alpha: 0.05 })).toMatchObject({ fire: true, code: 'worse_than_predecessor' });
    expect(worseThanPredecessor({ n: 100, correct: 80 }, { n: 100, correct: 90 }, { ...opts, alpha: 0.01 })).toMatchObject({ fire: false, code: 'within_bounds' });
  });

  it('needs the minimum sample on both sides, and never fires for a better version', () => {
    expect(worseThanPredecessor({ n: 49, correct: 0 }, { n: 100, correct: 100 }, { alpha: 0.05, minSamples: 50 })).toMatchObject({ fire: false, code: 'too_few_samples' });
    expect(worseThanPredecessor({ n: 100, correct: 95 }, { n: 100, correct: 80 }, { alpha: 0.05, minSamples: 50 }).fire).toBe(false);
  });

  it('says why with the numbers', () => {
    const v = worseThanPredecessor({ n: 100, correct: 80 }, { n: 100, correct: 90 }, { alpha: 0.05, minSamples: 50 });
    expect(v.reason).toBe("live accuracy 80.0% (80/100) against the predecessor's 90.0% (90/100): z = -1.98, one-sided p = 0.0238 < 0.05");
    expect(v.details.test?.pValueLower).toBeCloseTo(0.023835190328080732, 12);
  });
});
