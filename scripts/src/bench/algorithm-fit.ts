import {
  argmaxRows,
  encodeLabels,
  encodeRows,
  featureSpecSchema,
  fitPreprocessing,
  getAlgorithm,
  parseNumericCsv,
  type FeatureMatrix,
  type Preprocessing,
} from '@ct/core';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

// Our side of one fit of the bench's algorithms section, in a fresh process (so the figure
// includes compiling the algorithm on first use, as a fresh `cli fit` does). Its counterpart
// is scripts/bench/sklearn_algorithms.py: same arguments, same JSON line.
//
//   node scripts/dist/bench/algorithm-fit.js --algorithm NAME --train TRAIN.csv --test TEST.csv
//        --target COLUMN [--query-rows N] [--skip-accuracy]
//
// Fit: the algorithm's default hyperparameters and the trainer's seed. An algorithm with
// `needsScaling` (knn) gets the trainer's step in front of it: the product's preprocessing
// (packages/core/src/preprocessing.ts) fitted on the training rows with standardization, and
// the encoded matrix; both are timed with the fit (scikit-learn's side times StandardScaler's
// fit and transform). Reading the CSVs is not timed.
// Prediction: `predictProba` on N query rows, the test rows cycled to N (default: the test
// set), timed with the encoding of the queries. Accuracy on the test set: from the timed
// predictions when they cover it, otherwise from a second, untimed prediction of the whole
// test set (left out with --skip-accuracy).

/** The trainer's seed for fits (as `cli fit`). */
const FIT_SEED = 42;

function main(): void {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      algorithm: { type: 'string' },
      train: { type: 'string' },
      test: { type: 'string' },
      target: { type: 'string' },
      'query-rows': { type: 'string' },
      'skip-accuracy': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const need = (name: 'algorithm' | 'train' | 'test' | 'target'): string => {
    const v = values[name];
    if (!v) throw new Error(`missing --${name}`);
    return v;
  };
  const algorithm = getAlgorithm(need('algorithm'));
  if (!algorithm) throw new Error(`unknown algorithm ${values.algorithm}`);
  const target = need('target');
  const train = parseNumericCsv(readFileSync(need('train'), 'utf8'), { target });
  const test = parseNumericCsv(readFileSync(need('test'), 'utf8'), { target });
  if (train.featureNames.join(',') !== test.featureNames.join(',')) throw new Error('the test file has other feature columns than the training file');
  const { classes, y } = encodeLabels(train.yRaw);
  const yTest = encodeLabels(test.yRaw, classes).y;
  const queryRows = values['query-rows'] === undefined ? test.x.rows : Number(values['query-rows']);
  if (!Number.isSafeInteger(queryRows) || queryRows < 1) throw new Error(`--query-rows must be a positive integer, got ${values['query-rows']}`);
  const queries = cycleRows(test.x, queryRows);

  // The trainer's preprocessing works on rows of cells; built outside the timed part.
  const scaled = algorithm.needsScaling === true;
  const features = train.featureNames.map((_, j) => featureSpecSchema.parse({ name: `f${j}`, type: 'numeric' }));
  const trainRows = scaled ? toRows(train.x) : [];
  const queryCells = scaled ? toRows(queries) : [];

  const fitStarted = performance.now();
  let preprocessing: Preprocessing | null = null;
  let x = train.x;
  if (scaled) {
    preprocessing = fitPreprocessing(features, trainRows, { standardize: true });
    x = encodeRows(preprocessing, trainRows, features.length);
  }
  const hyperparameters = algorithm.hyperparametersSchema.parse({});
  const { model, report } = algorithm.fit({ x, y, nClasses: classes.length, hyperparameters, seed: FIT_SEED });
  const fitMs = performance.now() - fitStarted;

  const predictStarted = performance.now();
  const proba = model.predictProba(scaled ? encodeRows(preprocessing, queryCells, features.length) : queries);
  const predictMs = performance.now() - predictStarted;

  let accuracy: number | null = null;
  if (queryRows >= test.x.rows) {
    accuracy = accuracyOf(proba.subarray(0, test.x.rows * classes.length), yTest, classes.length);
  } else if (!values['skip-accuracy']) {
    accuracy = accuracyOf(model.predictProba(scaled ? encodeRows(preprocessing, toRows(test.x), features.length) : test.x), yTest, classes.length);
  }
  process.stdout.write(
    `${JSON.stringify({
      algorithm: algorithm.name,
      train_rows: train.x.rows,
      features: train.x.cols,
      fit_ms: round1(fitMs),
      iterations: report.iterations,
      converged: report.converged,
      predict_rows: queryRows,
      predict_ms: round1(predictMs),
      test_rows: test.x.rows,
      test_accuracy: accuracy,
    })}\n`,
  );
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10;

/** The rows of `x` repeated in order until there are `n` (the first `n` when `x` has more). */
function cycleRows(x: FeatureMatrix, n: number): FeatureMatrix {
  if (x.rows === 0) throw new Error('the test file has no rows');
  const data = new Float64Array(n * x.cols);
  for (let i = 0; i < n; i++) data.set(x.data.subarray((i % x.rows) * x.cols, ((i % x.rows) + 1) * x.cols), i * x.cols);
  return { rows: n, cols: x.cols, data };
}

function toRows(x: FeatureMatrix): number[][] {
  return Array.from({ length: x.rows }, (_, i) => Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));
}

function accuracyOf(proba: Float64Array, y: Int32Array, nClasses: number): number {
  const predicted = argmaxRows(proba, nClasses);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return y.length === 0 ? 0 : correct / y.length;
}

try {
  main();
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exitCode = 2;
}
