import type { Run } from './run-schemas';
import { latestMetrics, paramsOf, tagsOf } from './run-view';

/**
 * The subset of MLflow's search syntax that run search accepts, parsed by hand so that an
 * error can name its position (1-based, in characters) and what was expected there:
 *
 *   filter   := clause (AND clause)*                      AND in any case
 *   clause   := ident op value
 *   ident    := (metrics|params|tags|attributes).key     also metric, param(eter)(s), tag, attribute, attr, run
 *   key      := [A-Za-z0-9_.\-/:]+ | `...` | "..."
 *   op       := = | != | <> | < | <= | > | >= | LIKE | ILIKE
 *   value    := number | '...' | "..."
 *   order_by := ident [ASC|DESC] (, ident [ASC|DESC])*
 *
 * As in MLflow, metrics compare with numbers; params and tags are strings, compared with
 * =, !=, LIKE and ILIKE; a run without the key matches no clause on it.
 */

/** A filter or order_by that does not parse: where and why. */
export class RunQueryError extends Error {
  override readonly name = 'RunQueryError';
  constructor(
    readonly position: number,
    readonly reason: string,
  ) {
    super(`at position ${position}: ${reason}`);
  }
}

export type Entity = 'metric' | 'param' | 'tag' | 'attribute';
export type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE';

/** A key of a run: where it lives and its name. */
export interface RunKey {
  entity: Entity;
  key: string;
}

/** One parsed clause. */
export interface Clause extends RunKey {
  op: Op;
  value: number | string;
}

/** One parsed term of an order_by. */
export interface OrderTerm extends RunKey {
  descending: boolean;
}

const ENTITIES: Record<string, Entity> = {
  metrics: 'metric',
  metric: 'metric',
  params: 'param',
  param: 'param',
  parameters: 'param',
  parameter: 'param',
  tags: 'tag',
  tag: 'tag',
  attributes: 'attribute',
  attribute: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

/** The attributes a filter or order_by may name, and how they compare. */
const ATTRIBUTES: Record<string, 'string' | 'number' | 'time'> = {
  run_id: 'string',
  run_name: 'string',
  status: 'string',
  source: 'string',
  version: 'string',
  parent_version: 'string',
  job_id: 'string',
  start_time: 'time',
  end_time: 'time',
  duration_ms: 'number',
};

const STRING_OPS: readonly Op[] = ['=', '!=', 'LIKE', 'ILIKE'];
const NUMBER_OPS: readonly Op[] = ['=', '!=', '<', '<=', '>', '>='];

/** A cursor over the text; positions are reported 1-based. */
class Cursor {
  i = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    this.skipSpace();
    return this.i >= this.text.length;
  }

  get position(): number {
    return this.i + 1;
  }

  skipSpace(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i] as string)) this.i++;
  }

  fail(reason: string, at = this.position): never {
    throw new RunQueryError(at, reason);
  }

  /** What stands at the cursor, shortened, for messages. */
  near(): string {
    const rest = this.text.slice(this.i, this.i + 20);
    return rest.length === 0 ? 'the end' : JSON.stringify(rest + (this.text.length > this.i + 20 ? '…' : ''));
  }

  /** Consumes `re` (anchored, sticky) at the cursor, after spaces unless `skipSpace` is false, or returns null. */
  match(re: RegExp, skipSpace = true): string | null {
    if (skipSpace) this.skipSpace();
    const sticky = new RegExp(re.source, `${re.flags.replace('g', '')}y`);
    sticky.lastIndex = this.i;
    const m = sticky.exec(this.text);
    if (!m) return null;
    this.i += m[0].length;
    return m[0];
  }

  /** A quoted string at the cursor (no escapes: use the other quote to include one). */
  quoted(quotes: string): string | null {
    this.skipSpace();
    const q = this.text[this.i];
    if (q === undefined || !quotes.includes(q)) return null;
    const end = this.text.indexOf(q, this.i + 1);
    if (end < 0) this.fail(`unterminated ${q === '`' ? 'backquoted' : 'quoted'} string`);
    const value = this.text.slice(this.i + 1, end);
    this.i = end + 1;
    return value;
  }
}

function parseKey(c: Cursor): RunKey {
  c.skipSpace();
  const at = c.position;
  const prefix = c.match(/[A-Za-z_]+/);
  if (prefix === null) c.fail(`expected metrics.<key>, params.<key>, tags.<key> or attributes.<key>, found ${c.near()}`);
  const entity = ENTITIES[prefix.toLowerCase()];
  // MLflow reads a bare name as an attribute (`status = 'rejected'`); so does this.
  if (entity === undefined || c.text[c.i] !== '.') {
    if (ATTRIBUTES[prefix] !== undefined && c.text[c.i] !== '.') return { entity: 'attribute', key: prefix };
    if (entity === undefined) c.fail(`unknown entity "${prefix}": use metrics, params, tags or attributes`, at);
    c.fail(`expected "." after ${prefix}`);
  }
  c.i++; // the dot
  const keyAt = c.position;
  // Right after the dot: `metrics. accuracy` is no key.
  const key = c.text[c.i] === '`' || c.text[c.i] === '"' ? c.quoted('`"') : c.match(/[A-Za-z0-9_.\-/:]+/, false);
  if (key === null || key === '') c.fail(`expected a key after ${prefix}.`, keyAt);
  if (entity === 'attribute' && ATTRIBUTES[key] === undefined) {
    c.fail(`unknown attribute "${key}": one of ${Object.keys(ATTRIBUTES).join(', ')}`, keyAt);
  }
  return { entity, key };
}

function parseOp(c: Cursor): Op {
  const op = c.match(/<=|>=|!=|<>|==|=|<|>|ilike\b|like\b/i);
  if (op === null) c.fail(`expected a comparison (= != < <= > >= LIKE ILIKE), found ${c.near()}`);
  const upper = op.toUpperCase();
  return upper === '<>' ? '!=' : upper === '==' ? '=' : (upper as Op);
}

function parseValue(c: Cursor): number | string {
  c.skipSpace();
  const quoted = c.quoted(`'"`);
  if (quoted !== null) return quoted;
  const number = c.match(/[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?(?![\w.])/);
  if (number !== null) return Number(number);
  return c.fail(`expected a number or a quoted string, found ${c.near()}`);
}

/** Checks that `op` and the value's type fit the key, as MLflow does; returns the value to compare with. */
function typed(c: Cursor, key: RunKey, op: Op, value: number | string, opAt: number, valueAt: number): number | string {
  const name = `${key.entity === 'attribute' ? 'attributes' : `${key.entity}s`}.${key.key}`;
  const kind = key.entity === 'metric' ? 'number' : key.entity === 'attribute' ? (ATTRIBUTES[key.key] as string) : 'string';
  if (kind === 'string') {
    if (!STRING_OPS.includes(op)) c.fail(`${name} is a string: compare it with =, !=, LIKE or ILIKE`, opAt);
    if (typeof value !== 'string') c.fail(`${name} is a string: put the value in quotes`, valueAt);
    return value;
  }
  if (!NUMBER_OPS.includes(op)) c.fail(`${name} is a number: compare it with = != < <= > >=`, opAt);
  if (typeof value === 'number') return value;
  // A time may also be given as an ISO date ('2026-01-31T12:00:00Z').
  if (kind === 'time') {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
    c.fail(`${name} takes ms since the epoch or an ISO date, not ${JSON.stringify(value)}`, valueAt);
  }
  return c.fail(`${name} is a number: give it without quotes`, valueAt);
}

/** Parses a filter; an empty one matches every run. Throws RunQueryError. */
export function parseFilter(text: string): Clause[] {
  const c = new Cursor(text);
  const clauses: Clause[] = [];
  if (c.done) return clauses;
  for (;;) {
    const key = parseKey(c);
    c.skipSpace();
    const opAt = c.position;
    const op = parseOp(c);
    c.skipSpace();
    const valueAt = c.position;
    const value = parseValue(c);
    clauses.push({ ...key, op, value: typed(c, key, op, value, opAt, valueAt) });
    if (c.done) return clauses;
    const at = c.position;
    const joiner = c.match(/[A-Za-z]+/);
    if (joiner?.toUpperCase() === 'AND') continue;
    if (joiner?.toUpperCase() === 'OR') c.fail('OR is not supported: clauses are joined by AND', at);
    c.fail(`expected AND or the end of the filter, found ${joiner === null ? c.near() : JSON.stringify(joiner)}`, at);
  }
}

/** Parses an order_by; empty: none (the default order applies). Throws RunQueryError. */
export function parseOrderBy(text: string): OrderTerm[] {
  const c = new Cursor(text);
  const terms: OrderTerm[] = [];
  if (c.done) return terms;
  for (;;) {
    const key = parseKey(c);
    const dir = c.match(/(asc|desc)\b/i);
    terms.push({ ...key, descending: dir?.toUpperCase() === 'DESC' });
    if (c.done) return terms;
    if (c.match(/,/) === null) c.fail(`expected ASC, DESC, "," or the end of order_by, found ${c.near()}`);
  }
}

/** A run with its keys looked up once (latest metric values, params, tags). */
export interface IndexedRun {
  run: Run;
  metrics: Map<string, number>;
  params: Map<string, string>;
  tags: Map<string, string>;
}

/** Indexes a run for filtering and ordering. */
export function indexRun(run: Run): IndexedRun {
  return { run, metrics: latestMetrics(run), params: paramsOf(run), tags: tagsOf(run) };
}

/** The value of `key` in `r`, or undefined when the run has none. */
export function valueOf(r: IndexedRun, key: RunKey): number | string | undefined {
  switch (key.entity) {
    case 'metric':
      return r.metrics.get(key.key);
    case 'param':
      return r.params.get(key.key);
    case 'tag':
      return r.tags.get(key.key);
    case 'attribute': {
      const info = r.run.info;
      if (key.key === 'run_name') return info.run_name;
      const v = (info as unknown as Record<string, unknown>)[key.key];
      return typeof v === 'number' || typeof v === 'string' ? v : undefined;
    }
  }
}

/** SQL LIKE as a regular expression: % any run of characters, _ any one. */
export function likePattern(pattern: string, caseInsensitive: boolean): RegExp {
  const body = [...pattern].map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

/** Whether the run satisfies one clause. */
function holds(r: IndexedRun, c: Clause, like: Map<Clause, RegExp>): boolean {
  const v = valueOf(r, c);
  if (v === undefined) return false;
  switch (c.op) {
    case '=':
      return v === c.value;
    case '!=':
      return v !== c.value;
    case '<':
      return v < c.value;
    case '<=':
      return v <= c.value;
    case '>':
      return v > c.value;
    case '>=':
      return v >= c.value;
    case 'LIKE':
    case 'ILIKE':
      return typeof v === 'string' && (like.get(c) as RegExp).test(v);
  }
}

/** The runs that satisfy every clause, in their order. */
export function filterRuns(runs: readonly IndexedRun[], clauses: readonly Clause[]): IndexedRun[] {
  const like = new Map(clauses.filter((c) => c.op === 'LIKE' || c.op === 'ILIKE').map((c) => [c, likePattern(String(c.value), c.op === 'ILIKE')]));
  return runs.filter((r) => clauses.every((c) => holds(r, c, like)));
}

/** The order when none is asked for, and the tie-breakers of every order: newest first. */
export const DEFAULT_ORDER: readonly OrderTerm[] = [{ entity: 'attribute', key: 'start_time', descending: true }];

/**
 * Sorts by `terms`, then newest first, then by seq (a total order, so pages never overlap).
 * As in MLflow, a run without a term's key comes after those with it, whichever the direction.
 */
export function sortRuns(runs: readonly IndexedRun[], terms: readonly OrderTerm[]): IndexedRun[] {
  const all = [...terms, ...DEFAULT_ORDER];
  return [...runs].sort((a, b) => {
    for (const t of all) {
      const va = valueOf(a, t);
      const vb = valueOf(b, t);
      if (va === vb) continue;
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      const cmp = va < vb ? -1 : va > vb ? 1 : 0;
      if (cmp !== 0) return t.descending ? -cmp : cmp;
    }
    return b.run.info.seq - a.run.info.seq;
  });
}
