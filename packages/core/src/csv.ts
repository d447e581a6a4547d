import type { FeatureMatrix } from './matrix';

/** A malformed CSV: says where, so a user can fix the file without guessing. */
export class CsvError extends Error {
  /** 1-based line in the file. */
  readonly line: number;
  /** Column the problem is in, when there is one: its header name, or its 1-based position. */
  readonly column: string | number | undefined;

  constructor(line: number, column: string | number | undefined, problem: string) {
    const where = column === undefined ? '' : `, column ${typeof column === 'string' ? quote(column) : column}`;
    super(`line ${line}${where}: ${problem}`);
    this.name = 'CsvError';
    this.line = line;
    this.column = column;
  }
}

/** Options of {@link parseNumericCsv}. */
export interface NumericCsvOptions {
  /** Header name of the label column; every other column must be numeric. */
  target: string;
}

/** A numeric table read by {@link parseNumericCsv}. */
export interface NumericCsv {
  /** Feature column names, in file order, without the target. */
  featureNames: string[];
  x: FeatureMatrix;
  /** Label per row, as written (trimmed). */
  yRaw: string[];
  /** 1-based file line of each row, so later checks can point into the file too. */
  lines: Int32Array;
}

/**
 * Parses a CSV with a header line into a feature matrix and raw labels. Commas separate
 * cells; double quotes (RFC 4180, `""` for a quote) are honoured; CRLF, a UTF-8 BOM and blank
 * lines are tolerated. Feature cells must be finite decimal numbers.
 *
 * @throws CsvError naming the line and column of the first problem.
 */
export function parseNumericCsv(text: string, options: NumericCsvOptions): NumericCsv {
  const records = readRecords(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const header = records.next();
  if (header.done) throw new CsvError(1, undefined, 'empty file: expected a header line');
  const names = header.value.cells.map((c) => c.trim());
  const seen = new Set<string>();
  names.forEach((name, j) => {
    if (name === '') throw new CsvError(header.value.line, j + 1, 'empty column name');
    if (seen.has(name)) throw new CsvError(header.value.line, name, 'duplicate column name');
    seen.add(name);
  });
  const targetIndex = names.indexOf(options.target);
  if (targetIndex < 0) {
    throw new CsvError(header.value.line, undefined, `no column ${quote(options.target)} in the header (columns: ${names.join(', ')})`);
  }
  const width = names.length;
  const nFeatures = width - 1;
  const featureNames = names.filter((_, j) => j !== targetIndex);

  let data = new Float64Array(1024 * Math.max(1, nFeatures));
  const yRaw: string[] = [];
  const lineOf: number[] = [];
  let rows = 0;
  for (const { cells, line } of records) {
    if (cells.length < width) {
      throw new CsvError(line, names[cells.length], `missing cell (the row has ${cells.length} cells, the header ${width})`);
    }
    if (cells.length > width) {
      throw new CsvError(line, width + 1, `extra cell ${quote(cells[width] as string)} (the header has ${width} columns)`);
    }
    if ((rows + 1) * nFeatures > data.length) {
      const grown = new Float64Array(data.length * 2);
      grown.set(data);
      data = grown;
    }
    let out = rows * nFeatures;
    for (let j = 0; j < width; j++) {
      const cell = cells[j] as string;
      if (j === targetIndex) {
        const label = cell.trim();
        if (label === '') throw new CsvError(line, names[j], 'empty label');
        yRaw.push(label);
        continue;
      }
      const value = parseDecimal(cell);
      if (!Number.isFinite(value)) {
        const shown = cell.trim();
        const problem =
          shown === ''
            ? 'empty cell'
            : Number.isNaN(value)
              ? `${quote(shown)} is not a number`
              : `${quote(shown)} is not a finite number`;
        throw new CsvError(line, names[j], problem);
      }
      data[out++] = value;
    }
    lineOf.push(line);
    rows++;
  }
  if (rows === 0) throw new CsvError(header.value.line, undefined, 'no data rows after the header');
  return {
    featureNames,
    x: { rows, cols: nFeatures, data: data.slice(0, rows * nFeatures) },
    yRaw,
    lines: Int32Array.from(lineOf),
  };
}

/** Labels mapped to class indices; `classes[y[i]]` is row i's label. */
export interface EncodedLabels {
  classes: string[];
  y: Int32Array;
}

/** A label outside the known classes (e.g. a test row whose class the training set lacks). */
export class UnknownLabelError extends RangeError {
  /** 0-based row index. */
  readonly row: number;
  readonly label: string;

  constructor(row: number, label: string, classes: readonly string[]) {
    super(`label ${quote(label)} (row ${row + 1}) is not one of the classes ${classes.map(quote).join(', ')}`);
    this.name = 'UnknownLabelError';
    this.row = row;
    this.label = label;
  }
}

/**
 * Maps labels to class indices. Without `classes`, the classes are the distinct labels in
 * sorted order: numerically when every label is a number (so "10" follows "9"), otherwise by
 * code unit, which does not depend on the locale. Pass the training set's `classes` to encode
 * another set consistently.
 *
 * @throws UnknownLabelError when `classes` is given and a label is not among them.
 */
export function encodeLabels(yRaw: readonly string[], classes?: readonly string[]): EncodedLabels {
  const list = classes ? [...classes] : sortedDistinct(yRaw);
  const index = new Map(list.map((c, k) => [c, k]));
  const y = new Int32Array(yRaw.length);
  yRaw.forEach((label, i) => {
    const k = index.get(label);
    if (k === undefined) throw new UnknownLabelError(i, label, list);
    y[i] = k;
  });
  return { classes: list, y };
}

function sortedDistinct(labels: readonly string[]): string[] {
  const distinct = [...new Set(labels)];
  const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  if (distinct.every((l) => Number.isFinite(parseDecimal(l)))) {
    return distinct.sort((a, b) => parseDecimal(a) - parseDecimal(b) || byCodeUnit(a, b));
  }
  return distinct.sort(byCodeUnit);
}

/** Exact powers of ten: every one up to 1e22 is a double without rounding. */
const POW10 = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * A decimal number such as `-1.5`, `.5` or `2e-3`, surrounding blanks allowed; NaN for
 * anything else. Stricter than `Number()`, which would take `""`, `0x1F`, `Infinity`.
 * Overflow such as `1e400` comes back as ±Infinity so callers can say why it is refused.
 *
 * Numbers of at most 15 significant digits and a small exponent are converted as
 * `digits * 10^e` or `digits / 10^-e`: both operands are exact doubles, so the one rounding
 * gives the same correctly rounded result as `Number()` (Clinger's fast path), several
 * times faster. Others go through `Number()`.
 */
function parseDecimal(cell: string): number {
  let i = 0;
  let n = cell.length;
  while (i < n && isBlank(cell.charCodeAt(i))) i++;
  while (n > i && isBlank(cell.charCodeAt(n - 1))) n--;
  const begin = i;
  let negative = false;
  let c = cell.charCodeAt(i);
  if (c === 43 || c === 45) {
    negative = c === 45;
    c = cell.charCodeAt(++i);
  }
  let digits = 0;
  let significant = 0;
  let mantissa = 0;
  let scale = 0;
  while (c >= 48 && c <= 57) {
    digits++;
    if (significant > 0 || c !== 48) significant++;
    mantissa = mantissa * 10 + (c - 48);
    c = cell.charCodeAt(++i);
  }
  if (c === 46) {
    c = cell.charCodeAt(++i);
    while (c >= 48 && c <= 57) {
      digits++;
      if (significant > 0 || c !== 48) significant++;
      mantissa = mantissa * 10 + (c - 48);
      scale--;
      c = cell.charCodeAt(++i);
    }
  }
  if (digits === 0) return Number.NaN;
  if (c === 101 || c === 69) {
    c = cell.charCodeAt(++i);
    let expNegative = false;
    if (c === 43 || c === 45) {
      expNegative = c === 45;
      c = cell.charCodeAt(++i);
    }
    let expDigits = 0;
    let exponent = 0;
    while (c >= 48 && c <= 57) {
      expDigits++;
      if (exponent < 100_000) exponent = exponent * 10 + (c - 48);
      c = cell.charCodeAt(++i);
    }
    if (expDigits === 0) return Number.NaN;
    scale += expNegative ? -exponent : exponent;
  }
  if (i !== n) return Number.NaN;
  if (significant <= 15 && scale >= -22 && scale <= 22) {
    const magnitude = scale >= 0 ? mantissa * (POW10[scale] as number) : mantissa / (POW10[-scale] as number);
    return negative ? -magnitude : magnitude;
  }
  return Number(cell.slice(begin, n));
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/** One CSV record and the line it starts on. */
/** One CSV record: its cells as written (quotes removed) and its 1-based line. */
export interface CsvRecord {
  cells: string[];
  line: number;
}

/**
 * Yields records, skipping blank lines. Lines without a double quote are split directly,
 * which is the common case for numeric tables and much faster than a per-character scan.
 */
export function* readRecords(text: string): Generator<CsvRecord> {
  let pos = 0;
  let line = 0;
  const n = text.length;
  while (pos < n) {
    line++;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    let raw = text.slice(pos, end);
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (!raw.includes('"')) {
      pos = end + 1;
      if (raw.trim() !== '') yield { cells: raw.split(','), line };
      continue;
    }
    const startLine = line;
    const parsed = readQuotedRecord(text, pos, startLine);
    line += parsed.newlines;
    pos = parsed.next;
    yield { cells: parsed.cells, line: startLine };
  }
}

/** Scans one record that contains quotes, which may span lines; returns where the next one starts. */
function readQuotedRecord(text: string, start: number, line: number): { cells: string[]; next: number; newlines: number } {
  const cells: string[] = [];
  let cell = '';
  let inQuotes = false;
  let newlines = 0;
  let i = start;
  for (; i < text.length; i++) {
    const ch = text[i] as string;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        if (ch === '\n') newlines++;
        cell += ch;
      }
    } else if (ch === '"') {
      if (cell.trim() !== '') throw new CsvError(line + newlines, cells.length + 1, 'quote inside an unquoted cell');
      cell = '';
      inQuotes = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n') {
      break;
    } else if (ch !== '\r') {
      cell += ch;
    }
  }
  if (inQuotes) throw new CsvError(line, cells.length + 1, 'unterminated quoted cell');
  cells.push(cell);
  return { cells, next: i + 1, newlines };
}
