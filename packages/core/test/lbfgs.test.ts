import { minimizeLbfgs, type LbfgsObjective } from '../src/lbfgs';

/** Rosenbrock in `n` dimensions: minimum 0 at (1, ..., 1), a curved valley that defeats steepest descent. */
const rosenbrock: LbfgsObjective = (x, g) => {
  g.fill(0);
  let f = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i] as number;
    const b = x[i + 1] as number;
    const t = b - a * a;
    f += 100 * t * t + (1 - a) * (1 - a);
    g[i] = (g[i] as number) - 400 * a * t - 2 * (1 - a);
    g[i + 1] = (g[i + 1] as number) + 200 * t;
  }
  return f;
};

describe('minimizeLbfgs', () => {
  it('finds the minimum of a badly scaled quadratic', () => {
    // f(x) = Σ c_i (x_i - t_i)² with curvatures spanning four orders of magnitude.
    const c = [1e-2, 1, 10, 100];
    const t = [3, -1, 0.5, 2];
    const result = minimizeLbfgs(
      (x, g) => {
        let f = 0;
        for (let i = 0; i < x.length; i++) {
          const d = (x[i] as number) - (t[i] as number);
          f += (c[i] as number) * d * d;
          g[i] = 2 * (c[i] as number) * d;
        }
        return f;
      },
      new Float64Array(4),
      { gradientTolerance: 1e-10, maxIterations: 200 },
    );
    expect(result.converged).toBe(true);
    expect(result.stop).toBe('gradient');
    t.forEach((ti, i) => expect(result.x[i]).toBeCloseTo(ti, 7));
    expect(result.loss).toBeLessThan(1e-14);
  });

  it('solves the Rosenbrock function from the classic start', () => {
    const start = Float64Array.from([-1.2, 1, -1.2, 1, -1.2, 1]);
    // functionTolerance 0: only the gradient rule may stop it.
    const result = minimizeLbfgs(rosenbrock, start, { gradientTolerance: 1e-8, functionTolerance: 0, maxIterations: 500 });
    expect(result.stop).toBe('gradient');
    for (const v of result.x) expect(v).toBeCloseTo(1, 6);
    expect(result.gradientMaxNorm).toBeLessThanOrEqual(1e-8);
    // Each iteration needs at least one evaluation, plus the one at the start.
    expect(result.evaluations).toBeGreaterThan(result.iterations);
  });

  it('is deterministic and leaves the start untouched', () => {
    const start = Float64Array.from([-1.2, 1, 0.3, -0.7]);
    const copy = Float64Array.from(start);
    const a = minimizeLbfgs(rosenbrock, start, { maxIterations: 30 });
    const b = minimizeLbfgs(rosenbrock, start, { maxIterations: 30 });
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(a.loss).toBe(b.loss);
    expect(a.evaluations).toBe(b.evaluations);
    expect(Array.from(start)).toEqual(Array.from(copy));
  });

  it('reports the iteration cap honestly', () => {
    const result = minimizeLbfgs(rosenbrock, Float64Array.from([-1.2, 1]), { maxIterations: 3, gradientTolerance: 1e-12 });
    expect(result.iterations).toBe(3);
    expect(result.converged).toBe(false);
    expect(result.stop).toBe('max_iterations');
  });

  it('stops at once when the start already meets the tolerance', () => {
    const result = minimizeLbfgs(rosenbrock, Float64Array.from([1, 1, 1]));
    expect(result).toMatchObject({ iterations: 0, evaluations: 1, converged: true, stop: 'gradient', loss: 0 });
  });

  it('survives steps into regions where the objective is not finite', () => {
    // -log(x) + x: minimum at 1, undefined for x <= 0, where a long first step can land.
    const result = minimizeLbfgs(
      (x, g) => {
        const v = x[0] as number;
        g[0] = v > 0 ? 1 - 1 / v : Number.NaN;
        return v > 0 ? v - Math.log(v) : Number.POSITIVE_INFINITY;
      },
      Float64Array.from([0.01]),
      { gradientTolerance: 1e-9 },
    );
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 7);
  });

  it('refuses a start where the objective is not finite', () => {
    expect(() => minimizeLbfgs(() => Number.NaN, new Float64Array(2))).toThrow(RangeError);
  });
});
