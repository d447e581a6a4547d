import { createRng } from '../src/random';

/** Shape of a {@link uniformSample}. */
export interface SampleShape {
  /** Multiplies each draw; default 1. */
  scale?: number;
  /** Added after scaling; default 0. */
  shift?: number;
  /** Round each draw down to a multiple of 1/grid first (to make ties); default 0 = no grid. */
  grid?: number;
}

/**
 * `n` draws of `createRng(seed).next()` (mulberry32), optionally put on a grid, then scaled and
 * shifted: reproducible test samples too large to write into a test. Only correctly rounded
 * IEEE operations are involved, so numpy reproduces them bit for bit; the scipy/numpy reference
 * values in the drift tests were computed on samples made by this Python twin
 * (`sample(seed, n, scale, shift, grid)`), run with /usr/bin/python3 (numpy 1.24.2, scipy 1.10.1):
 *
 *     import numpy as np
 *     def mulberry32(seed):
 *         s = seed & 0xFFFFFFFF
 *         def nxt():
 *             nonlocal s
 *             s = (s + 0x6D2B79F5) & 0xFFFFFFFF
 *             t = s
 *             t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
 *             t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
 *             return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296
 *         return nxt
 *     def sample(seed, n, scale=1.0, shift=0.0, grid=0):
 *         r = mulberry32(seed)
 *         u = np.array([r() for _ in range(n)])
 *         if grid: u = np.floor(u * grid) / grid
 *         return u * scale + shift
 */
export function uniformSample(seed: number, n: number, shape: SampleShape = {}): Float64Array {
  const { scale = 1, shift = 0, grid = 0 } = shape;
  const rng = createRng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let u = rng.next();
    if (grid) u = Math.floor(u * grid) / grid;
    out[i] = u * scale + shift;
  }
  return out;
}

/** Relative error against a non-zero reference. */
export function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}
