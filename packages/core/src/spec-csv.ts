import { z } from 'zod';
import { CsvError, readRecords } from './csv';
import type { LabeledSet, RawValue } from './labeled-set';
import type { FeatureSpec, ModelSpec } from './model-spec';

/** What {@link readSpecCsv} read, and what it left out or will fill. */
export interface SpecCsv {
  set: LabeledSet;
  /** Rows dropped because their label was missing. */
  droppedNoLabel: number;
  /** Rows dropped because a feature that refuses missing values was missing. */
  droppedMissing: number;
  /** Missing cells of features that impute (filled by the fitted preprocessing). */
  imputedCells: number;
  /** Columns of the file that are not in the spec (ignored). */
  ignoredColumns: string[];
}

/** What reading a model's bootstrap data left out or will fill: a bootstrap's `data_report`. */
export const dataReportSchema = z.strictObject({
  rows: z.number().int().nonnegative(),
  dropped_no_label: z.number().int().nonnegative(),
  dropped_missing: z.number().int().nonnegative(),
  imputed_cells: z.number().int().nonnegative(),
  ignored_columns: z.array(z.string()),
});

/** What reading a model's bootstrap data reports. */
export type DataReport = z.infer<typeof dataReportSchema>;

/** The report of a reading, in the job result's field names. */
export const dataReportOf = (r: SpecCsv): DataReport => ({
  rows: r.set.y.length,
  dropped_no_label: r.droppedNoLabel,
  dropped_missing: r.droppedMissing,
  imputed_cells: r.imputedCells,
  ignored_columns: r.ignoredColumns,
});

const isMissingText = (cell: string): boolean => {
  const c = cell.trim();
  return c === '' || c === 'NA' || c === 'NaN' || c === 'null';
};

/** Why a present value does not fit feature `f` (type, level, bounds), or undefined when it fits. */
function valueProblem(f: FeatureSpec, v: number | string, shown: string): string | undefined {
  if (f.type === 'categorical') return typeof v === 'string' && f.levels.includes(v) ? undefined : `${shown} is not one of ${f.levels.join(', ')}`;
  if (typeof v !== 'number' || !Number.isFinite(v) || (f.type === 'integer' && !Number.isInteger(v))) {
    return `${shown} is not ${f.type === 'integer' ? 'an integer' : 'a number'}`;
  }
  // The bounds requests are held to: data the model could never be asked about is a mistake.
  if (f.minimum !== undefined && v < f.minimum) return `${v} is below the minimum ${f.minimum}`;
  if (f.exclusive_minimum !== undefined && v <= f.exclusive_minimum) return `${v} is not greater than ${f.exclusive_minimum}`;
  if (f.maximum !== undefined && v > f.maximum) return `${v} is above the maximum ${f.maximum}`;
  if (f.exclusive_maximum !== undefined && v >= f.exclusive_maximum) return `${v} is not less than ${f.exclusive_maximum}`;
  return undefined;
}

/**
 * Takes one record onto the spec (CSV line or JSON row alike): each feature's value read by
 * `cell` (null for missing; else the value and how to show it in an error), the label by
 * class name. Adds the row to `out`, or counts why it is dropped; calls `fail` (which throws)
 * for a value that does not fit.
 */
function takeRecord(
  spec: ModelSpec,
  label: string | null,
  cell: (f: FeatureSpec, k: number) => readonly [value: number | string, shown: string] | null,
  fail: (column: string, problem: string) => never,
  out: SpecCsv,
): void {
  if (label === null) {
    out.droppedNoLabel++;
    return;
  }
  const y = spec.target.classes.indexOf(label);
  if (y < 0) fail(spec.target.column, `unknown class "${label}" (classes: ${spec.target.classes.join(', ')})`);
  const row: RawValue[] = [];
  let drop = false;
  let imputed = 0;
  spec.features.forEach((f, k) => {
    const c = cell(f, k);
    if (c === null) {
      if (f.missing === 'impute') imputed++;
      else drop = true;
      row.push(null);
      return;
    }
    const problem = valueProblem(f, c[0], c[1]);
    if (problem) fail(f.name, problem);
    row.push(c[0]);
  });
  if (drop) {
    out.droppedMissing++;
    return;
  }
  out.imputedCells += imputed;
  out.set.x.push(row);
  out.set.y.push(y);
}

/**
 * Reads a model's CSV (a header line, quoted fields allowed) onto its spec: the feature
 * columns in spec order, labels by class name; `NA` or an empty cell is missing; columns the
 * spec does not name are ignored and reported. Rows without a label, or missing a feature
 * that refuses missing values, are dropped and counted. A value of the wrong type, an unknown
 * level or class, or a number outside the feature's bounds is an error naming the line and
 * the column.
 */
export function readSpecCsv(text: string, spec: ModelSpec): SpecCsv {
  const records = readRecords(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const header = records.next();
  if (header.done) throw new CsvError(1, undefined, 'empty file: expected a header line');
  const names = header.value.cells.map((c) => c.trim());
  const index = (name: string): number => {
    const j = names.indexOf(name);
    if (j < 0) throw new CsvError(header.value.line, undefined, `no column "${name}" in the header (columns: ${names.join(', ')})`);
    return j;
  };
  const featureCols = spec.features.map((f) => index(f.name));
  const targetCol = index(spec.target.column);
  const used = new Set([...featureCols, targetCol]);
  const out: SpecCsv = { set: { x: [], y: [] }, droppedNoLabel: 0, droppedMissing: 0, imputedCells: 0, ignoredColumns: names.filter((_, j) => !used.has(j)) };
  for (const { cells, line } of records) {
    if (cells.length !== names.length) throw new CsvError(line, undefined, `${cells.length} cells, the header has ${names.length}`);
    const label = (cells[targetCol] as string).trim();
    takeRecord(
      spec,
      isMissingText(label) ? null : label,
      (f, k) => {
        const text = (cells[featureCols[k] as number] as string).trim();
        if (isMissingText(text)) return null;
        return [f.type === 'categorical' ? text : Number(text), `"${text}"`];
      },
      (column, problem) => {
        throw new CsvError(line, column, problem);
      },
      out,
    );
  }
  if (out.set.y.length === 0) throw new CsvError(header.value.line, undefined, 'no usable data rows after the header');
  return out;
}

/** A JSON row that does not fit a spec: which row (0-based) and which column. */
export class SpecRowError extends Error {
  override readonly name = 'SpecRowError';
  constructor(
    readonly row: number,
    readonly column: string | undefined,
    readonly problem: string,
  ) {
    super(`row ${row}${column === undefined ? '' : `, column "${column}"`}: ${problem}`);
  }
}

/**
 * Reads labeled JSON rows (`{feature: value, ..., <target column>: "<class name>"}`) onto a
 * spec, with {@link readSpecCsv}'s rules: null, an absent key or `"NA"` is missing, rows
 * without a label or missing a feature that refuses missing values are dropped and counted,
 * keys the spec does not name are ignored and reported. Types are JSON's: a number feature
 * takes a number (not "5.1"), a categorical one a level string. Throws SpecRowError.
 */
export function readSpecRows(rows: readonly Readonly<Record<string, unknown>>[], spec: ModelSpec): SpecCsv {
  const known = new Set([...spec.features.map((f) => f.name), spec.target.column]);
  const ignored = new Set<string>();
  const out: SpecCsv = { set: { x: [], y: [] }, droppedNoLabel: 0, droppedMissing: 0, imputedCells: 0, ignoredColumns: [] };
  const missing = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'string' && isMissingText(v));
  rows.forEach((r, i) => {
    for (const key of Object.keys(r)) if (!known.has(key)) ignored.add(key);
    const rawLabel = r[spec.target.column];
    const fail = (column: string, problem: string): never => {
      throw new SpecRowError(i, column, problem);
    };
    const label = missing(rawLabel)
      ? null
      : typeof rawLabel === 'string'
        ? rawLabel.trim()
        : typeof rawLabel === 'number'
          ? String(rawLabel)
          : fail(spec.target.column, `${JSON.stringify(rawLabel)} is not a class name`);
    takeRecord(
      spec,
      label,
      (f) => {
        const v = r[f.name];
        if (missing(v)) return null;
        if (typeof v === 'number' || typeof v === 'string') return [v, JSON.stringify(v)];
        return fail(f.name, `${JSON.stringify(v)} is not ${f.type === 'categorical' ? `one of ${f.levels.join(', ')}` : 'a number'}`);
      },
      fail,
      out,
    );
  });
  out.ignoredColumns = [...ignored];
  if (out.set.y.length === 0) throw new SpecRowError(0, undefined, 'no usable rows');
  return out;
}
