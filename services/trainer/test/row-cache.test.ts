import { concatSets, emptySet, setHash, type LabeledSet } from '@ct/core';
import { RowCache } from '../src/row-cache';
import { runStep } from '../src/run-step';
import type { StepOutcome, StepTask } from '../src/step-task';
import { IRIS, irisRows } from './helpers';

// The fit thread's rows across jobs: what it joins from the segments it keeps must be what
// joining every segment afresh gives, and a job run on kept rows must come out as one run on
// rows sent whole.

const segment = (seed: number, n: number): [string, LabeledSet] => {
  const rows = irisRows(seed, n);
  return [setHash(rows), rows];
};

const joined = (sets: LabeledSet[]): LabeledSet => sets.reduce((a, s) => concatSets(a, s), emptySet());

test('joins are the segments one after another, built on earlier joins or not', () => {
  const segs = [1, 2, 3, 4, 5].map((s) => segment(s, s * 3));
  const cache = new RowCache();
  for (const [h, rows] of segs) cache.hold(h, rows);
  const hashes = segs.map(([h]) => h);
  const rowsOf = (n: number[]) => joined(n.map((i) => (segs[i] as [string, LabeledSet])[1]));
  expect(cache.join(hashes.slice(0, 2)).set).toEqual(rowsOf([0, 1]));
  // Extends the kept join, then is found whole.
  expect(cache.join(hashes.slice(0, 4)).set).toEqual(rowsOf([0, 1, 2, 3]));
  expect(cache.join(hashes.slice(0, 4)).set).toEqual(rowsOf([0, 1, 2, 3]));
  // A shorter list, another order, one segment, none: nothing kept is taken for them.
  expect(cache.join(hashes.slice(0, 3)).set).toEqual(rowsOf([0, 1, 2]));
  expect(cache.join([hashes[4], hashes[0]] as string[]).set).toEqual(rowsOf([4, 0]));
  expect(cache.join([hashes[2]] as string[]).set).toEqual(rowsOf([2]));
  expect(cache.join([]).set).toEqual(emptySet());
  // Many more joins than are kept: still right.
  for (let i = 0; i < 20; i++) expect(cache.join([hashes[i % 5], hashes[(i + 1) % 5]] as string[]).set).toEqual(rowsOf([i % 5, (i + 1) % 5]));
  // A join's digest is the hash of its rows, extended or computed afresh.
  const j = cache.join(hashes);
  expect(cache.digestOf(j).hex()).toBe(setHash(rowsOf([0, 1, 2, 3, 4])));
  expect(() => cache.join([...hashes, 'f'.repeat(64)])).toThrow(/never sent/);
});

test('a chain of jobs on kept rows comes out as the same jobs on rows sent whole', () => {
  const boot = runStep({ kind: 'bootstrap', spec: IRIS, algorithm: IRIS.algorithm, hyperparameters: IRIS.hyperparameters, data: joined([irisRows(100, 60), irisRows(101, 60)]) }, new RowCache());
  const all = new Map<string, LabeledSet>();
  const put = (rows: LabeledSet) => {
    all.set(setHash(rows), rows);
    return setHash(rows);
  };
  let training = [put(boot.batchTrain)];
  const trusted = put(boot.batchHoldout);
  let growing: string[] = [];
  let champion: Extract<StepTask, { kind: 'train' }>['champion'] = { algorithm: IRIS.algorithm, params: boot.params, preprocessing: boot.preprocessing };
  const kept = new RowCache();
  const sent = new Set<string>();
  const outcomes: StepOutcome[] = [];
  for (let n = 1; n <= 8; n++) {
    const task: StepTask = {
      kind: 'train',
      spec: IRIS,
      algorithm: IRIS.algorithm,
      hyperparameters: IRIS.hyperparameters,
      champion,
      accumulated: { segments: training },
      trusted: { segments: [trusted] },
      growing: { segments: growing },
      // Every third job from scratch: its training set is its batch alone.
      batch: irisRows(200 + n, n % 4 === 0 ? 4 : 10),
      fromScratch: n % 3 === 0,
      policy: { name: 'any_improvement' },
    };
    // As the client does: each segment sent once to the kept cache; all of them to a fresh one.
    for (const h of [...training, trusted, ...growing]) {
      if (!sent.has(h)) kept.hold(h, all.get(h) as LabeledSet);
      sent.add(h);
    }
    const fresh = new RowCache();
    for (const [h, rows] of all) fresh.hold(h, rows);
    // fitMs is a measured time, the one field that differs between runs.
    const outcome = { ...runStep(task, kept), fitMs: 0 };
    expect(outcome).toEqual({ ...runStep(task, fresh), fitMs: 0 });
    const accumulated = task.fromScratch ? emptySet() : joined(training.map((h) => all.get(h) as LabeledSet));
    expect(outcome.dataHash).toBe(setHash(concatSets(accumulated, outcome.batchTrain)));
    expect(outcome.nTraining).toBe(accumulated.y.length + outcome.batchTrain.y.length);
    outcomes.push(outcome);
    if (outcome.decision.activated) {
      training = [...(task.fromScratch ? [] : training), put(outcome.batchTrain)];
      if (outcome.batchHoldout.y.length > 0) growing = [...growing, put(outcome.batchHoldout)];
      champion = { algorithm: IRIS.algorithm, params: outcome.params, preprocessing: outcome.preprocessing };
    }
  }
  // The chain went through activations, small batches (no held-out slice) and the growing rows.
  expect(outcomes.filter((o) => o.decision.activated).length).toBeGreaterThan(2);
  expect(growing.length).toBeGreaterThan(1);
});
