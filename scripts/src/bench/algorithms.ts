import { modelSpecSchema, readRecords, stratifiedSplit } from '@ct/core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeSklearn, PYTHON, syntheticDataSet, synthArgs, type DataSet } from './fit';
import { makeTempDir, run } from './procs';
import { fmt, fmtMs, fmtRatio, mdTable, median, say, ROOT, type TargetCheck } from './util';

// Section "algorithms": the four algorithms behind the classifier interface against their
// scikit-learn counterparts, in the same run on the same splits (files both sides read).
// Every fit runs in a fresh process (scripts/dist/bench/algorithm-fit.js for ours,
// scripts/bench/sklearn_algorithms.py for scikit-learn), ours and scikit-learn's taking turns;
// each process also times one prediction of the query rows right after its fit. Medians of
// the runs. The targets (issue 8, part 3): accuracy within 1 point on penguins and on the
// 100,000-row synthetic set; random_forest's fit and the prediction of 20,000 rows at most
// scikit-learn's (n_jobs=1) on 10,000 and 80,000 training rows; knn's 2,000 queries on 80,000
// training rows at most 1.5x scikit-learn's brute force (the faster of its default threads and
// one thread, both measured); gaussian_nb's and
// logistic_regression's fit at most 1.5x scikit-learn's (on the 80,000 training rows: on
// penguins a fresh process's JIT warm-up is the whole figure, shown but not a target).

const WORKER = join(ROOT, 'scripts', 'dist', 'bench', 'algorithm-fit.js');
const SKLEARN_WORKER = join(ROOT, 'scripts', 'bench', 'sklearn_algorithms.py');
const PENGUINS_SPEC = join(ROOT, 'catalog', 'penguins.json');

/** The product's algorithm names, in the order shown. */
const ALGORITHMS = ['logistic_regression', 'random_forest', 'knn', 'gaussian_nb'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** Accuracy target: within one percentage point of scikit-learn's. */
const ACCURACY_TOLERANCE = 0.01;
/** gaussian_nb and logistic_regression fit-time target, as the solver's: at most 1.5x. */
const FIT_RATIO_TARGET = 1.5;
/** random_forest targets: fit and prediction at most scikit-learn's. */
const FOREST_RATIO_TARGET = 1;
/** knn target: the queries at most 1.5x scikit-learn's brute force. */
const KNN_RATIO_TARGET = 1.5;
/** Rows predicted by the forests (the 20,000). */
const FOREST_QUERY_ROWS = 20_000;
/** kNN queries (the 2,000). */
const KNN_QUERY_ROWS = 2_000;
/** Penguins: stratified 80/20 with the catalogue's seed. */
const PENGUINS_TEST_FRACTION = 0.2;
const PENGUINS_SEED = 42;

export interface AlgorithmsOptions {
  quick: boolean;
}

/** One JSON line of either worker. */
interface WorkerLine {
  algorithm: string;
  train_rows: number;
  features: number;
  fit_ms: number;
  iterations: number;
  converged?: boolean;
  predict_rows: number;
  predict_ms: number;
  test_rows: number;
  test_accuracy: number | null;
  threads?: string[] | null;
}

/** One side (ours, scikit-learn) of a comparison: runs and medians. */
export interface SideResult {
  label: string;
  fitRuns: number[];
  predictRuns: number[];
  fitMs?: number;
  predictMs?: number;
  accuracy?: number;
  iterations?: number;
  converged?: boolean;
  threads?: string[];
  /** Why there are no figures (a failure). */
  note?: string;
}

export interface AlgorithmRow {
  data: string;
  trainRows: number;
  testRows: number;
  features: number;
  algorithm: Algorithm;
  queryRows: number;
  ours: SideResult;
  sklearn?: SideResult;
  /** knn only: scikit-learn restricted to one thread (OMP/OpenBLAS); the knn target takes the faster of the two. */
  sklearnOneThread?: SideResult;
}

export interface AlgorithmsSection {
  rows: AlgorithmRow[];
  sklearn: { available: boolean; version?: string; reason?: string };
  repetitions: number;
  /** Remarks printed under the table. */
  notes: string[];
  checks: TargetCheck[];
  commands: string[];
}

/** One measurement: which data, which algorithm, how many query rows. */
interface Job {
  ds: DataSet;
  algorithm: Algorithm;
  queryRows?: number;
  /** Compute the accuracy (an extra, untimed prediction of the test set) in the first run only. */
  accuracyOnce?: boolean;
  /** Also run scikit-learn on one thread (the knn target uses the faster of the two). */
  oneThread?: boolean;
}

const oneThreadEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

async function runWorker(kind: 'ours' | 'sklearn' | 'sklearn1', job: Job, withAccuracy: boolean): Promise<WorkerLine> {
  const args = ['--algorithm', job.algorithm, '--train', job.ds.train, '--test', job.ds.test, '--target', job.ds.target];
  if (job.queryRows !== undefined) args.push('--query-rows', String(job.queryRows));
  if (!withAccuracy) args.push('--skip-accuracy');
  const r =
    kind === 'ours'
      ? await run(process.execPath, [WORKER, ...args], { cwd: ROOT })
      : await run(PYTHON, [SKLEARN_WORKER, ...args], { cwd: ROOT, env: kind === 'sklearn1' ? oneThreadEnv : process.env });
  if (r.code !== 0) throw new Error(`${kind} ${job.algorithm} on ${job.ds.name} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as WorkerLine;
}

/** Penguins, complete rows, island and sex one-hot, the four measurements, `year` left out; 80/20 stratified with the product's split. */
function penguinsDataSet(dir: string): DataSet {
  const spec = modelSpecSchema.parse(JSON.parse(readFileSync(PENGUINS_SPEC, 'utf8')));
  const text = readFileSync(join(ROOT, 'datasets', spec.dataset.file), 'utf8');
  const records = readRecords(text);
  const header = records.next();
  if (header.done) throw new Error('penguins.csv is empty');
  const names = header.value.cells.map((c) => c.trim());
  const col = (name: string): number => {
    const j = names.indexOf(name);
    if (j < 0) throw new Error(`penguins.csv has no column ${name}`);
    return j;
  };
  const targetCol = col(spec.target.column);
  const columns: string[] = [];
  for (const f of spec.features) {
    if (f.type === 'categorical') for (const level of f.levels) columns.push(`${f.name}_${level}`);
    else columns.push(f.name);
  }
  const isMissing = (cell: string): boolean => ['', 'NA', 'NaN', 'null'].includes(cell.trim());
  const rows: string[][] = [];
  const labels: string[] = [];
  let dropped = 0;
  for (const { cells } of records) {
    if (cells.every((c) => c.trim() === '')) continue;
    // Complete rows only: a missing value in any column (year included) drops the row.
    if (cells.some(isMissing)) {
      dropped++;
      continue;
    }
    const out: string[] = [];
    for (const f of spec.features) {
      const cell = (cells[col(f.name)] as string).trim();
      if (f.type === 'categorical') {
        if (!f.levels.includes(cell)) throw new Error(`penguins.csv: ${f.name} "${cell}" is not one of ${f.levels.join(', ')}`);
        for (const level of f.levels) out.push(level === cell ? '1' : '0');
      } else {
        if (!Number.isFinite(Number(cell))) throw new Error(`penguins.csv: ${f.name} "${cell}" is not a number`);
        out.push(String(Number(cell)));
      }
    }
    rows.push(out);
    labels.push((cells[targetCol] as string).trim());
  }
  const y = labels.map((l) => spec.target.classes.indexOf(l));
  if (y.some((k) => k < 0)) throw new Error('penguins.csv: a species outside the spec');
  const { train, holdout } = stratifiedSplit(y, PENGUINS_TEST_FRACTION, PENGUINS_SEED);
  const target = spec.target.column;
  const write = (path: string, idx: number[]) => {
    const lines = [[...columns, target].join(',')];
    for (const i of idx) lines.push([...(rows[i] as string[]), labels[i]].join(','));
    writeFileSync(path, `${lines.join('\n')}\n`);
  };
  const ds: DataSet = { name: 'penguins', train: join(dir, 'penguins-train.csv'), test: join(dir, 'penguins-test.csv'), target, trainRows: train.length, features: columns.length, slowBaseline: false };
  write(ds.train, train);
  write(ds.test, holdout);
  say(`  penguins: ${rows.length} complete rows (${dropped} with a missing value dropped), ${columns.length} columns (island and sex one-hot), ${train.length} train / ${holdout.length} test, stratified, seed ${PENGUINS_SEED}`);
  return ds;
}

/** Data rows of a CSV written by the bench (lines after the header). */
function dataRows(path: string): number {
  const text = readFileSync(path, 'utf8');
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n - 1 : n;
}

/** Medians of a side's runs; accuracy from the run that computed it. */
function summarize(label: string, lines: WorkerLine[]): SideResult {
  const fitRuns = lines.map((l) => l.fit_ms);
  const predictRuns = lines.map((l) => l.predict_ms);
  const withAccuracy = lines.find((l) => l.test_accuracy !== null);
  const last = lines[lines.length - 1] as WorkerLine;
  return {
    label,
    fitRuns,
    predictRuns,
    fitMs: median(fitRuns),
    predictMs: median(predictRuns),
    accuracy: withAccuracy?.test_accuracy ?? undefined,
    iterations: last.iterations,
    converged: last.converged,
    threads: last.threads ?? undefined,
  };
}

const signedPt = (delta: number): string => `${delta >= 0 ? '+' : ''}${fmt(delta * 100, 2)} pt`;

function sideLine(s: SideResult, queryRows: number): string {
  if (s.note) return `${s.label}: ${s.note}`;
  return (
    `${s.label.padEnd(50)} fit ${fmtMs(s.fitMs).padStart(9)} (runs ${s.fitRuns.map(fmtMs).join(', ')})  ` +
    `predict ${fmt(queryRows)} rows ${fmtMs(s.predictMs).padStart(9)} (runs ${s.predictRuns.map(fmtMs).join(', ')})  accuracy ${fmt(s.accuracy, 4)}` +
    (s.threads ? `  threads ${s.threads.join(' ')}` : '')
  );
}

export async function runAlgorithmsSection(opts: AlgorithmsOptions): Promise<AlgorithmsSection> {
  const reps = opts.quick ? 1 : 3;
  // --quick: the same comparisons on smaller synthetic sets (a smoke test, not the targets' sizes).
  const bigRows = opts.quick ? 20_000 : 100_000;
  const smallRows = opts.quick ? 2_500 : 12_500;
  say(`\n== Algorithms against scikit-learn (median of ${reps} run${reps > 1 ? 's' : ''}, each fit in a fresh process, ours and scikit-learn's taking turns) ==`);
  const sklearn = await probeSklearn();
  say(sklearn.available ? `  scikit-learn ${sklearn.version} (${PYTHON})` : `  scikit-learn skipped: ${sklearn.reason}`);

  const dir = makeTempDir('algorithms');
  const penguins = penguinsDataSet(dir);
  const big = await syntheticDataSet(dir, bigRows, false);
  const small = await syntheticDataSet(dir, smallRows, false);
  const forestQueries = opts.quick ? big.trainRows / 4 : FOREST_QUERY_ROWS;
  const jobs: Job[] = [
    ...ALGORITHMS.map((algorithm): Job => ({ ds: penguins, algorithm })),
    ...ALGORITHMS.map((algorithm): Job => {
      if (algorithm === 'knn') return { ds: big, algorithm, queryRows: KNN_QUERY_ROWS, accuracyOnce: true, oneThread: true };
      if (algorithm === 'random_forest') return { ds: big, algorithm, queryRows: forestQueries };
      return { ds: big, algorithm };
    }),
    { ds: small, algorithm: 'random_forest', queryRows: forestQueries },
  ];

  const rows: AlgorithmRow[] = [];
  for (const job of jobs) {
    const { ds } = job;
    const testRows = dataRows(ds.test);
    const queryRows = job.queryRows ?? testRows;
    say(`  ${ds.name} (${fmt(ds.trainRows)} train rows x ${ds.features}), ${job.algorithm}, predicting ${fmt(queryRows)} rows${job.queryRows !== undefined && job.queryRows > testRows ? ' (the test rows cycled)' : ''}`);
    const lines: Record<'ours' | 'sklearn' | 'sklearn1', WorkerLine[]> = { ours: [], sklearn: [], sklearn1: [] };
    const failed: Partial<Record<'ours' | 'sklearn' | 'sklearn1', string>> = {};
    const kinds: ('ours' | 'sklearn' | 'sklearn1')[] = ['ours', ...(sklearn.available ? (['sklearn'] as const) : []), ...(sklearn.available && job.oneThread ? (['sklearn1'] as const) : [])];
    for (let i = 0; i < reps; i++) {
      for (const kind of kinds) {
        if (failed[kind]) continue;
        try {
          lines[kind].push(await runWorker(kind, job, kind !== 'sklearn1' && (!job.accuracyOnce || i === 0)));
        } catch (err) {
          if (kind === 'ours') throw err;
          failed[kind] = `failed: ${(err as Error).message}`;
        }
      }
    }
    const first = lines.ours[0] as WorkerLine;
    const side = (kind: 'sklearn' | 'sklearn1', label: string): SideResult | undefined => {
      if (failed[kind]) return { label, fitRuns: [], predictRuns: [], note: failed[kind] };
      return lines[kind].length ? summarize(label, lines[kind]) : undefined;
    };
    const row: AlgorithmRow = {
      data: ds.name,
      trainRows: ds.trainRows,
      testRows: first.test_rows,
      features: ds.features,
      algorithm: job.algorithm,
      queryRows: first.predict_rows,
      ours: summarize(`ours: ${job.algorithm}`, lines.ours),
      sklearn: side('sklearn', `scikit-learn: ${lines.sklearn[0]?.algorithm.replace(/^sklearn-\S+ /, '') ?? job.algorithm}`),
      sklearnOneThread: job.oneThread ? side('sklearn1', 'scikit-learn on 1 thread') : undefined,
    };
    for (const s of [row.ours, row.sklearn, row.sklearnOneThread]) if (s) say(`    ${sideLine(s, row.queryRows)}`);
    const sk = row.sklearn;
    if (sk?.fitMs !== undefined && row.ours.fitMs !== undefined) {
      const acc = sk.accuracy !== undefined && row.ours.accuracy !== undefined ? `, accuracy ${signedPt(row.ours.accuracy - sk.accuracy)}` : '';
      say(`    ours / scikit-learn: fit ${fmtRatio(row.ours.fitMs / sk.fitMs)}, predict ${fmtRatio((row.ours.predictMs as number) / (sk.predictMs as number))}${acc}`);
    }
    rows.push(row);
  }

  const checks = buildChecks(rows, { penguins, big, small }, sklearn.available);
  const ds = (d: DataSet) => `${d.name.replace(/^synthetic /, 'synth-').replace(/[ ,]/g, '')}`;
  const commands = [
    `node scripts/dist/cli.js synth ${synthArgs(bigRows).join(' ')} --out-train ${ds(big)}-train.csv --out-test ${ds(big)}-test.csv`,
    `node scripts/dist/bench/algorithm-fit.js --algorithm knn --train ${ds(big)}-train.csv --test ${ds(big)}-test.csv --target label --query-rows ${KNN_QUERY_ROWS}`,
    `/usr/bin/python3 scripts/bench/sklearn_algorithms.py --algorithm knn --train ${ds(big)}-train.csv --test ${ds(big)}-test.csv --target label --query-rows ${KNN_QUERY_ROWS}`,
  ];
  const penguinsTest = dataRows(penguins.test);
  const notes = [
    `Penguins' test split is ${penguinsTest} rows, so one row is ${fmt(100 / penguinsTest, 2)} points: "within 1 point" there means the same number of correct predictions.`,
  ];
  return { rows, sklearn, repetitions: reps, notes, checks, commands };
}

function buildChecks(rows: AlgorithmRow[], sets: { penguins: DataSet; big: DataSet; small: DataSet }, sklearnAvailable: boolean): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const find = (ds: DataSet, algorithm: Algorithm) => rows.find((r) => r.data === ds.name && r.algorithm === algorithm);
  const push = (target: string, measured: string, met: boolean | null) => checks.push({ section: 'algorithms', target, measured, met });
  const notMeasured = (r: AlgorithmRow | undefined): string => (!sklearnAvailable ? 'scikit-learn not available' : (r?.sklearn?.note ?? 'not measured'));

  for (const ds of [sets.penguins, sets.big]) {
    for (const algorithm of ALGORITHMS) {
      const r = find(ds, algorithm);
      const target = `${algorithm} on ${ds.name}: accuracy within ${ACCURACY_TOLERANCE * 100} point of scikit-learn's`;
      const [a, b] = [r?.ours.accuracy, r?.sklearn?.accuracy];
      if (a === undefined || b === undefined) push(target, notMeasured(r), null);
      else push(target, `${fmt(a, 4)} vs ${fmt(b, 4)} (${signedPt(a - b)})`, Math.abs(a - b) <= ACCURACY_TOLERANCE + 1e-12);
    }
  }
  const ratioCheck = (r: AlgorithmRow | undefined, what: 'fit' | 'predict', target: string, limit: number) => {
    const [a, b] = what === 'fit' ? [r?.ours.fitMs, r?.sklearn?.fitMs] : [r?.ours.predictMs, r?.sklearn?.predictMs];
    if (a === undefined || b === undefined) {
      push(target, notMeasured(r), null);
      return;
    }
    push(target, `${fmtMs(a)} vs ${fmtMs(b)} = ${fmtRatio(a / b)}`, a / b <= limit);
  };
  const limitText = (limit: number) => (limit === 1 ? "at most scikit-learn's" : `≤ ${limit}x scikit-learn's`);
  for (const ds of [sets.small, sets.big]) {
    const r = find(ds, 'random_forest');
    const shape = `${fmt(ds.trainRows)} x ${ds.features}`;
    ratioCheck(r, 'fit', `random_forest (100 trees) fit on ${shape}: ${limitText(FOREST_RATIO_TARGET)} (n_jobs=1)`, FOREST_RATIO_TARGET);
    ratioCheck(r, 'predict', `random_forest (${shape}) predicting ${fmt(r?.queryRows)} rows: ${limitText(FOREST_RATIO_TARGET)}`, FOREST_RATIO_TARGET);
  }
  // knn: against the faster of scikit-learn as installed (its search may use every core) and
  // scikit-learn on one thread. On a loaded machine the multi-threaded search can be the
  // slower one (threads waiting for a busy core), which would flatter ours.
  const knn = find(sets.big, 'knn');
  const knnTarget = `knn on ${fmt(sets.big.trainRows)} training rows, ${fmt(knn?.queryRows)} queries: ${limitText(KNN_RATIO_TARGET)} brute force (the faster of its default threads and 1 thread)`;
  const [ours, skDefault, skOne] = [knn?.ours.predictMs, knn?.sklearn?.predictMs, knn?.sklearnOneThread?.predictMs];
  const reference = [skDefault, skOne].filter((v): v is number => v !== undefined);
  if (ours === undefined || reference.length === 0) {
    push(knnTarget, notMeasured(knn), null);
  } else {
    const best = Math.min(...reference);
    const parts = [`default threads ${fmtMs(skDefault)} (ours ${fmtRatio(skDefault === undefined ? undefined : ours / skDefault)})`, `1 thread ${fmtMs(skOne)} (ours ${fmtRatio(skOne === undefined ? undefined : ours / skOne)})`];
    push(knnTarget, `${fmtMs(ours)} vs ${fmtMs(best)} = ${fmtRatio(ours / best)}; scikit-learn ${parts.join(', ')}`, ours / best <= KNN_RATIO_TARGET);
  }
  for (const algorithm of ['gaussian_nb', 'logistic_regression'] as const) {
    ratioCheck(find(sets.big, algorithm), 'fit', `${algorithm} fit on ${fmt(sets.big.trainRows)} x ${sets.big.features}: ${limitText(FIT_RATIO_TARGET)}`, FIT_RATIO_TARGET);
  }
  return checks;
}

/** The section's markdown (called by report.ts). */
export function renderAlgorithms(out: string[], s: AlgorithmsSection): void {
  out.push('## 1b. Four algorithms against scikit-learn');
  out.push('');
  const sk = s.sklearn.version ? `scikit-learn ${s.sklearn.version}` : 'scikit-learn';
  out.push(
    `Each algorithm with its default hyperparameters next to its ${sk} counterpart on the same files: penguins (\`datasets/penguins.csv\`, complete rows, island and sex one-hot, the four measurements, \`year\` left out, ` +
      `the product's \`stratifiedSplit\` 80/20 with seed ${PENGUINS_SEED}) and \`cli synth ${synthArgs(0).slice(2).join(' ')}\` (3 classes, 80/20). ` +
      'Counterparts: `LogisticRegression()` (lbfgs, C=1) after `StandardScaler` (ours standardizes inside its parameters), `RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)`, ' +
      "`KNeighborsClassifier(n_neighbors=5, algorithm='brute')` after `StandardScaler` (ours after the product's preprocessing with standardization, fitted on the training rows), `GaussianNB()`. " +
      `Each run is a fresh process (\`scripts/dist/bench/algorithm-fit.js\`, \`scripts/bench/sklearn_algorithms.py\`) that reads the CSVs (not timed), fits (timed, scaler included) and predicts the query rows once (timed, scaling included); ` +
      `median of ${s.repetitions} run${s.repetitions > 1 ? 's' : ''}, ours and scikit-learn's taking turns. Query rows: the test split, cycled where more rows are predicted than it has. Accuracy on the test split.` +
      (s.sklearn.available ? '' : ` scikit-learn skipped: ${s.sklearn.reason}.`),
  );
  out.push('');
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? fmtRatio(a / b) : '');
  out.push(
    mdTable(
      ['data: train rows x features', 'algorithm', 'fit ours', 'fit scikit-learn', 'fit ratio', 'rows predicted', 'predict ours', 'predict scikit-learn', 'predict ratio', 'accuracy ours', 'accuracy scikit-learn', 'difference'],
      s.rows.map((r) => {
        const k = r.sklearn;
        const diff = r.ours.accuracy !== undefined && k?.accuracy !== undefined ? signedPt(r.ours.accuracy - k.accuracy) : '';
        return [
          `${r.data}: ${fmt(r.trainRows)} x ${r.features}`,
          r.algorithm,
          fmtMs(r.ours.fitMs),
          k?.note ? k.note : fmtMs(k?.fitMs),
          ratio(r.ours.fitMs, k?.fitMs),
          fmt(r.queryRows),
          fmtMs(r.ours.predictMs),
          fmtMs(k?.predictMs),
          ratio(r.ours.predictMs, k?.predictMs),
          fmt(r.ours.accuracy, 4),
          fmt(k?.accuracy, 4),
          diff,
        ];
      }),
      'llrrrrrrrrrr',
    ),
  );
  out.push('');
  const knn = s.rows.find((r) => r.algorithm === 'knn' && r.sklearnOneThread?.predictMs !== undefined);
  const threads = s.rows.find((r) => r.sklearn?.threads)?.sklearn?.threads;
  out.push(
    'Ours runs on one thread. scikit-learn runs as installed' +
      (threads ? ` (thread pools: ${threads.join(', ')})` : '') +
      ': the forest with `n_jobs=1` is one thread; the brute-force neighbour search (and numpy\'s BLAS) may use every core' +
      (knn?.sklearnOneThread?.predictMs !== undefined && knn.ours.predictMs !== undefined
        ? `; restricted to one thread (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1) it took ${fmtMs(knn.sklearnOneThread.predictMs)} for the ${fmt(knn.queryRows)} queries (runs ${knn.sklearnOneThread.predictRuns.map(fmtMs).join(', ')}), ours ${fmtRatio(knn.ours.predictMs / knn.sklearnOneThread.predictMs)} of that. ` +
          "The knn target uses the faster of the two: with other work on the machine, scikit-learn's two threads can take longer than one (a thread waits for a busy core), and the default figure alone then varies several-fold between runs."
        : '.'),
  );
  out.push(
    'The fit-time targets of gaussian_nb and logistic_regression apply to the large synthetic set; on penguins a fresh process mostly measures start-up and JIT warm-up (and scikit-learn its input validation).',
  );
  for (const n of s.notes) out.push(n);
  out.push('');
  out.push(
    mdTable(
      ['data', 'algorithm', 'fit runs ours', 'fit runs scikit-learn', 'predict runs ours', 'predict runs scikit-learn'],
      s.rows.map((r) => [
        `${r.data}: ${fmt(r.trainRows)} x ${r.features}`,
        r.algorithm,
        r.ours.fitRuns.map(fmtMs).join(', '),
        (r.sklearn?.fitRuns ?? []).map(fmtMs).join(', '),
        r.ours.predictRuns.map(fmtMs).join(', '),
        (r.sklearn?.predictRuns ?? []).map(fmtMs).join(', '),
      ]),
      'llrrrr',
    ),
  );
  out.push('');
}
