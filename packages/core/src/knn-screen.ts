import { Code, I32, V128, wasmModule, type WasmFunction } from './wasm-binary';

/**
 * The screening pass of {@link knn}'s search, in WebAssembly SIMD: for blocks of queries and
 * training rows, `||t||² - 2 q·t` on centered features, compared with each query's limit; the
 * pairs under their limit come back as candidates for an exact distance.
 *
 * Why WebAssembly: the pass is 2 q·t for every query and training row (3.2e9 multiply-adds for
 * 2,000 queries on 80,000 x 20), and scalar JavaScript peaks near one multiply-add a cycle
 * with typed-array bounds checks besides. f64x2 lanes do two at once and the loads need no
 * checks. Each lane computes one (query, row) sum with the same operations in the same order
 * as a scalar loop (start at `||t||²`, add `q_j * (-2 t_j)` for j = 0, 1, ...; no fused
 * multiply-add), so the values, and the error bound the caller's slack relies on, are those of
 * plain float64 arithmetic.
 */

/**
 * Queries per tile of the main kernel: a query's value is loaded once for all the tile's rows.
 * 4 x 4 (eight f64x2 sums, with the loaded values, within x64's sixteen vector registers)
 * measured fastest of 4 x 4, 5 x 4, 6 x 4, 8 x 2, 2 x 8, 3 x 8, 4 x 8 and 3 x 6 on 80,000 x 20.
 */
const TILE_QUERIES = 4;
/** Training rows per tile (pairs share an f64x2): a row pair is loaded once for all the tile's queries. */
export const TILE_ROWS = 4;

/** Just the WebAssembly API used here (the DOM library, which declares it, is not in core's lib). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
}

/** `(q, groups, t, norms, panels, row0, lim, first, out, scratch, d) => candidates written`. */
type KernelFn = (q: number, groups: number, t: number, norms: number, panels: number, row0: number, lim: number, first: number, out: number, scratch: number, d: number) => number;

/**
 * One screening kernel for tiles of `qt` queries by `r` training rows. Queries come in panels
 * of `qt` (value j of the panel's query a at `(j qt + a) 8`), training rows in panels of `r`
 * (`(j r + b) 8`, already multiplied by -2), their `||t||²` contiguous. For each panel of
 * queries and each panel of rows, the `qt x r` sums; if any is under its query's limit, the
 * passing ones are appended to `out` as (query, row, sum) records of 16 bytes, query by query
 * and in row order within a tile, so that each query sees its rows in increasing order.
 */
function kernel(name: string, qt: number, r: number): WasmFunction {
  const v = r / 2;
  // Parameters, then i32 locals, then v128 locals, by index.
  const Q = 0, GROUPS = 1, T = 2, NORMS = 3, PANELS = 4, ROW0 = 5, LIM = 6, FIRST = 7, OUT = 8, SCRATCH = 9, D = 10;
  let next = 11;
  const local = (): number => next++;
  const G = local(), QG = local(), LG = local(), QIDX = local(), TP = local(), NP = local(), P = local(), ROW = local();
  const J = local(), QJ = local(), TJ = local(), CNT = local(), PB = local(), GB = local(), ADDR = local();
  const i32Locals = next - 11;
  const ACC = next;
  next += qt * v;
  const XV = next;
  next += v;
  const QS = local();
  const ANY = local();
  const acc = (a: number, w: number): number => ACC + a * v + w;

  const c = new Code();
  c.get(D).i32(r * 8).i32Mul().set(PB);
  c.get(D).i32(qt * 8).i32Mul().set(GB);
  c.get(Q).set(QG);
  c.get(FIRST).set(QIDX);
  c.get(LIM).get(FIRST).i32(8).i32Mul().i32Add().set(LG);
  c.get(GROUPS).set(G);
  c.block();
  c.get(G).i32Eqz().brIf(0);
  c.get(PANELS).i32Eqz().brIf(0);
  c.loop(); // query panels
  c.get(T).set(TP).get(NORMS).set(NP).get(PANELS).set(P).get(ROW0).set(ROW);
  c.loop(); // row panels
  for (let w = 0; w < v; w++) c.get(NP).v128Load(16 * w, 3).set(XV + w);
  for (let a = 0; a < qt; a++) for (let w = 0; w < v; w++) c.get(XV + w).set(acc(a, w));
  c.get(QG).set(QJ).get(TP).set(TJ).get(D).set(J);
  c.loop(); // features
  for (let w = 0; w < v; w++) c.get(TJ).v128Load(16 * w, 3).set(XV + w);
  for (let a = 0; a < qt; a++) {
    c.get(QJ).v128Load64Splat(8 * a).set(QS);
    for (let w = 0; w < v; w++) c.get(acc(a, w)).get(QS).get(XV + w).f64x2Mul().f64x2Add().set(acc(a, w));
  }
  c.get(QJ).i32(qt * 8).i32Add().set(QJ);
  c.get(TJ).i32(r * 8).i32Add().set(TJ);
  c.get(J).i32(1).i32Sub().tee(J).brIf(0);
  c.end();
  // Any sum under its query's limit? Almost never, once the heaps fill.
  for (let a = 0; a < qt; a++) {
    c.get(LG).v128Load64Splat(8 * a).set(QS);
    for (let w = 0; w < v; w++) {
      c.get(acc(a, w)).get(QS).f64x2Lt();
      if (a > 0 || w > 0) c.get(ANY).v128Or();
      c.set(ANY);
    }
  }
  c.get(ANY).v128AnyTrue().if();
  for (let a = 0; a < qt; a++) for (let w = 0; w < v; w++) c.get(SCRATCH).get(acc(a, w)).v128Store(16 * (a * v + w), 3);
  for (let a = 0; a < qt; a++) {
    for (let b = 0; b < r; b++) {
      c.get(SCRATCH).f64Load(8 * (a * r + b)).get(LG).f64Load(8 * a).f64Lt().if();
      c.get(OUT).get(CNT).i32(16).i32Mul().i32Add().set(ADDR);
      c.get(ADDR).get(QIDX).i32(a).i32Add().i32Store(0);
      c.get(ADDR).get(ROW).i32(b).i32Add().i32Store(4);
      c.get(ADDR).get(SCRATCH).f64Load(8 * (a * r + b)).f64Store(8);
      c.get(CNT).i32(1).i32Add().set(CNT);
      c.end();
    }
  }
  c.end();
  c.get(TP).get(PB).i32Add().set(TP);
  c.get(NP).i32(r * 8).i32Add().set(NP);
  c.get(ROW).i32(r).i32Add().set(ROW);
  c.get(P).i32(1).i32Sub().tee(P).brIf(0);
  c.end();
  c.get(QG).get(GB).i32Add().set(QG);
  c.get(LG).i32(qt * 8).i32Add().set(LG);
  c.get(QIDX).i32(qt).i32Add().set(QIDX);
  c.get(G).i32(1).i32Sub().tee(G).brIf(0);
  c.end();
  c.end();
  c.get(CNT);
  const locals = [...Array.from({ length: i32Locals }, () => I32), ...Array.from({ length: next - 11 - i32Locals }, () => V128)] as WasmFunction['locals'];
  return { name, params: Array.from({ length: 11 }, () => I32), results: [I32], locals, body: c };
}

let compiled: object | undefined;

function api(): WasmApi {
  return (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
}

/** The module, compiled on first use and shared by every model. */
function screenModule(): object {
  compiled ??= new (api().Module)(wasmModule([kernel('tiles', TILE_QUERIES, TILE_ROWS), kernel('single', 1, TILE_ROWS)]));
  return compiled;
}

const PAGE = 65536;
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * A model's training rows laid out for the kernels (centered on `mean`, times -2, in panels,
 * with their `||t - mean||²`), in a WebAssembly memory of its own, with room for one block of
 * queries and its candidates. Not reentrant: one {@link screen} pass at a time, which
 * JavaScript's single thread guarantees for a synchronous caller.
 */
export class KnnScreen {
  /** Largest `||t - mean||` of the training rows: the scale of the screening error. */
  readonly maxNorm: number;
  /** Screening limit of each query of the current block; the caller keeps them current. */
  readonly limits: Float64Array;
  /** Candidates of the last {@link screen}: query and row at `[4 c]` and `[4 c + 1]`. */
  readonly candidateIndex: Int32Array;
  /** Candidates of the last {@link screen}: the screened sum at `[2 c + 1]`. */
  readonly candidateValue: Float64Array;
  private readonly d: number;
  private readonly rows: number;
  private readonly queriesPtr: number;
  private readonly queries: Float64Array;
  private readonly limitsPtr: number;
  private readonly normsPtr: number;
  private readonly scratchPtr: number;
  private readonly outPtr: number;
  private readonly tiles: KernelFn;
  private readonly single: KernelFn;
  private blockQueries = 0;

  /**
   * @param x Training rows, `rows x d` row-major.
   * @param mean The centering point (the column means).
   * @param maxQueries Most queries per {@link setQueries}.
   * @param maxRows Most training rows per {@link screen}.
   */
  constructor(x: Float64Array, mean: Float64Array, rows: number, d: number, maxQueries: number, maxRows: number) {
    this.d = d;
    this.rows = rows;
    const padded = Math.ceil(rows / TILE_ROWS) * TILE_ROWS;
    const panelsBytes = padded * d * 8;
    this.normsPtr = panelsBytes;
    this.queriesPtr = align16(this.normsPtr + padded * 8);
    this.limitsPtr = align16(this.queriesPtr + maxQueries * d * 8);
    this.scratchPtr = align16(this.limitsPtr + maxQueries * 8);
    this.outPtr = align16(this.scratchPtr + TILE_QUERIES * TILE_ROWS * 8);
    const outRows = Math.min(padded, Math.ceil(maxRows / TILE_ROWS) * TILE_ROWS);
    const total = this.outPtr + maxQueries * outRows * 16;
    const memory = new (api().Memory)({ initial: Math.ceil(total / PAGE) });
    const instance = new (api().Instance)(screenModule(), { env: { memory } });
    this.tiles = instance.exports.tiles as KernelFn;
    this.single = instance.exports.single as KernelFn;
    const buffer = memory.buffer;
    const panels = new Float64Array(buffer, 0, padded * d);
    const norms = new Float64Array(buffer, this.normsPtr, padded);
    let maxSq = 0;
    for (let t = 0; t < rows; t++) {
      const base = Math.floor(t / TILE_ROWS) * TILE_ROWS * d + (t % TILE_ROWS);
      let norm = 0;
      for (let j = 0; j < d; j++) {
        const v = (x[t * d + j] as number) - (mean[j] as number);
        // -2 folded in, so that the kernel only multiplies and adds.
        panels[base + j * TILE_ROWS] = -2 * v;
        norm += v * v;
      }
      norms[t] = norm;
      if (norm > maxSq) maxSq = norm;
    }
    this.maxNorm = Math.sqrt(maxSq);
    // Padding rows: +Infinity plus anything finite stays +Infinity, under no limit.
    norms.fill(Infinity, rows);
    this.queries = new Float64Array(buffer, this.queriesPtr, maxQueries * d);
    this.limits = new Float64Array(buffer, this.limitsPtr, maxQueries);
    this.candidateIndex = new Int32Array(buffer, this.outPtr, maxQueries * outRows * 4);
    this.candidateValue = new Float64Array(buffer, this.outPtr, maxQueries * outRows * 2);
  }

  /**
   * Loads a block of `m` centered queries (`qc`, row-major): whole tiles of queries as panels,
   * the last `m mod TILE_QUERIES` as plain rows for the single-query kernel.
   */
  setQueries(qc: Float64Array, m: number): void {
    const d = this.d;
    const m4 = m - (m % TILE_QUERIES);
    const q = this.queries;
    for (let i = 0; i < m4; i++) {
      const base = Math.floor(i / TILE_QUERIES) * TILE_QUERIES * d + (i % TILE_QUERIES);
      for (let j = 0; j < d; j++) q[base + j * TILE_QUERIES] = qc[i * d + j] as number;
    }
    q.set(qc.subarray(m4 * d, m * d), m4 * d);
    this.blockQueries = m;
  }

  /**
   * Screens the current queries against training rows `t0 .. t1` (`t0` a multiple of
   * {@link TILE_ROWS}; `t1` the end of the rows or also a multiple) and returns the number of
   * candidates written, in increasing row order for each query.
   */
  screen(t0: number, t1: number): number {
    const d = this.d;
    const m = this.blockQueries;
    const m4 = m - (m % TILE_QUERIES);
    const panels = Math.ceil((Math.min(t1, this.rows) - t0) / TILE_ROWS);
    const t = t0 * d * 8;
    const norms = this.normsPtr + t0 * 8;
    let count = this.tiles(this.queriesPtr, m4 / TILE_QUERIES, t, norms, panels, t0, this.limitsPtr, 0, this.outPtr, this.scratchPtr, d);
    if (m4 < m) {
      count += this.single(this.queriesPtr + m4 * d * 8, m - m4, t, norms, panels, t0, this.limitsPtr, m4, this.outPtr + count * 16, this.scratchPtr, d);
    }
    return count;
  }
}
