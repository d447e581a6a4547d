import { decide, guardrailsSchema, policySchema, type Guardrails, type Policy } from '../src';

const classes = ['a', 'b', 'c'];
// 30 rows, 10 per class.
const yTrue = Array.from({ length: 30 }, (_, i) => Math.floor(i / 10));

/** Predictions equal to the truth except at `wrong` rows (shifted to the next class). */
const predsWith = (wrong: number[]) => yTrue.map((y, i) => (wrong.includes(i) ? (y + 1) % 3 : y));

// The policy tests below use the loosest guardrails, so that what they see is the policy.
const LOOSE: Guardrails = { alpha: 0.001, min_accuracy: 0 };

const run = (policy: Policy, championWrong: number[], challengerWrong: number[], opts: { guardrails?: Guardrails; trustedRows?: number } = {}) =>
  decide({
    policy,
    guardrails: opts.guardrails ?? LOOSE,
    classNames: classes,
    yTrue,
    championPred: predsWith(championWrong),
    challengerPred: predsWith(challengerWrong),
    trustedRows: opts.trustedRows ?? yTrue.length,
    options: { seed: 42, resamples: 200 },
  });

const p = (input: unknown): Policy => policySchema.parse(input);

describe('any_improvement', () => {
  test('equal accuracy activates (new >= old)', () => {
    const d = run(p({ name: 'any_improvement' }), [1, 2], [3, 4]);
    expect(d.activated).toBe(true);
    expect(d.violations).toEqual([]);
  });

  test('one row worse is rejected with the numbers', () => {
    const d = run(p({ name: 'any_improvement' }), [1], [1, 2]);
    expect(d.activated).toBe(false);
    expect(d.violations).toHaveLength(1);
    expect(d.violations[0]).toMatchObject({ code: 'accuracy_decreased', champion_accuracy: 29 / 30, challenger_accuracy: 28 / 30 });
  });
});

describe('min_delta', () => {
  test('needs ceil(delta * n) more correct rows', () => {
    // delta 0.05 on 30 rows: 1.5 -> 2 rows needed.
    expect(run(p({ name: 'min_delta', min_delta: 0.05 }), [1, 2, 3], [1, 2]).activated).toBe(false);
    expect(run(p({ name: 'min_delta', min_delta: 0.05 }), [1, 2, 3], [1]).activated).toBe(true);
  });

  test('the violation carries delta and the minimum', () => {
    const d = run(p({ name: 'min_delta', min_delta: 0.1 }), [1], []);
    expect(d.violations[0]).toMatchObject({ code: 'delta_below_minimum', min_delta: 0.1 });
    expect(d.violations[0]?.delta).toBeCloseTo(1 / 30, 12);
  });
});

describe('per_class_f1', () => {
  test('activates when the named class improves even if accuracy drops', () => {
    // Champion misses 3 rows of class b; challenger gets b right but misses 4 rows of a.
    const d = run(p({ name: 'per_class_f1', class: 'b' }), [10, 11, 12], [0, 1, 2, 3]);
    expect(d.activated).toBe(true);
    expect(d.challenger.accuracy).toBeLessThan(d.champion?.accuracy as number);
  });

  test('rejects when the class F1 does not improve (by index too)', () => {
    const d = run(p({ name: 'per_class_f1', class: 1 }), [0], [0]);
    expect(d.violations[0]).toMatchObject({ code: 'class_f1_not_improved', class: 'b' });
  });

  test('too few evaluation rows of the class is a violation, not a silent pass', () => {
    const d = run(p({ name: 'per_class_f1', class: 'b', min_support: 11 }), [10, 11], []);
    expect(d.activated).toBe(false);
    expect(d.violations[0]).toMatchObject({ code: 'insufficient_class_support', support: 10, min_support: 11 });
  });
});

describe('significant and non_inferior (McNemar exact)', () => {
  test('significant: 0 vs 7 discordant rows is significant at 0.05', () => {
    // Two-sided exact p for b=0, c=7 is 2 * 0.5^7 = 0.015625.
    const d = run(p({ name: 'significant' }), [0, 1, 2, 10, 11, 20, 21], []);
    expect(d.paired).toMatchObject({ only_champion_correct: 0, only_challenger_correct: 7 });
    expect(d.paired?.mcnemar_p_value).toBeCloseTo(0.015625, 10);
    expect(d.activated).toBe(true);
  });

  test('significant: a one-row gain is not enough', () => {
    const d = run(p({ name: 'significant', alpha: 0.05 }), [0], []);
    expect(d.activated).toBe(false);
    expect(d.violations[0]).toMatchObject({ code: 'not_significantly_better', only_challenger_correct: 1 });
  });

  test('non_inferior: a small loss passes, a significant loss does not', () => {
    expect(run(p({ name: 'non_inferior' }), [], [0]).activated).toBe(true);
    const d = run(p({ name: 'non_inferior' }), [], [0, 1, 2, 10, 11, 20, 21]);
    expect(d.activated).toBe(false);
    expect(d.violations[0]).toMatchObject({ code: 'significantly_worse', only_champion_correct: 7 });
  });
});

test('the accuracy floor applies to every policy', () => {
  const d = run(p({ name: 'any_improvement', min_accuracy: 0.95 }), [0, 1, 2], [0, 1]);
  expect(d.activated).toBe(false);
  expect(d.violations.map((v) => v.code)).toEqual(['below_accuracy_floor']);
});

test('every decision carries intervals for every metric', () => {
  const d = run(p({ name: 'any_improvement' }), [0, 10], [20]);
  for (const s of [d.champion, d.challenger]) {
    expect(s?.accuracy_ci.low).toBeLessThanOrEqual(s?.accuracy as number);
    expect(s?.accuracy_ci.high).toBeGreaterThanOrEqual(s?.accuracy as number);
    expect(s?.per_class).toHaveLength(3);
    for (const c of s?.per_class ?? []) {
      for (const [v, ci] of [
        [c.precision, c.precision_ci],
        [c.recall, c.recall_ci],
        [c.f1, c.f1_ci],
      ] as const) {
        expect(ci.low).toBeLessThanOrEqual(v + 1e-12);
        expect(ci.high).toBeGreaterThanOrEqual(v - 1e-12);
      }
    }
  }
});

describe('guardrails on the trusted rows', () => {
  const strict: Guardrails = { alpha: 0.05, min_accuracy: 0.8 };

  test('a challenger significantly worse on the trusted rows is refused under any policy', () => {
    // 7 trusted rows only the champion gets right: exact two-sided p = 2 * 0.5^7 = 0.015625 < 0.05.
    const worse = [0, 1, 2, 10, 11, 20, 21];
    for (const name of ['any_improvement', 'non_inferior', 'min_delta', 'significant'] as const) {
      const d = run(p({ name, ...(name === 'non_inferior' ? { alpha: 0.001 } : {}) }), [], worse, { guardrails: strict });
      expect(d.activated).toBe(false);
      expect(d.violations[0]).toMatchObject({ code: 'trusted_significantly_worse', n: 30, only_champion_correct: 7, alpha: 0.05 });
      expect(d.violations[0]?.p_value).toBeCloseTo(0.015625, 10);
    }
  });

  test('a challenger below the minimum accuracy on the trusted rows is refused even when the champion is as bad', () => {
    const wrong = [0, 1, 2, 3, 10, 11, 12, 20]; // 22 / 30 = 0.733
    const d = run(p({ name: 'any_improvement' }), wrong, wrong, { guardrails: strict });
    expect(d.activated).toBe(false);
    expect(d.violations.map((v) => v.code)).toEqual(['trusted_below_minimum_accuracy']);
    expect(d.violations[0]).toMatchObject({ min_accuracy: 0.8, n: 30 });
  });

  test('the decision keeps the trusted and growing rows apart; the guardrails see only the trusted ones', () => {
    // The first 15 rows are trusted. The challenger loses 6 of them (p = 0.03125) and wins 8 growing rows:
    // better overall, worse where it counts.
    const d = run(p({ name: 'any_improvement' }), [15, 16, 17, 18, 19, 20, 21, 22], [0, 1, 2, 3, 4, 5], { guardrails: strict, trustedRows: 15 });
    expect(d.trusted).toMatchObject({ n: 15, champion: { correct: 15 }, challenger: { correct: 9 } });
    expect(d.growing).toMatchObject({ n: 15, champion: { correct: 7 }, challenger: { correct: 15 } });
    expect(d.challenger.correct).toBeGreaterThan(d.champion?.correct as number);
    expect(d.activated).toBe(false);
    expect(d.violations.map((v) => v.code)).toContain('trusted_significantly_worse');
    expect(d.guardrails).toEqual(strict);
  });

  test('with no growing rows the decision says so', () => {
    const d = run(p({ name: 'any_improvement' }), [], []);
    expect(d.growing).toBeNull();
    expect(d.trusted.n).toBe(30);
  });

  test('trustedRows outside 1..n is a programming error', () => {
    expect(() => run(p({ name: 'any_improvement' }), [], [], { trustedRows: 0 })).toThrow(RangeError);
  });

  test('guardrail alpha is bounded', () => {
    expect(guardrailsSchema.safeParse({ alpha: 1e-300, min_accuracy: 0.5 }).success).toBe(false);
    expect(guardrailsSchema.safeParse({ alpha: 0.5, min_accuracy: 0.5 }).success).toBe(false);
    expect(guardrailsSchema.safeParse({ alpha: 0.05, min_accuracy: 0.5 }).success).toBe(true);
  });
});

test('policy parameters are bounded: a request cannot switch a test off', () => {
  expect(policySchema.safeParse({ name: 'non_inferior', alpha: 1e-300 }).success).toBe(false);
  expect(policySchema.safeParse({ name: 'non_inferior', alpha: 0.0009 }).success).toBe(false);
  expect(policySchema.safeParse({ name: 'non_inferior', alpha: 0.001 }).success).toBe(true);
  expect(policySchema.safeParse({ name: 'significant', alpha: 0.9 }).success).toBe(false);
  expect(policySchema.safeParse({ name: 'min_delta', min_delta: 0.9 }).success).toBe(false);
  expect(policySchema.safeParse({ name: 'per_class_f1', class: 0, min_support: 1e6 }).success).toBe(false);
});

test('policy schema refuses unknown names and fields', () => {
  expect(policySchema.safeParse({ name: 'best_effort' }).success).toBe(false);
  expect(policySchema.safeParse({ name: 'any_improvement', min_delta: 0.1 }).success).toBe(false);
  expect(policySchema.safeParse({ name: 'per_class_f1' }).success).toBe(false);
  expect(policySchema.parse({ name: 'significant' })).toEqual({ name: 'significant', alpha: 0.05 });
});
