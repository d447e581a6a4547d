import { CsvError, readRecords } from './csv';
import type { LabeledSet, RawValue } from './labeled-set';
import type { ModelSpec } from './model-spec';

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

const isMissing = (cell: string): boolean => {
  const c = cell.trim();
  return c === '' || c === 'NA' || c === 'NaN' || c === 'null';
};

/**
 * Reads a model's CSV (a header line, quoted fields allowed) onto its spec: the feature
 * columns in spec order, labels by class name; `NA` or an empty cell is missing; columns the
 * spec does not name are ignored and reported. Rows without a label, or missing a feature
 * that refuses missing values, are dropped and counted. A value of the wrong type or an
 * unknown level or class is an error naming the line and the column.
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
    if (isMissing(label)) {
      out.droppedNoLabel++;
      continue;
    }
    const y = spec.target.classes.indexOf(label);
    if (y < 0) throw new CsvError(line, spec.target.column, `unknown class "${label}" (classes: ${spec.target.classes.join(', ')})`);
    const row: RawValue[] = [];
    let drop = false;
    let imputed = 0;
    spec.features.forEach((f, k) => {
      const cell = (cells[featureCols[k] as number] as string).trim();
      if (isMissing(cell)) {
        if (f.missing === 'impute') imputed++;
        else drop = true;
        row.push(null);
      } else if (f.type === 'categorical') {
        if (!f.levels.includes(cell)) throw new CsvError(line, f.name, `"${cell}" is not one of ${f.levels.join(', ')}`);
        row.push(cell);
      } else {
        const v = Number(cell);
        if (!Number.isFinite(v) || (f.type === 'integer' && !Number.isInteger(v))) throw new CsvError(line, f.name, `"${cell}" is not ${f.type === 'integer' ? 'an integer' : 'a number'}`);
        row.push(v);
      }
    });
    if (drop) {
      out.droppedMissing++;
      continue;
    }
    out.imputedCells += imputed;
    out.set.x.push(row);
    out.set.y.push(y);
  }
  if (out.set.y.length === 0) throw new CsvError(header.value.line, undefined, 'no usable data rows after the header');
  return out;
}
