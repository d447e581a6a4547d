/**
 * Objective for {@link minimizeLbfgs}: returns f(x) and writes ∇f(x) into `gradient`.
 *
 * Both arrays are owned by the minimizer and reused between calls, so the callback must not
 * keep references to them; in exchange a fit allocates nothing per evaluation.
 */
export type LbfgsObjective = (x: Float64Array, gradient: Float64Array) => number;

/** Options of {@link minimizeLbfgs}; the defaults follow scikit-learn's use of SciPy's L-BFGS-B. */
export interface LbfgsOptions {
  /** Correction pairs kept (SciPy's `maxcor`). Default 10. */
  memory?: number;
  /** Iteration cap (scikit-learn's `max_iter`). Default 100. */
  maxIterations?: number;
  /** Stop when `max_i |∇f_i| <= gradientTolerance` (SciPy's `pgtol`, scikit-learn's `tol`). Default 1e-4. */
  gradientTolerance?: number;
  /**
   * Stop when an iteration lowers f by less than this, relative to `max(|f_old|, |f_new|, 1)`
   * (SciPy's `ftol`). The default, 64 machine epsilons as scikit-learn passes it, only fires
   * once progress is lost in rounding noise.
   */
  functionTolerance?: number;
  /** Objective evaluations allowed per line search (SciPy's `maxls`). Default 20. */
  maxLineSearchEvaluations?: number;
  /** Called after every iteration; must be cheap. */
  onIteration?: (iteration: number, loss: number) => void;
}

/** Why {@link minimizeLbfgs} stopped. */
export type LbfgsStopReason = 'gradient' | 'function' | 'max_iterations' | 'line_search';

/** Outcome of {@link minimizeLbfgs}. */
export interface LbfgsResult {
  /** The last accepted point (a fresh array). */
  x: Float64Array;
  /** f at `x`. */
  loss: number;
  /** Iterations completed (accepted steps). */
  iterations: number;
  /** Objective evaluations, line searches included. */
  evaluations: number;
  /**
   * True when a tolerance was met: the gradient one, or the relative-reduction one, which
   * SciPy and scikit-learn also count as convergence.
   */
  converged: boolean;
  stop: LbfgsStopReason;
  /** `max_i |∇f_i|` at `x`. */
  gradientMaxNorm: number;
}

/** Sufficient-decrease (Armijo) constant of the Wolfe conditions. */
const C1 = 1e-4;
/** Curvature constant; 0.9 is the usual choice for quasi-Newton methods (Nocedal & Wright). */
const C2 = 0.9;

/**
 * Minimizes a smooth function with limited-memory BFGS and a strong-Wolfe line search
 * (bracketing and zoom with safeguarded cubic interpolation, Nocedal & Wright algorithms 3.5
 * and 3.6).
 *
 * Deterministic: the same objective and start give the same iterates bit for bit. Every
 * buffer is allocated once up front.
 *
 * @throws RangeError when the objective is not finite at the starting point.
 */
export function minimizeLbfgs(objective: LbfgsObjective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const m = Math.max(1, Math.floor(options.memory ?? 10));
  const maxIterations = Math.max(0, Math.floor(options.maxIterations ?? 100));
  const gtol = options.gradientTolerance ?? 1e-4;
  const ftol = options.functionTolerance ?? 64 * Number.EPSILON;
  const maxLs = Math.max(1, Math.floor(options.maxLineSearchEvaluations ?? 20));
  const n = x0.length;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let xTrial = new Float64Array(n);
  let gTrial = new Float64Array(n);
  const d = new Float64Array(n);
  // Correction pairs in a ring: pair p occupies [p*n, (p+1)*n).
  const sHist = new Float64Array(m * n);
  const yHist = new Float64Array(m * n);
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  let pairs = 0;
  let newest = -1;
  /** s'y / y'y of the newest stored pair: the scale of the initial inverse Hessian. */
  let gamma = 1;

  let f = objective(x, g);
  let evaluations = 1;
  if (!Number.isFinite(f)) throw new RangeError(`objective is ${f} at the starting point`);
  let gmax = maxAbs(g);
  let fTrial = f;

  const result = (iterations: number, stop: LbfgsStopReason): LbfgsResult => ({
    x,
    loss: f,
    iterations,
    evaluations,
    converged: stop === 'gradient' || stop === 'function',
    stop,
    gradientMaxNorm: gmax,
  });

  if (gmax <= gtol) return result(0, 'gradient');

  /** Evaluates f and its directional derivative at `x + step * d` into the trial buffers. */
  const evaluate = (step: number): number => {
    for (let i = 0; i < n; i++) xTrial[i] = (x[i] as number) + step * (d[i] as number);
    fTrial = objective(xTrial, gTrial);
    evaluations++;
    return dot(gTrial, d, n);
  };

  /**
   * Finds a step satisfying the strong Wolfe conditions along `d`, leaving the accepted point
   * in the trial buffers. Falls back to the best sufficient-decrease step seen when the
   * evaluation budget runs out, because a step that lowers f is still progress.
   */
  const lineSearch = (f0: number, dphi0: number, firstStep: number): boolean => {
    const armijo = (step: number, value: number): boolean => value <= f0 + C1 * step * dphi0;
    const curvature = (slope: number): boolean => Math.abs(slope) <= -C2 * dphi0;
    let used = 0;
    let bestStep = 0;
    let bestF = f0;
    const track = (step: number, value: number): void => {
      if (armijo(step, value) && value < bestF) {
        bestF = value;
        bestStep = step;
      }
    };

    // Bracketing phase: grow the step until it overshoots or satisfies both conditions.
    let aPrev = 0;
    let fPrev = f0;
    let dPrev = dphi0;
    let a = firstStep;
    let lo = 0;
    let fLo = 0;
    let dLo = 0;
    let hi = 0;
    let fHi = 0;
    let dHi = 0;
    let bracketed = false;
    while (used < maxLs) {
      const da = evaluate(a);
      used++;
      const fa = fTrial;
      track(a, fa);
      if (!Number.isFinite(fa) || !armijo(a, fa) || (used > 1 && fa >= fPrev)) {
        [lo, fLo, dLo, hi, fHi, dHi] = [aPrev, fPrev, dPrev, a, fa, da];
        bracketed = true;
        break;
      }
      if (curvature(da)) return true;
      if (da >= 0) {
        [lo, fLo, dLo, hi, fHi, dHi] = [a, fa, da, aPrev, fPrev, dPrev];
        bracketed = true;
        break;
      }
      const next = cubicMinimizer(aPrev, fPrev, dPrev, a, fa, da);
      aPrev = a;
      fPrev = fa;
      dPrev = da;
      a = Number.isFinite(next) ? Math.min(4 * a, Math.max(1.1 * a, next)) : 2 * a;
    }

    // Zoom phase: shrink [lo, hi] (lo always the lower value satisfying Armijo) around a Wolfe point.
    while (bracketed && used < maxLs) {
      const width = hi - lo;
      if (Math.abs(width) <= 1e-12 * Math.max(1, Math.abs(lo))) break;
      let a = cubicMinimizer(lo, fLo, dLo, hi, fHi, dHi);
      const left = Math.min(lo, hi) + 0.1 * Math.abs(width);
      const right = Math.max(lo, hi) - 0.1 * Math.abs(width);
      if (!Number.isFinite(a) || a < left || a > right) a = lo + 0.5 * width;
      const da = evaluate(a);
      used++;
      const fa = fTrial;
      track(a, fa);
      if (!Number.isFinite(fa) || !armijo(a, fa) || fa >= fLo) {
        [hi, fHi, dHi] = [a, fa, da];
      } else {
        if (curvature(da)) return true;
        if (da * (hi - lo) >= 0) [hi, fHi, dHi] = [lo, fLo, dLo];
        [lo, fLo, dLo] = [a, fa, da];
      }
    }

    if (bestStep === 0) return false;
    evaluate(bestStep);
    return true;
  };

  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    twoLoopDirection(g, d, sHist, yHist, rho, alpha, pairs, newest, gamma, m, n);
    let dphi0 = dot(g, d, n);
    if (!(dphi0 < 0)) {
      // Rounding can make the quasi-Newton direction non-descent; steepest descent always is.
      pairs = 0;
      for (let i = 0; i < n; i++) d[i] = -(g[i] as number);
      dphi0 = dot(g, d, n);
    }
    // Without curvature information, take a first step of unit length, as SciPy does.
    let accepted = lineSearch(f, dphi0, pairs === 0 ? 1 / Math.sqrt(-dphi0) : 1);
    if (!accepted && pairs > 0) {
      pairs = 0;
      for (let i = 0; i < n; i++) d[i] = -(g[i] as number);
      dphi0 = dot(g, d, n);
      accepted = lineSearch(f, dphi0, 1 / Math.sqrt(-dphi0));
    }
    if (!accepted) return result(iteration - 1, 'line_search');

    // Store s = x_new - x and y = g_new - g, skipped when curvature is not positive so the
    // inverse-Hessian approximation stays positive definite.
    const slot = (newest + 1) % m;
    const off = slot * n;
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      const s = (xTrial[i] as number) - (x[i] as number);
      const yv = (gTrial[i] as number) - (g[i] as number);
      sHist[off + i] = s;
      yHist[off + i] = yv;
      sy += s * yv;
      yy += yv * yv;
    }
    if (sy > Number.EPSILON * yy) {
      rho[slot] = 1 / sy;
      // Written as 1 / (rho * yy), not sy / yy: the same bits as before, so version ids stay put.
      gamma = 1 / (rho[slot] * yy);
      newest = slot;
      pairs = Math.min(pairs + 1, m);
    }

    const fOld = f;
    [x, xTrial] = [xTrial, x];
    [g, gTrial] = [gTrial, g];
    f = fTrial;
    gmax = maxAbs(g);
    options.onIteration?.(iteration, f);

    if (gmax <= gtol) return result(iteration, 'gradient');
    if (fOld - f <= ftol * Math.max(Math.abs(fOld), Math.abs(f), 1)) return result(iteration, 'function');
  }
  return result(maxIterations, 'max_iterations');
}

/** Writes the L-BFGS direction `-H g` into `d` (two-loop recursion over the stored pairs). */
function twoLoopDirection(
  g: Float64Array,
  d: Float64Array,
  sHist: Float64Array,
  yHist: Float64Array,
  rho: Float64Array,
  alpha: Float64Array,
  pairs: number,
  newest: number,
  gamma: number,
  m: number,
  n: number,
): void {
  for (let i = 0; i < n; i++) d[i] = g[i] as number;
  for (let p = 0; p < pairs; p++) {
    const slot = (newest - p + m) % m;
    const off = slot * n;
    let a = 0;
    for (let i = 0; i < n; i++) a += (sHist[off + i] as number) * (d[i] as number);
    a *= rho[slot] as number;
    alpha[slot] = a;
    for (let i = 0; i < n; i++) d[i] = (d[i] as number) - a * (yHist[off + i] as number);
  }
  // Initial inverse-Hessian scaling: gamma = s'y / y'y of the newest pair.
  if (pairs > 0) for (let i = 0; i < n; i++) d[i] = (d[i] as number) * gamma;
  for (let p = pairs - 1; p >= 0; p--) {
    const slot = (newest - p + m) % m;
    const off = slot * n;
    let b = 0;
    for (let i = 0; i < n; i++) b += (yHist[off + i] as number) * (d[i] as number);
    b *= rho[slot] as number;
    const c = (alpha[slot] as number) - b;
    for (let i = 0; i < n; i++) d[i] = (d[i] as number) + c * (sHist[off + i] as number);
  }
  for (let i = 0; i < n; i++) d[i] = -(d[i] as number);
}

/**
 * Minimizer of the cubic matching values and slopes at steps `a` and `b` (Nocedal & Wright
 * eq. 3.59); NaN when the cubic has no minimizer, so callers fall back to bisection.
 */
function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return Number.NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

function dot(a: Float64Array, b: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function maxAbs(a: Float64Array): number {
  let mx = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i] as number);
    if (v > mx || Number.isNaN(v)) mx = v;
  }
  return mx;
}
