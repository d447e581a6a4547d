/**
 * fast-check arbitraries of malformed HTTP requests for the bad-input suite
 * (bad-input.test.ts). A request is built per endpoint: its path parameters, query, headers
 * and body each drawn from values an outside caller could send by mistake or on purpose.
 * Bodies are JSON *text*, not JSON values, so tokens `JSON.stringify` cannot write (NaN,
 * Infinity, 1e400, -0), `__proto__` and duplicate keys, and huge or deeply nested structures
 * (built as text, cheaply) all reach the server as sent.
 */
import fc from 'fast-check';
import { brotliCompressSync, constants as zlibConstants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { maskTokens, type FuzzRequest, type Tokens } from './harness';

// --- JSON text -------------------------------------------------------------------------------

/** A fragment of JSON text written as is: a token JSON.stringify cannot produce, or prebuilt huge text. */
export class Raw {
  constructor(
    readonly text: string,
    /** Short description for reports (the text may be megabytes). */
    readonly note = text.length > 60 ? `${text.slice(0, 40)}…(${text.length} chars)` : text,
  ) {}
}

/** An object as ordered entries, so `__proto__` and duplicate keys survive into the text. */
export class Obj {
  constructor(readonly entries: ReadonlyArray<readonly [string, Tree]>) {}
}

/** A JSON-ish value the serializer below writes to text. */
export type Tree = null | boolean | number | string | Raw | Obj | Tree[];

/**
 * The JSON text of `t`. Non-finite numbers are written as their JavaScript names (NaN,
 * Infinity): invalid JSON on purpose, which the server must refuse as such.
 */
export function toJsonText(t: Tree): string {
  if (t instanceof Raw) return t.text;
  if (t instanceof Obj) return `{${t.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  if (Array.isArray(t)) return `[${t.map(toJsonText).join(',')}]`;
  if (typeof t === 'number') {
    if (Object.is(t, -0)) return '-0';
    return Number.isFinite(t) ? JSON.stringify(t) : String(t);
  }
  return JSON.stringify(t);
}

/** A plain JSON value (from the API's own documents) as a tree. */
export function fromJson(v: unknown): Tree {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v !== null && typeof v === 'object') return new Obj(Object.entries(v).map(([k, x]) => [k, fromJson(x)] as const));
  return v as Tree;
}

// --- Values ----------------------------------------------------------------------------------

/** Number-like tokens: valid JSON that no double holds exactly (1e400, -0, 2^53+1) and invalid JSON (NaN, 0x1F, .5). */
const RAW_NUMBERS = ['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '1e-400', '-0', '-0.0', '0e0', '1E+2', '9007199254740993', '123456789012345678901234567890', '0x1F', '+1', '.5', '5.', '01', '1_000', '1e', '--1'];

/** Strings that mean something to JavaScript, to a file system, to a parser, or to a font. */
export const SPECIAL_STRINGS = [
  '', ' ', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'NaN', 'Infinity', '-0', '1e400', '5.1', 'null', 'true', '0',
  '\u0000', '\ud800', '\udfff', '\u202e', '\ufeff', '\u200b', 'é', 'e\u0301', 'Ω', '😀', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '中文', 'ﷺ', 'setosa\u0000', 'SETOSA', ' setosa', 'setosa ',
  '../../etc/passwd', '..\\..\\windows', '%2e%2e%2f', '${jndi:ldap://x/a}', '<script>alert(1)</script>', "'; DROP TABLE x;--", 'v1.0-000000', 'iris.bootstrap', 'logistic_regression',
];

/** A long string of one repeated unit: 1-byte, multi-byte, astral, NUL or combining. */
const longString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('a', 'é', '😀', '\u0000', 'e\u0301', ' ', '\\'), fc.oneof(fc.integer({ min: 100, max: 4_000 }), fc.integer({ min: 100_000, max: 1_100_000 })))
  .map(([unit, n]) => unit.repeat(Math.ceil(n / unit.length)));

const weirdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: longString },
);

/** A scalar of the wrong type, out of range, or not representable. */
export const weirdScalar: fc.Arbitrary<Tree> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RAW_NUMBERS).map((s) => new Raw(s)) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, 1, 2, 3, 4.5, 50, 50.0001, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 0.1 + 0.2) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: weirdString },
);

/** Object keys: prototype names, the API's own field names, and odd ones. */
function weirdKey(fieldNames: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'a.b', 'a/b', '$ref') },
    { weight: 3, arbitrary: fc.constantFrom(...fieldNames) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: longString.map((s) => s.slice(0, 50_000)) },
  );
}

const CLOSER: Record<string, string> = { '[': ']', '{"a":': '}', '{"__proto__":': '}', '[{"x":': '}]', '{"constructor":{"prototype":': '}}' };

/** Deep nesting as text: a few levels, thousands, or hundreds of thousands (past the body limit for some openers). */
export const deepNesting: fc.Arbitrary<Tree> = fc
  .tuple(fc.constantFrom(...Object.keys(CLOSER)), fc.oneof(fc.integer({ min: 2, max: 200 }), fc.integer({ min: 1_000, max: 20_000 }), fc.integer({ min: 100_000, max: 600_000 })))
  .map(([open, drawn]) => {
    const close = CLOSER[open] as string;
    // At most about 3 MB of text: past the body limit already, and cheap to build.
    const depth = Math.min(drawn, Math.floor(3_000_000 / (open.length + close.length)));
    return new Raw(`${open.repeat(depth)}1${close.repeat(depth)}`, `${depth} levels of ${open}`);
  });

/** A huge array (of one element, repeated) or a huge object (many keys, or one key many times). */
function hugeThing(element: fc.Arbitrary<Tree>): fc.Arbitrary<Tree> {
  const count = fc.oneof(fc.integer({ min: 1_001, max: 12_000 }), fc.integer({ min: 50_000, max: 400_000 }));
  return fc.oneof(
    fc.tuple(element, count).map(([el, n]) => {
      const text = toJsonText(el);
      const capped = Math.min(n, Math.ceil(3_000_000 / Math.max(1, text.length + 1)));
      return new Raw(`[${new Array<string>(capped).fill(text).join(',')}]`, `array of ${capped} × ${text.length > 40 ? `${text.slice(0, 30)}…` : text}`);
    }),
    fc.tuple(fc.constantFrom('distinct', '__proto__', 'same'), count).map(([kind, drawn]) => {
      const key = (i: number): string => (kind === 'distinct' ? `k${i}` : kind === '__proto__' ? '__proto__' : 'a');
      const n = Math.min(drawn, 200_000); // about 3 MB of text at most
      return new Raw(`{${Array.from({ length: n }, (_, i) => `"${key(i)}":${i}`).join(',')}}`, `object of ${n} keys (${kind})`);
    }),
  );
}

/** Any malformed value: scalars, small nested arrays and objects with odd keys, huge and deep structures. */
export function weirdValue(fieldNames: readonly string[]): fc.Arbitrary<Tree> {
  const { value } = fc.letrec<{ value: Tree; array: Tree[]; object: Obj }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 6, arbitrary: weirdScalar },
      { weight: 2, arbitrary: tie('array') },
      { weight: 2, arbitrary: tie('object') },
      { weight: 1, arbitrary: deepNesting },
      { weight: 1, arbitrary: hugeThing(weirdScalar) },
    ),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.array(fc.tuple(weirdKey(fieldNames), tie('value')), { maxLength: 4 }).map((e) => new Obj(e)),
  }));
  return value;
}

// --- Mutations of a valid body ---------------------------------------------------------------

/** One change to a valid body, at one of its nodes (`node`: an index into them, modulo their number). */
interface Mutation {
  node: number;
  op: 'replace' | 'add' | 'delete' | 'wrap' | 'repeat';
  key: string;
  value: Tree;
  n: number;
}

function children(t: Tree): Tree[] {
  if (t instanceof Obj) return t.entries.map(([, v]) => v);
  if (Array.isArray(t)) return t;
  return [];
}

function withChild(t: Tree, i: number, child: Tree): Tree {
  if (t instanceof Obj) return new Obj(t.entries.map((e, j) => (j === i ? ([e[0], child] as const) : e)));
  if (Array.isArray(t)) return t.map((c, j) => (j === i ? child : c));
  return t;
}

function mutateHere(t: Tree, m: Mutation): Tree {
  switch (m.op) {
    case 'replace':
      return m.value;
    case 'add':
      if (t instanceof Obj) return new Obj([...t.entries, [m.key, m.value]]);
      if (Array.isArray(t)) return [...t, m.value];
      return m.value;
    case 'delete':
      if (t instanceof Obj && t.entries.length > 0) return new Obj(t.entries.filter((_, j) => j !== m.n % t.entries.length));
      if (Array.isArray(t) && t.length > 0) return t.filter((_, j) => j !== m.n % t.length);
      return null;
    case 'wrap':
      return m.n % 2 === 0 ? [t] : new Obj([[m.key, t]]);
    case 'repeat':
      // A valid list made long: past the per-request maximum, or just under it.
      if (Array.isArray(t) && t.length > 0) {
        const text = toJsonText(t[0] as Tree);
        const times = Math.min(m.n, Math.ceil(2_500_000 / (text.length + 1)));
        return new Raw(`[${new Array<string>(times).fill(text).join(',')}]`, `${times} copies of a valid element`);
      }
      if (t instanceof Obj && t.entries.length > 0) {
        const [k, v] = t.entries[m.n % t.entries.length] as readonly [string, Tree];
        return new Obj([...t.entries, [k, m.value], [k, v]]); // duplicate keys: which one wins?
      }
      return m.value;
  }
}

/** The path (child indices from the root) of every node of `t`, the root first. */
function nodePaths(t: Tree, at: readonly number[] = [], out: number[][] = []): number[][] {
  out.push([...at]);
  children(t).forEach((c, i) => nodePaths(c, [...at, i], out));
  return out;
}

function applyAt(t: Tree, path: readonly number[], m: Mutation, depth = 0): Tree {
  if (depth >= path.length) return mutateHere(t, m);
  const i = path[depth] as number;
  return withChild(t, i, applyAt(children(t)[i] as Tree, path, m, depth + 1));
}

/**
 * Applies `m` at one node of `t`, each node as likely as any other: a row of a long list is
 * picked as often as the root, so a value the schema lets through unread (an ignored column
 * of a registration row) gets its share.
 */
function applyMutation(t: Tree, m: Mutation): Tree {
  const paths = nodePaths(t);
  return applyAt(t, paths[m.node % paths.length] as number[], m);
}

/** A valid body with one to three mutations: wrong types, odd keys, removed fields, long lists. */
export function mutated(template: Tree, fieldNames: readonly string[], maxMutations = 3): fc.Arbitrary<Tree> {
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    node: fc.nat(),
    op: fc.constantFrom('replace', 'replace', 'add', 'add', 'delete', 'wrap', 'repeat'),
    key: weirdKey(fieldNames),
    // Deep and huge values more often than among whole bodies: inside a valid body they get
    // past the first checks, where code that walks a value recursively may meet them.
    value: fc.oneof({ weight: 4, arbitrary: weirdValue(fieldNames) }, { weight: 1, arbitrary: deepNesting }, { weight: 1, arbitrary: hugeThing(weirdScalar) }),
    n: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 999, max: 1_002 }), fc.integer({ min: 9_999, max: 10_002 }), fc.integer({ min: 50_000, max: 200_000 })),
  });
  return fc.array(mutation, { minLength: 1, maxLength: maxMutations }).map((ms) => ms.reduce(applyMutation, template));
}

/** Text that is not JSON, or JSON the server should not take: truncated, commented, BOM-prefixed, concatenated. */
function garbageText(templateText: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '', ' ', 'null', 'true', '0', '"x"', '[]', '{}', '{', '}', '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', '{"a":1} x', '/*c*/{}', '{"a":\u00001}', '\ufeff{}', '[1,2',
      '{"a":"\\ud800"}', '{"a":"\\u00"}', '{"a":"\\x41"}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', 'NaN', '\u0000', 'a=1&b=2', '<x/>',
    ),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.nat(templateText.length).map((n) => templateText.slice(0, n)),
    fc.constant(`\ufeff${templateText}`),
    fc.constant(`${templateText}${templateText}`),
  );
}

// --- Body encodings --------------------------------------------------------------------------

/** How the body's text goes on the wire. */
type Encoding =
  | 'plain'
  | 'gzip'
  | 'deflate'
  | 'deflate-raw'
  | 'br'
  | 'gzip-corrupt'
  | 'gzip-truncated'
  | 'claims-gzip'
  | 'gzip-twice'
  | 'unknown'
  | 'utf16'
  | 'latin1'
  | 'bomb';

/** Largest body sent, in bytes: past the 2 MB limit is a 413 whatever follows, so more only costs time. */
const MAX_TEXT = 2_600_000;

/** Prebuilt decompression bombs (built once: compressing hundreds of MB takes a moment). */
let bombs: { label: string; encoding: string; bytes: Buffer }[] | undefined;

/**
 * Bodies of about 64 KB or less that inflate to 64 MiB (32 times the 2 MB limit), and one that
 * inflates to just under the limit: whitespace, then a valid row. Built once, in about two
 * seconds: call this before the stack starts, not while requests are timed.
 */
export function decompressionBombs(validText: string): { label: string; encoding: string; bytes: Buffer }[] {
  if (bombs) return bombs;
  const big = Buffer.alloc(64 * 1024 * 1024, 0x20);
  const underLimit = Buffer.concat([Buffer.alloc(2 * 1024 * 1024 - Buffer.byteLength(validText) - 16, 0x20), Buffer.from(validText)]);
  bombs = [
    { label: 'gzip bomb: 64 MiB of spaces', encoding: 'gzip', bytes: gzipSync(big, { level: 9 }) },
    { label: 'deflate bomb: 64 MiB of spaces', encoding: 'deflate', bytes: deflateSync(big, { level: 9 }) },
    { label: 'brotli bomb: 64 MiB of spaces', encoding: 'br', bytes: brotliCompressSync(big, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } }) },
    { label: 'gzip bomb: 64 MiB of "[[[["', encoding: 'gzip', bytes: gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x5b), { level: 9 }) },
    { label: 'gzip: whitespace to just under the limit, then a valid body', encoding: 'gzip', bytes: gzipSync(underLimit, { level: 9 }) },
  ];
  return bombs;
}

interface Encoded {
  bytes: Buffer;
  contentEncoding?: string;
  /** Charset the body is written in, for the Content-Type (undefined: leave it as drawn). */
  charset?: string;
  note: string;
}

/** `text` as UTF-8, at most MAX_TEXT bytes. */
function capped(text: string): Buffer {
  const b = Buffer.from(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);
  return b.length > MAX_TEXT ? b.subarray(0, MAX_TEXT) : b;
}

function encode(text: string, how: Encoding, pick: number, validText: string): Encoded {
  const plain = capped(text);
  switch (how) {
    case 'plain':
      return { bytes: plain, note: 'plain' };
    case 'gzip':
      return { bytes: gzipSync(plain, { level: 1 }), contentEncoding: pick % 3 === 0 ? 'GZIP' : 'gzip', note: 'gzip' };
    case 'deflate':
      return { bytes: deflateSync(plain, { level: 1 }), contentEncoding: 'deflate', note: 'deflate' };
    case 'deflate-raw':
      // Raw deflate (no zlib header) where `deflate` is declared: a common client mistake.
      return { bytes: deflateRawSync(plain, { level: 1 }), contentEncoding: 'deflate', note: 'raw deflate declared as deflate' };
    case 'br':
      return { bytes: brotliCompressSync(plain, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } }), contentEncoding: 'br', note: 'br' };
    case 'gzip-corrupt': {
      const bytes = gzipSync(plain, { level: 1 });
      for (let i = 10; i < bytes.length; i += 7 + (pick % 13)) bytes[i] = (bytes[i] as number) ^ 0xa5;
      return { bytes, contentEncoding: 'gzip', note: 'corrupt gzip' };
    }
    case 'gzip-truncated': {
      const bytes = gzipSync(plain, { level: 1 });
      return { bytes: bytes.subarray(0, Math.max(1, pick % bytes.length)), contentEncoding: 'gzip', note: 'truncated gzip' };
    }
    case 'claims-gzip':
      return { bytes: plain, contentEncoding: 'gzip', note: 'plain text declared as gzip' };
    case 'gzip-twice':
      return { bytes: gzipSync(gzipSync(plain, { level: 1 }), { level: 1 }), contentEncoding: pick % 2 === 0 ? 'gzip, gzip' : 'gzip', note: 'gzip applied twice' };
    case 'unknown': {
      const names = ['zstd', 'compress', 'x-foo', 'identity, gzip', 'gzip;q=1', '*', 'deflate, br', ''];
      return { bytes: plain, contentEncoding: names[pick % names.length], note: 'odd Content-Encoding' };
    }
    case 'utf16':
      return { bytes: Buffer.from(text.slice(0, MAX_TEXT / 2), 'utf16le'), charset: pick % 2 === 0 ? 'utf-16' : 'utf-16le', note: 'UTF-16' };
    case 'latin1':
      // Latin-1 bytes: invalid UTF-8 wherever the text is not ASCII. Declared either way.
      return { bytes: Buffer.from(text.slice(0, MAX_TEXT), 'latin1'), ...(pick % 2 === 0 ? { charset: 'iso-8859-1' } : {}), note: 'latin1 bytes' };
    case 'bomb': {
      const all = decompressionBombs(validText);
      const b = all[pick % all.length] as (typeof all)[number];
      return { bytes: b.bytes, contentEncoding: b.encoding, note: b.label };
    }
  }
}

const encodingArb: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 30, arbitrary: fc.constant<Encoding>('plain') },
  { weight: 8, arbitrary: fc.constantFrom<Encoding>('gzip', 'deflate', 'deflate-raw', 'br', 'gzip-corrupt', 'gzip-truncated', 'claims-gzip', 'gzip-twice', 'unknown', 'utf16', 'latin1') },
  { weight: 1, arbitrary: fc.constant<Encoding>('bomb') },
);

// --- Headers ---------------------------------------------------------------------------------

/**
 * A header value as the wire carries it: UTF-8 bytes written one per character (Node sends
 * header text as latin1), control characters other than tab dropped (Node's client refuses
 * them), and at most 1,500 characters so the whole head stays under the server's 16 KB
 * header limit (past it, Node's HTTP parser answers 431 before the application sees anything).
 */
export function wireHeaderValue(s: string): string {
  return Buffer.from(s, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, '')
    .slice(0, 1_500);
}

const headerText: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...SPECIAL_STRINGS), fc.string({ unit: 'grapheme', maxLength: 60 }), longString.map((s) => s.slice(0, 1_500)));

const contentTypeArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 14, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;charset="UTF-8"',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json; charset=koi8-r',
      'application/json; charset=nonsense',
      'application/json ; x=1',
      'application/json\t;q=1',
      'application/json; charset=utf-8; charset=utf-16',
      'application/jsonx',
      'application/problem+json',
      'application/merge-patch+json',
      'text/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '*/*',
      '',
    ),
  },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: headerText },
);

function authorizationArb(tokens: Tokens): fc.Arbitrary<string | undefined> {
  const token = tokens.admin;
  return fc.oneof(
    // The admin's token on a good share, so write endpoints are exercised past authentication;
    // the other roles' for 403s; none, or a malformed one, for 401s.
    { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
    { weight: 2, arbitrary: fc.constantFrom(`Bearer ${tokens.trainer}`, `Bearer ${tokens.client}`) },
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        'Bearer',
        'Bearer ',
        `Bearer  ${token}`,
        `bearer ${token}`,
        `BEARER ${token}`,
        `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        `Bearer ${token.toUpperCase()}`,
        `Bearer ${token}, Bearer x`,
        `Token ${token}`,
        token,
        `Bearer ${'a'.repeat(1_400)}`,
        'Bearer null',
        'Bearer undefined',
        'Bearer __proto__',
        'Bearer constructor',
        'Bearer é',
        'Bearer 😀',
        'Digest username="admin"',
        `Bearer ${token}\t`,
        `Bearer ${token}\u0000`,
      ),
    },
    { weight: 1, arbitrary: headerText },
  );
}

const idempotencyKeyArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  // A small pool of keys: replays (same key, same body) and conflicts (same key, other body) happen.
  { weight: 3, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3') },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 3, arbitrary: fc.constantFrom('a'.repeat(200), 'a'.repeat(201), '', ' ', 'é', '😀', 'key with spaces', '__proto__', 'constructor', 'fuzz-key-1, fuzz-key-2', '\t', '../../x', '%00') },
  { weight: 1, arbitrary: headerText },
);

const preferArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'wait=0',
      'wait=1',
      'wait=2',
      'wait=-1',
      'wait=abc',
      'wait=1e3',
      'wait=0x10',
      'wait=1.5',
      'wait=99999999999999999999',
      'wait=60',
      'wait=61',
      'respond-async',
      'respond-async, wait=1',
      'handling=lenient',
      'return=minimal',
      'wait=1;wait=5',
      'wait==1',
      'wait',
      '',
    ),
  },
  { weight: 1, arbitrary: headerText },
);

// --- Paths and queries -----------------------------------------------------------------------

/**
 * A path segment as request-target text: percent-encoded as `encodeURIComponent` does, or
 * only where the request line needs it (bytes outside visible ASCII, `/`, `?`, `#`), keeping
 * `%`, `;`, `,`, `@`, `'` and the like raw. Raw bytes past ASCII are never sent: Node's HTTP
 * parser refuses them with a bare 400 before the application sees the request (the
 * protocol-level cases are tested apart, in bad-input.test.ts).
 */
function rawSegment(s: string, how: number): string {
  if (how % 2 === 0) return encodeURIComponent(s);
  return Buffer.from(s, 'utf8')
    .toString('latin1')
    .replace(/[^\x21-\x7e]|[/?#]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
}

/** Segments that try the router, the decoder and the file layout: traversal, encoded slashes, bad escapes, prototype names. */
const weirdSegment: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2E%2E',
      '.%2e',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      'iris%2F..%2Fpenguins',
      'iris%2fpredict',
      '%2F',
      '%5C',
      '..%5C..',
      '%00',
      'iris%00',
      '%',
      '%zz',
      '%E0%A4%A',
      '%C0%AE%C0%AE',
      '%FF',
      '%u002e',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      'IRIS',
      'iris%20',
      'iris.',
      'iris;x=1',
      'iris,penguins',
      '*',
      '~',
      "'",
      '%22',
      '%3Cx%3E',
      '%F0%9F%98%80',
      'a'.repeat(41),
      'a'.repeat(3_000),
      'registry',
      'train-iris',
    ),
  },
  { weight: 2, arbitrary: fc.tuple(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.nat()).map(([s, how]) => rawSegment(s, how)) },
);

/** What the generator knows about the stack it fuzzes (read from the running API). */
export interface FuzzContext {
  /** The API's tokens (the admin's sent on a good share of the requests). */
  tokens: Tokens;
  /** Models served at the start, the default first. */
  models: readonly string[];
  defaultModel: string;
  /** Each model's active version at the start. */
  versions: Readonly<Record<string, string>>;
  /** Valid bodies per endpoint kind and model (see templatesFor). */
  templates: (kind: BodyKind, model: string) => Tree[];
  /** Field names of the API's bodies (for keys that almost fit). */
  fieldNames: readonly string[];
}

/** What kind of body an endpoint takes, from its path. */
export type BodyKind = 'predict' | 'compare' | 'train' | 'trusted' | 'rollback' | 'register' | 'token' | 'none';

/** An endpoint to fuzz: a method and an OpenAPI path template (`/models/{model}/versions/{version}`). */
export interface Endpoint {
  method: string;
  path: string;
  /** Query parameter names and, when the document lists them, their allowed values. */
  query: { name: string; values: string[] }[];
  body: BodyKind;
  /** Share of the generated requests (resets and archives are kept rare). */
  weight: number;
}

function paramArb(name: string, endpoint: Endpoint, ctx: FuzzContext): fc.Arbitrary<string> {
  const served = fc.constantFrom(...ctx.models);
  if (name === 'model') {
    // An archive of a served model would take it away for the rest of the run: the archive
    // path gets unknown and malformed names only (and the default model, which is a 409).
    const names = endpoint.method === 'DELETE' && endpoint.path === '/models/{model}' ? fc.constant(ctx.defaultModel) : served;
    return fc.oneof({ weight: 6, arbitrary: names }, { weight: 3, arbitrary: weirdSegment }, { weight: 1, arbitrary: fc.constant('no-such-model') });
  }
  if (name === 'version') {
    return fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...Object.values(ctx.versions), 'v1.0-000000', 'v0.0-000000', 'v99999999999999999999.0-abcdef', 'V1.0-ABCDEF') },
      { weight: 2, arbitrary: weirdSegment },
    );
  }
  if (name === 'id') {
    return fc.oneof(
      { weight: 3, arbitrary: fc.tuple(served, fc.constantFrom('bootstrap', 'register-x', 'archive-x', `k${'0'.repeat(32)}`, '00000000-0000-0000-0000-000000000000')).map(([m, t]) => `${m}.${t}`) },
      { weight: 2, arbitrary: weirdSegment },
      { weight: 1, arbitrary: fc.tuple(served, weirdSegment).map(([m, s]) => `${m}.${s}`) },
    );
  }
  return weirdSegment;
}

const weirdQueryValue: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom('NaN', 'Infinity', '1e400', '-0', '-1', '0', '1', '500', '501', '1.5', '', '%20', 'null', 'true', '%', '%zz', '%00', '..%2F..', '%2F', 'iris,penguins', ',,,', 'iris@v1.0-000000', '__proto__', `${'iris,'.repeat(300)}iris`, 'a'.repeat(3_000)),
  },
  { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.nat()).map(([s, how]) => rawSegment(s, how)) },
);

function queryArb(endpoint: Endpoint, ctx: FuzzContext): fc.Arbitrary<string> {
  const known = endpoint.query.map((q) => q.name);
  const name = fc.oneof(
    { weight: 4, arbitrary: known.length > 0 ? fc.constantFrom(...known) : fc.constant('limit') },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '__proto__[polluted]', 'limit[]', 'a[b][c]', 'x', '', 'version', 'models', 'reason') },
  );
  const valid = (n: string): string[] => endpoint.query.find((q) => q.name === n)?.values ?? [];
  const value = (n: string): fc.Arbitrary<string> => {
    const ok = [...valid(n), ...(n === 'version' ? Object.values(ctx.versions) : []), ...(n === 'models' ? ctx.models.map((m) => `${ctx.defaultModel},${m}`) : [])];
    return ok.length > 0 ? fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...ok) }, { weight: 2, arbitrary: weirdQueryValue }) : weirdQueryValue;
  };
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    {
      weight: 3,
      arbitrary: fc.array(name.chain((n) => value(n).map((v) => `${n}=${v}`)), { minLength: 1, maxLength: 4 }).map((pairs) => `?${pairs.join('&')}`),
    },
    { weight: 1, arbitrary: fc.constantFrom('?', '??', '?&&', '?=', '?a', '?%', '?limit=1&limit=2', '?#frag') },
  );
}

/** Small changes to a path that routers and decoders get wrong: trailing or doubled slashes, dot segments, case. */
const pathTwist: fc.Arbitrary<(p: string) => string> = fc.oneof(
  { weight: 8, arbitrary: fc.constant((p: string) => p) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<(p: string) => string>(
      (p) => `${p}/`,
      (p) => `/${p}`,
      (p) => p.replace(/\//g, '//'),
      (p) => p.toUpperCase(),
      (p) => `${p}/.`,
      (p) => `${p}/..`,
      (p) => `/x/..${p}`,
      (p) => `/${p.slice(1).replace(/\//g, '%2F')}`,
      (p) => `${p};x=1`,
      (p) => `${p}%00`,
    ),
  },
);

// --- Requests --------------------------------------------------------------------------------

/** Fills an OpenAPI path template with raw segments. */
function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '');
}

function bodyArb(endpoint: Endpoint, model: string, ctx: FuzzContext): fc.Arbitrary<{ text: string; note: string } | undefined> {
  const templates = endpoint.body === 'none' ? [] : ctx.templates(endpoint.body, model);
  const weird = weirdValue(ctx.fieldNames).map((t) => ({ text: toJsonText(t), note: t instanceof Raw ? `value: ${t.note}` : 'malformed value' }));
  if (templates.length === 0) {
    // A body where none is expected: ignored or refused, never a failure.
    return fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: weird },
      { weight: 1, arbitrary: garbageText('{}').map((text) => ({ text, note: 'garbage' })) },
    );
  }
  const template = fc.constantFrom(...templates);
  return fc.oneof(
    { weight: 6, arbitrary: template.chain((t) => mutated(t, ctx.fieldNames)).map((t) => ({ text: toJsonText(t), note: 'mutated valid body' })) },
    { weight: 2, arbitrary: weird },
    { weight: 2, arbitrary: template.chain((t) => garbageText(toJsonText(t))).map((text) => ({ text, note: 'garbage' })) },
    { weight: 1, arbitrary: template.map((t) => ({ text: toJsonText(t), note: 'valid body' })) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Every malformed request for one endpoint: path parameters, query, headers and body drawn together. */
function requestFor(endpoint: Endpoint, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const names = [...endpoint.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const params = fc.tuple(...names.map((n) => paramArb(n, endpoint, ctx))).map((vals) => Object.fromEntries(names.map((n, i) => [n, vals[i] as string])));
  const method = fc.oneof({ weight: 19, arbitrary: fc.constant(endpoint.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') });
  const extraHeader = fc.option(fc.tuple(fc.constantFrom('x-request-id', 'accept', 'accept-encoding', 'x-forwarded-for', 'origin', 'x-http-method-override', 'cookie', 'x-custom'), headerText), { freq: 4 });
  return params.chain((values) => {
    // The body template follows the model in the path (lab paths serve the default model).
    const model = values.model !== undefined && ctx.models.includes(values.model) ? values.model : ctx.defaultModel;
    return fc
      .record({
        method,
        twist: pathTwist,
        query: queryArb(endpoint, ctx),
        contentType: contentTypeArb,
        authorization: authorizationArb(ctx.tokens),
        idempotencyKey: idempotencyKeyArb,
        prefer: preferArb,
        extra: extraHeader,
        body: bodyArb(endpoint, model, ctx),
        encoding: encodingArb,
        pick: fc.nat(),
        chunked: fc.nat(7).map((n) => n === 0),
      })
      .map((r): FuzzRequest => {
        const path = r.twist(fillPath(endpoint.path, values)) + r.query;
        const headers: Record<string, string> = {};
        const validText = toJsonText(ctx.templates('predict', model)[0] ?? new Obj([]));
        // Most generated bodies carry a Content-Type; a compressed or re-encoded one keeps the
        // drawn type and adds the charset it was written in.
        let bytes: Buffer | undefined;
        let note = 'no body';
        if (r.body) {
          const enc = encode(r.body.text, r.encoding, r.pick, validText);
          bytes = enc.bytes;
          note = `${r.body.note}, ${enc.note}, ${bytes.length} bytes`;
          if (enc.contentEncoding !== undefined) headers['content-encoding'] = wireHeaderValue(enc.contentEncoding);
          if (r.contentType !== undefined) headers['content-type'] = wireHeaderValue(enc.charset && r.contentType === 'application/json' ? `application/json; charset=${enc.charset}` : r.contentType);
        } else if (r.contentType !== undefined && r.pick % 3 === 0) {
          headers['content-type'] = wireHeaderValue(r.contentType);
        }
        if (r.authorization !== undefined) headers.authorization = wireHeaderValue(r.authorization);
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = wireHeaderValue(r.idempotencyKey);
        if (r.prefer !== undefined) headers.prefer = wireHeaderValue(r.prefer);
        if (r.extra) headers[r.extra[0]] = wireHeaderValue(r.extra[1]);
        return makeRequest({ endpoint: `${endpoint.method} ${endpoint.path}`, method: r.method, path: safePath(path), headers, body: bytes, chunked: r.chunked && bytes !== undefined, note, tokens: ctx.tokens, text: r.encoding === 'bomb' ? undefined : r.body?.text });
      });
  });
}

/**
 * A request target Node's parser takes (visible ASCII only: anything else is percent-encoded
 * as UTF-8), at most 6,000 characters (the head stays under its 16 KB limit).
 */
function safePath(p: string): string {
  const clean = p.replace(/[^\x21-\x7e]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''));
  return clean.length > 6_000 ? clean.slice(0, 6_000) : clean;
}

/** Builds a FuzzRequest whose printed form (in fast-check's reports) is short and hides the tokens. */
export function makeRequest(r: Omit<FuzzRequest, 'describe'> & { tokens: Tokens; text?: string | undefined }): FuzzRequest {
  const { tokens, text, ...rest } = r;
  const mask = (s: string): string => maskTokens(s, tokens);
  const describe = (): string => {
    const heads = Object.entries(rest.headers)
      .map(([k, v]) => `${k}: ${mask(v.length > 80 ? `${v.slice(0, 60)}…(${v.length})` : v)}`)
      .join('; ');
    const shown = text === undefined ? '' : ` ${JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text)}`;
    const path = rest.path.length > 200 ? `${rest.path.slice(0, 200)}…(${rest.path.length})` : rest.path;
    return `${rest.method} ${path} [${heads}] (${rest.note}${rest.chunked ? ', chunked' : ''})${shown}`;
  };
  const req: FuzzRequest = { ...rest, describe };
  return Object.assign(req, { [fc.toStringMethod]: describe });
}

/**
 * A well-formed request with one bad value in its body: the admin's token, JSON declared, a
 * served model, a valid body with one mutation. Most random requests stop at the first check
 * (a bad header, an unknown path, a missing token); these get past them all to the body's
 * validation and, when the mutation is harmless, to the handler and the queue.
 */
function focusedRequestFor(endpoint: Endpoint, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const names = [...endpoint.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  return fc.constantFrom(...ctx.models).chain((model) => {
    const values = Object.fromEntries(names.map((n) => [n, n === 'model' ? model : n === 'version' ? (ctx.versions[model] ?? '') : `${model}.bootstrap`]));
    return fc
      .constantFrom(...ctx.templates(endpoint.body, model))
      .chain((t) => mutated(t, ctx.fieldNames, 1))
      .map((t) => {
        const text = toJsonText(t);
        const headers = { authorization: `Bearer ${ctx.tokens.admin}`, 'content-type': 'application/json' };
        return makeRequest({ endpoint: `${endpoint.method} ${endpoint.path}`, method: endpoint.method, path: fillPath(endpoint.path, values), headers, body: capped(text), chunked: false, note: 'valid request, one bad value in the body', tokens: ctx.tokens, text });
      });
  });
}

/**
 * One malformed request to any endpoint, endpoints weighted: mostly anything goes (every part
 * of the request drawn), and for a third, a well-formed request with one bad value in its body.
 */
export function anyRequest(endpoints: readonly Endpoint[], ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const withBody = endpoints.filter((e) => e.body !== 'none' && ctx.templates(e.body, ctx.defaultModel).length > 0);
  const total = endpoints.reduce((n, e) => n + e.weight, 0);
  const bodyTotal = withBody.reduce((n, e) => n + e.weight, 0);
  return fc.oneof(
    ...endpoints.map((e) => ({ weight: e.weight * bodyTotal * 2, arbitrary: requestFor(e, ctx) })),
    ...withBody.map((e) => ({ weight: e.weight * total, arbitrary: focusedRequestFor(e, ctx) })),
  );
}
