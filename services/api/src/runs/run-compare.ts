import { mcnemarExact, pairedOutcomes } from '@ct/core';
import type { Run, RunComparison, RunPair } from './run-schemas';
import { latestMetrics, paramsOf } from './run-view';

/**
 * Runs side by side (MLflow's compare view) and two runs scored row by row on the evaluation
 * rows both were judged on. Pure: the route reads the runs, rows and predictions.
 */

/** Every key of `maps`, sorted, with each run's value (null when absent) and whether they differ. */
function sideBySide<V extends string | number>(maps: readonly Map<string, V>[]): { key: string; values: (V | null)[]; differs: boolean }[] {
  const keys = [...new Set(maps.flatMap((m) => [...m.keys()]))].sort();
  return keys.map((key) => {
    const values = maps.map((m) => (m.has(key) ? (m.get(key) as V) : null));
    // A key one run lacks differs too: MLflow's "show diff only" keeps it.
    return { key, values, differs: values.some((v) => v !== values[0]) };
  });
}

/** Params and latest metrics of `runs` side by side, in the runs' order. */
export function compareSideBySide(runs: readonly Run[]): Pick<RunComparison, 'params' | 'metrics'> {
  return { params: sideBySide(runs.map(paramsOf)), metrics: sideBySide(runs.map(latestMetrics)) };
}

/**
 * The segments in both lists, in the order of the first, each once. Segments are named by the
 * hash of their rows, so a common hash is the very same rows.
 */
export function commonSegments(first: readonly string[], second: readonly string[]): string[] {
  const other = new Set(second);
  return [...new Set(first)].filter((h) => other.has(h));
}

/** The two runs of a pair, as scored. */
export interface PairInput {
  first: { run_id: string; version: string };
  second: { run_id: string; version: string };
  segments: { hash: string; rows: number }[];
  /** Labels of the common rows, and each run's predictions of them, aligned. */
  y: ArrayLike<number>;
  firstPred: ArrayLike<number>;
  secondPred: ArrayLike<number>;
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Accuracies, the 2x2 table of outcomes and McNemar's exact test of the second run against the first. */
export function scorePair(p: PairInput): RunPair {
  const o = pairedOutcomes(p.y, p.firstPred, p.secondPred);
  const test = mcnemarExact(o.only_champion_correct, o.only_challenger_correct);
  const n = p.y.length;
  const firstCorrect = o.both_correct + o.only_champion_correct;
  const secondCorrect = o.both_correct + o.only_challenger_correct;
  return {
    run_ids: [p.first.run_id, p.second.run_id],
    common_segments: p.segments,
    n,
    first: { ...p.first, correct: firstCorrect, accuracy: n > 0 ? round6(firstCorrect / n) : null },
    second: { ...p.second, correct: secondCorrect, accuracy: n > 0 ? round6(secondCorrect / n) : null },
    outcomes: {
      both_correct: o.both_correct,
      only_first_correct: o.only_champion_correct,
      only_second_correct: o.only_challenger_correct,
      both_wrong: o.both_wrong,
    },
    mcnemar: { p_value: test.p_value, p_second_better: test.p_challenger_better, p_second_worse: test.p_challenger_worse },
  };
}
