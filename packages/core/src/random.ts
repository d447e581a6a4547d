/**
 * A small seeded pseudo-random generator (mulberry32).
 *
 * Splits, bootstraps and synthetic data must be reproducible from a seed across machines and
 * Node versions, which `Math.random` is not.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
}

// Module-level copies: under jest's vm sandbox every lookup of the global `Math` is slow.
const { imul, floor, sqrt, log, sin, cos, PI } = Math;

/** Creates a deterministic generator from a 32-bit seed. */
export function createRng(seed: number): Rng {
  // Kept as a signed 32-bit integer (`| 0`): V8 stores it unboxed, where `>>> 0` values above
  // 2^31 would be heap numbers allocated on every draw. The sequence is the same.
  let state = seed | 0;
  let spare: number | undefined;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => floor(next() * n),
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = sqrt(-2 * log(u));
      spare = r * sin(2 * PI * v);
      return r * cos(2 * PI * v);
    },
  };
}

/** Fisher-Yates shuffle of `items` in place, driven by `rng`. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}
