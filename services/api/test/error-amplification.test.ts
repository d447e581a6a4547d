/**
 * An error answer stays small whatever the request holds: the first problems are listed and
 * the rest counted, echoed key names are cut. Once, 180,000 unknown keys in a 2 MB body got a
 * 20 MB answer after a second (with every other request stalled meanwhile), and a 2 MB key
 * name came back in an 8 MB one. The predict lane and the Express routes share the helpers,
 * so both are checked. Real API, real Redis (unique prefix), model bootstrapped by a real
 * Trainer.
 */
import { clipName, MAX_ECHOED_NAME } from '../src/errors/zod-issues';
import { MAX_LISTED_ERRORS } from '../src/validate';
import { SETOSA, startStack, type ApiHandle, type HttpResponse, type Stack } from './helpers/harness';

let stack: Stack;
let api: ApiHandle;

beforeAll(async () => {
  stack = await startStack();
  api = stack.api;
});

afterAll(async () => stack?.close());

/** A JSON object text with `n` unknown keys next to `base`'s fields (about 12 bytes a key). */
function withUnknownKeys(base: Record<string, unknown>, n: number): string {
  const parts = Object.entries(base).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  for (let i = 0; i < n; i++) parts.push(`"k${i}":0`);
  return `{${parts.join(',')}}`;
}

const MANY = 180_000;
const LONG_KEY = 'x'.repeat(2 * 1024 * 1024 - 200);
const CLIPPED = `${'x'.repeat(MAX_ECHOED_NAME)}…`;

/** The problem is a 422 of at most a few KB that lists MAX_LISTED_ERRORS fields and counts the rest. */
function expectTruncated(r: HttpResponse, total: number): void {
  expect({ status: r.status, head: r.text.slice(0, 300) }).toMatchObject({ status: 422 });
  expect(r.text.length).toBeLessThan(8 * 1024);
  expect(r.body.code).toBe('validation_failed');
  expect(r.body.errors).toHaveLength(MAX_LISTED_ERRORS);
  expect(r.body.errors_truncated).toBe(total - MAX_LISTED_ERRORS);
  expect(r.body.detail).toMatch(new RegExp(`^${total} invalid field\\(s\\) in the body: .* and ${total - MAX_LISTED_ERRORS} more$`));
}

describe('many problems: the first are listed, the rest counted', () => {
  it('POST /predict (the lane) with 180,000 unknown keys in 2 MB', async () => {
    const raw = withUnknownKeys(SETOSA, MANY);
    expect(raw.length).toBeGreaterThan(2_000_000);
    const r = await api.client.post('/predict', { raw });
    expectTruncated(r, MANY);
    expect(r.body.errors[0]).toEqual({ field: 'k0', pointer: '/k0', code: 'unrecognized_key', message: 'unknown field "k0"' });
    expect(r.body.errors[MAX_LISTED_ERRORS - 1].field).toBe(`k${MAX_LISTED_ERRORS - 1}`);
  });

  it('POST /train (Express) with 180,000 unknown keys in 2 MB', async () => {
    const raw = withUnknownKeys({}, MANY);
    const r = await api.client.post('/train', { raw });
    // `samples` is missing too: one more problem, listed first.
    expectTruncated(r, MANY + 1);
    expect(r.body.errors[0]).toMatchObject({ field: 'samples', code: 'invalid_type' });
  });

  it('POST /predict with 1,000 rows of 5 problems each', async () => {
    const bad = { sepal_length: 'a', sepal_width: 'b', petal_length: 'c', petal_width: 'd', e: 1 };
    const r = await api.client.post('/predict', { json: { records: Array.from({ length: 1000 }, () => bad) } });
    expectTruncated(r, 5000);
    expect(r.body.errors.slice(0, 5).map((e: { field: string }) => e.field)).toEqual([
      'records[0].sepal_length',
      'records[0].sepal_width',
      'records[0].petal_length',
      'records[0].petal_width',
      'records[0].e',
    ]);
  });

  it('a few problems are all listed, with no truncation count', async () => {
    const r = await api.client.post('/predict', { json: { ...SETOSA, sepal_length: '5.1', color: 'blue' } });
    expect(r.status).toBe(422);
    expect(r.body.errors).toHaveLength(2);
    expect(r.body).not.toHaveProperty('errors_truncated');
    expect(r.body.detail).toBe('2 invalid field(s) in the body: sepal_length, color');
  });
});

describe('echoed names are cut', () => {
  it.each([
    ['/predict', { ...SETOSA }],
    ['/train', { samples: [] }],
  ])('a 2 MB key name sent to %s comes back as 64 characters and an ellipsis', async (path, base) => {
    const raw = JSON.stringify({ ...base, [LONG_KEY]: 1 });
    const r = await api.client.post(path, { raw });
    expect(r.status).toBe(422);
    expect(r.text.length).toBeLessThan(4 * 1024);
    const error = r.body.errors.find((e: { code: string }) => e.code === 'unrecognized_key');
    expect(error).toEqual({ field: CLIPPED, pointer: `/${CLIPPED}`, code: 'unrecognized_key', message: `unknown field "${CLIPPED}"` });
    expect(r.body.detail).toContain(CLIPPED);
  });

  it('a long key inside a batch row is cut in its path too', async () => {
    const key = 'k/'.repeat(1000);
    const r = await api.client.post('/predict', { json: { records: [SETOSA, { ...SETOSA, [key]: 1 }] } });
    expect(r.status).toBe(422);
    const clipped = clipName(key);
    expect(r.body.errors).toEqual([
      { field: `records[1].${clipped}`, pointer: `/records/1/${clipped.replace(/\//g, '~1')}`, code: 'unrecognized_key', message: `unknown field "${clipped}"` },
    ]);
  });

  it('a long Content-Type is cut in the 415', async () => {
    const r = await api.client.post('/predict', { raw: '{}', contentType: `text/${'y'.repeat(8000)}` });
    expect(r.status).toBe(415);
    expect(r.text.length).toBeLessThan(1024);
  });
});

describe('clipName', () => {
  it('keeps short names, cuts long ones to 64 characters and an ellipsis', () => {
    expect(clipName('sepal_length')).toBe('sepal_length');
    expect(clipName('a'.repeat(MAX_ECHOED_NAME))).toBe('a'.repeat(MAX_ECHOED_NAME));
    expect(clipName('a'.repeat(MAX_ECHOED_NAME + 1))).toBe(`${'a'.repeat(MAX_ECHOED_NAME)}…`);
  });

  it('never splits a surrogate pair', () => {
    const name = `${'a'.repeat(MAX_ECHOED_NAME - 1)}😀tail`;
    const clipped = clipName(name);
    expect(clipped).toBe(`${'a'.repeat(MAX_ECHOED_NAME - 1)}…`);
    // A lone surrogate would not survive a UTF-8 round trip.
    expect(Buffer.from(clipped, 'utf8').toString('utf8')).toBe(clipped);
  });
});
