import {
  algorithmNames,
  argmaxRows,
  CsvError,
  encodeLabels,
  getAlgorithm,
  makeClassification,
  parseNumericCsv,
  stratifiedSplit,
  UnknownLabelError,
  type ClassifierAlgorithm,
  type FeatureMatrix,
  type NumericCsv,
} from '@ct/core';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { rebuildHistoryCommand, REBUILD_USAGE } from './rebuild-history-command';
import { tokenCommand, TOKEN_USAGE } from './token-command';

// Offline CLI: fit an algorithm on CSV files exactly as the trainer would, or write synthetic
// CSVs so anyone can rerun the benchmark figures. Exit codes: 0 ok, 2 bad input, 1 a bug.
//
//   cli fit --train TRAIN.csv --test TEST.csv --target COLUMN [--algorithm NAME]
//   cli synth --rows N --features F --informative I --seed S --out-train A.csv --out-test B.csv
//             [--classes 3] [--redundant min(2, F - I)]

/** One usage line per command: a new command adds its line here. */
const COMMAND_USAGES = [
  'cli fit --train TRAIN.csv --test TEST.csv --target COLUMN [--algorithm NAME]',
  'cli synth --rows N --features F --informative I --seed S --out-train A.csv --out-test B.csv [--classes C] [--redundant R]',
  REBUILD_USAGE,
  ...TOKEN_USAGE,
];

const USAGE = [
  'usage:',
  ...COMMAND_USAGES.map((line) => `  ${line}`),
  '  cli --help                 this text (also: cli COMMAND --help)',
  '',
  'Through npm: npm run cli -- COMMAND [options]. Exit codes: 0 ok, 2 bad input, 1 a bug.',
].join('\n');

/** `--help` anywhere, or `-h`/`help` as the command: usage on stdout, exit code 0. */
const wantsHelp = (argv: string[]): boolean => argv.includes('--help') || argv[0] === '-h' || argv[0] === 'help';

/** The trainer's seed for fits, so CLI figures reproduce what the service would train. */
const FIT_SEED = 42;

/** A problem with the user's input: printed without a stack trace, exit code 2. */
class InputError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (wantsHelp(argv)) process.stdout.write(`${USAGE}\n`);
  else if (command === 'rebuild-history') {
    try {
      for (const line of await rebuildHistoryCommand(rest)) process.stdout.write(`${line}\n`);
    } catch (err) {
      throw new InputError((err as Error).message);
    }
  } else if (command === 'token') {
    let lines: string[];
    try {
      lines = await tokenCommand(rest);
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    for (const line of lines) process.stdout.write(`${line}\n`);
  } else if (command === 'fit') fit(rest);
  else if (command === 'synth') synth(rest);
  else throw new InputError(command === undefined ? USAGE : `unknown command "${command}"\n${USAGE}`);
}

function fit(args: string[]): void {
  const values = parse(args, ['train', 'test', 'target', 'algorithm']);
  const trainPath = required(values, 'train');
  const testPath = required(values, 'test');
  const target = required(values, 'target');
  const algorithm = resolveAlgorithm(values.algorithm ?? 'logistic_regression');

  const train = readCsv(trainPath, target);
  const test = readCsv(testPath, target);
  const width = Math.max(train.featureNames.length, test.featureNames.length);
  for (let j = 0; j < width; j++) {
    const [expected, found] = [train.featureNames[j], test.featureNames[j]];
    if (expected !== found) {
      const where = found === undefined ? `feature ${j + 1}` : `column "${found}"`;
      const wanted = expected === undefined ? 'no such feature' : `expected "${expected}"`;
      throw new InputError(`${testPath}: line 1, ${where}: ${wanted}, as in ${trainPath}`);
    }
  }
  const { classes, y } = encodeLabels(train.yRaw);
  if (classes.length < 2) throw new InputError(`${trainPath}: column "${target}" has a single class "${classes[0]}"`);
  const yTest = encodeOrExplain(test, classes, testPath, target);

  // Timed: what the trainer does after reading the data (validation, standardization, fit).
  const started = performance.now();
  const hyperparameters = algorithm.hyperparametersSchema.parse({});
  const { model, report } = algorithm.fit({ x: train.x, y, nClasses: classes.length, hyperparameters, seed: FIT_SEED });
  const fitMs = performance.now() - started;

  console.log(
    JSON.stringify({
      algorithm: algorithm.name,
      train_rows: train.x.rows,
      features: train.x.cols,
      fit_ms: Math.round(fitMs * 10) / 10,
      iterations: report.iterations,
      converged: report.converged,
      test_accuracy: accuracy(model.predictProba(test.x), yTest, classes.length),
    }),
  );
}

/** The algorithm called `name`, or an input error listing the known ones. */
function resolveAlgorithm(name: string): ClassifierAlgorithm<unknown, unknown> {
  const algorithm = getAlgorithm(name);
  if (algorithm === undefined) throw new InputError(`unknown algorithm "${name}" (known: ${algorithmNames.join(', ')})`);
  return algorithm;
}

/**
 * `npm run cli` runs in the repository root; npm passes the caller's directory as INIT_CWD,
 * so relative paths mean what the user typed.
 */
function userPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

function readCsv(path: string, target: string): NumericCsv {
  let text: string;
  try {
    text = readFileSync(userPath(path), 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${(err as Error).message}`);
  }
  try {
    return parseNumericCsv(text, { target });
  } catch (err) {
    if (err instanceof CsvError) throw new InputError(`${path}: ${err.message}`);
    throw err;
  }
}

function encodeOrExplain(csv: NumericCsv, classes: string[], path: string, target: string): Int32Array {
  try {
    return encodeLabels(csv.yRaw, classes).y;
  } catch (err) {
    if (!(err instanceof UnknownLabelError)) throw err;
    throw new InputError(`${path}: line ${csv.lines[err.row]}, column "${target}": label "${err.label}" does not occur in the training file`);
  }
}

function accuracy(proba: Float64Array, y: Int32Array, nClasses: number): number {
  const predicted = argmaxRows(proba, nClasses);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return y.length === 0 ? 0 : correct / y.length;
}

function synth(args: string[]): void {
  const values = parse(args, ['rows', 'features', 'informative', 'seed', 'classes', 'redundant', 'out-train', 'out-test']);
  const rows = integer(values, 'rows');
  const seed = integer(values, 'seed');
  const nClasses = values.classes === undefined ? 3 : integer(values, 'classes');
  const outTrain = required(values, 'out-train');
  const outTest = required(values, 'out-test');
  const nFeatures = integer(values, 'features');
  const nInformative = integer(values, 'informative');
  // scikit-learn's default of 2 redundant features, when there is room for them.
  const nRedundant = values.redundant === undefined ? Math.max(0, Math.min(2, nFeatures - nInformative)) : integer(values, 'redundant');
  let data;
  try {
    data = makeClassification({ nSamples: rows, nFeatures, nInformative, nRedundant, nClasses, seed });
  } catch (err) {
    if (err instanceof RangeError) throw new InputError(err.message);
    throw err;
  }
  // seed + 1: a stream of its own, not a replay of the generator's.
  const { train, holdout: test } = stratifiedSplit(Array.from(data.y), 0.2, seed + 1);
  writeCsv(outTrain, data.x, data.y, train);
  writeCsv(outTest, data.x, data.y, test);
  console.log(JSON.stringify({ train_rows: train.length, test_rows: test.length, features: data.x.cols, classes: nClasses, seed }));
}

/** Writes the chosen rows as CSV (columns x0.., then label), nine significant digits per value. */
function writeCsv(path: string, x: FeatureMatrix, y: Int32Array, rows: number[]): void {
  const header = [...Array.from({ length: x.cols }, (_, j) => `x${j}`), 'label'].join(',');
  const fd = openSync(userPath(path), 'w');
  try {
    writeSync(fd, `${header}\n`);
    const chunk: string[] = [];
    const cells: string[] = new Array<string>(x.cols + 1);
    for (const i of rows) {
      for (let j = 0; j < x.cols; j++) cells[j] = String(Number((x.data[i * x.cols + j] as number).toPrecision(9)));
      cells[x.cols] = String(y[i]);
      chunk.push(cells.join(','));
      if (chunk.length === 10_000) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk.length = 0;
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Parses `--name value` flags, all strings; anything else is an input error. */
function parse(args: string[], names: string[]): Record<string, string | undefined> {
  const options = Object.fromEntries(names.map((name) => [name, { type: 'string' as const }]));
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new InputError(`${(err as Error).message}\n${USAGE}`);
  }
}

function required(values: Record<string, string | undefined>, name: string): string {
  const v = values[name];
  if (v === undefined || v === '') throw new InputError(`missing --${name}\n${USAGE}`);
  return v;
}

function integer(values: Record<string, string | undefined>, name: string): number {
  const raw = required(values, name);
  const v = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(v)) throw new InputError(`--${name} must be an integer, got "${raw}"`);
  return v;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof InputError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    throw err;
  }
});
