import { CsvError, encodeLabels, parseNumericCsv, UnknownLabelError } from '../src/csv';
import { createRng } from '../src/random';

const IRIS_HEAD = 'sepal_length,sepal_width,petal_length,petal_width,species\n';

/** The error `parseNumericCsv` throws for `text`, checked to be a CsvError. */
function csvError(text: string, target = 'species'): CsvError {
  try {
    parseNumericCsv(text, { target });
  } catch (err) {
    expect(err).toBeInstanceOf(CsvError);
    return err as CsvError;
  }
  throw new Error('expected a CsvError');
}

describe('parseNumericCsv', () => {
  it('reads features, labels and line numbers', () => {
    const csv = parseNumericCsv(`${IRIS_HEAD}5.1,3.5,1.4,0.2,setosa\r\n\n7.0,3.2,4.7,1.4,versicolor\n`, { target: 'species' });
    expect(csv.featureNames).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(csv.x.rows).toBe(2);
    expect(csv.x.cols).toBe(4);
    expect(Array.from(csv.x.data)).toEqual([5.1, 3.5, 1.4, 0.2, 7.0, 3.2, 4.7, 1.4]);
    expect(csv.yRaw).toEqual(['setosa', 'versicolor']);
    expect(Array.from(csv.lines)).toEqual([2, 4]);
  });

  it('takes the target from any column, quotes and a BOM', () => {
    const csv = parseNumericCsv('\uFEFFlabel,"a",b\n"x, y", -1.5e2 ,.5\n2,+3,"4"\n', { target: 'label' });
    expect(csv.featureNames).toEqual(['a', 'b']);
    expect(Array.from(csv.x.data)).toEqual([-150, 0.5, 3, 4]);
    expect(csv.yRaw).toEqual(['x, y', '2']);
  });

  it('counts lines inside multi-line quoted cells', () => {
    const err = csvError('a,species\n1,"two\nlines"\nzz,ok\n');
    expect(err.line).toBe(4);
  });

  it('names line and column of a cell that is not a number', () => {
    const text = `${IRIS_HEAD}${'5.1,3.5,1.4,0.2,setosa\n'.repeat(15)}5.0,3.6,1.4,abc,setosa\n`;
    const err = csvError(text);
    expect(err.message).toBe('line 17, column "petal_width": "abc" is not a number');
    expect(err.line).toBe(17);
    expect(err.column).toBe('petal_width');
  });

  it.each([
    ['NaN', '"NaN" is not a number'],
    ['Infinity', '"Infinity" is not a number'],
    ['-Infinity', '"-Infinity" is not a number'],
    ['1e400', '"1e400" is not a finite number'],
    ['0x1F', '"0x1F" is not a number'],
    ['1.2.3', '"1.2.3" is not a number'],
    ['1e', '"1e" is not a number'],
    ['', 'empty cell'],
    ['  ', 'empty cell'],
  ])('refuses %j in a feature column', (cell, problem) => {
    expect(csvError(`${IRIS_HEAD}1,2,${cell},4,setosa\n`).message).toBe(`line 2, column "petal_length": ${problem}`);
  });

  it('names the first missing column of a short row', () => {
    expect(csvError(`${IRIS_HEAD}1,2,3,4,setosa\n1,2,3\n`).message).toBe(
      'line 3, column "petal_width": missing cell (the row has 3 cells, the header 5)',
    );
  });

  it('names the position of an extra cell', () => {
    expect(csvError(`${IRIS_HEAD}1,2,3,4,setosa,9\n`).message).toBe('line 2, column 6: extra cell "9" (the header has 5 columns)');
  });

  it('explains a missing target column, an empty file, a header alone', () => {
    expect(csvError(IRIS_HEAD, 'label').message).toBe(
      'line 1: no column "label" in the header (columns: sepal_length, sepal_width, petal_length, petal_width, species)',
    );
    expect(csvError('').message).toBe('line 1: empty file: expected a header line');
    expect(csvError('\n \n').message).toBe('line 1: empty file: expected a header line');
    expect(csvError(IRIS_HEAD).message).toBe('line 1: no data rows after the header');
  });

  it('refuses an empty label, duplicate and empty column names, an open quote', () => {
    expect(csvError(`${IRIS_HEAD}1,2,3,4, \n`).message).toBe('line 2, column "species": empty label');
    expect(csvError('a,a,species\n1,2,x\n').message).toBe('line 1, column "a": duplicate column name');
    expect(csvError('a,,species\n1,2,x\n').message).toBe('line 1, column 2: empty column name');
    expect(csvError('a,species\n1,"x\n').message).toBe('line 2, column 2: unterminated quoted cell');
  });

  it('converts numbers exactly as Number() does', () => {
    // The fast path must agree bit for bit with the general one, including 15/16/17-digit
    // mantissas and exponents at the edges of the exact powers of ten.
    const rng = createRng(11);
    const cells: string[] = ['0', '-0', '0.1', '1e22', '1e23', '123456789012345e-22', '9007199254740993', '4.35', '.000001'];
    for (let i = 0; i < 2000; i++) {
      const v = (rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 40 - 20);
      cells.push(v.toPrecision(1 + rng.int(17)), String(v), v.toExponential(rng.int(17)));
    }
    const text = `v,species\n${cells.map((c) => `${c},s`).join('\n')}\n`;
    const csv = parseNumericCsv(text, { target: 'species' });
    const mismatches = cells.filter((c, i) => !Object.is(csv.x.data[i], Number(c)));
    expect(mismatches).toEqual([]);
  });
});

describe('encodeLabels', () => {
  it('maps labels to indices in sorted order', () => {
    expect(encodeLabels(['versicolor', 'setosa', 'virginica', 'setosa'])).toEqual({
      classes: ['setosa', 'versicolor', 'virginica'],
      y: Int32Array.from([1, 0, 2, 0]),
    });
  });

  it('sorts numeric labels by value', () => {
    expect(encodeLabels(['10', '9', '-1', '9']).classes).toEqual(['-1', '9', '10']);
  });

  it('encodes another set with known classes and names an unknown label', () => {
    const { classes } = encodeLabels(['a', 'b']);
    expect(Array.from(encodeLabels(['b', 'b', 'a'], classes).y)).toEqual([1, 1, 0]);
    try {
      encodeLabels(['a', 'c'], classes);
      throw new Error('expected an UnknownLabelError');
    } catch (err) {
      expect(err).toBeInstanceOf(UnknownLabelError);
      expect(err).toMatchObject({ row: 1, label: 'c' });
    }
  });
});
