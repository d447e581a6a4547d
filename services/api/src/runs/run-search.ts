import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../errors/api-error';
import { filterRuns, indexRun, parseFilter, parseOrderBy, RunQueryError, sortRuns, type Clause, type OrderTerm } from './run-filter';
import type { Run } from './run-schemas';

/**
 * Run search: filter, order and page a model's runs (MLflow's SearchRuns). Pure: the runs come
 * in, a page goes out.
 */

/** A search as the query validated it. */
export interface RunSearch {
  filter?: string | undefined;
  order_by?: string | undefined;
  max_results: number;
  page_token?: string | undefined;
}

/** A page of runs. */
export interface RunSearchPage {
  runs: Run[];
  next_page_token: string | null;
  total: number;
}

/**
 * What a page token holds: the newest run seq when the search began, so that runs appended
 * while paging (the history only grows) do not shift later pages; how many matching runs the
 * earlier pages held; and a fingerprint of the search, so that a token is not replayed on
 * another one.
 */
const tokenSchema = z.strictObject({ s: z.number().int().nonnegative(), o: z.number().int().nonnegative(), q: z.string() });
type PageToken = z.infer<typeof tokenSchema>;

const fingerprint = (model: string, q: RunSearch): string =>
  createHash('sha256')
    .update(JSON.stringify([model, q.filter ?? '', q.order_by ?? '']))
    .digest('hex')
    .slice(0, 16);

/** An opaque token (base64url JSON). */
export const encodeToken = (t: PageToken): string => Buffer.from(JSON.stringify(t)).toString('base64url');

/** A 422 naming the query field at fault, as parseOrThrow's are. */
export function queryError(field: 'filter' | 'order_by' | 'page_token' | 'ids', code: string, message: string): ApiError {
  return new ApiError('validation_failed', `invalid ${field}: ${message}`, [{ field, pointer: `/${field}`, code, message }]);
}

function decodeToken(model: string, q: RunSearch): PageToken | undefined {
  if (q.page_token === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(q.page_token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const token = tokenSchema.safeParse(parsed);
  if (!token.success) throw queryError('page_token', 'invalid_page_token', 'not a page token of this API');
  if (token.data.q !== fingerprint(model, q)) throw queryError('page_token', 'invalid_page_token', 'the token belongs to a search with another filter or order_by');
  return token.data;
}

/** Parses `text` with `parse`, or throws a 422 that names the field and the position. */
function parsed<T>(field: 'filter' | 'order_by', text: string | undefined, parse: (text: string) => T[]): T[] {
  if (text === undefined) return [];
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof RunQueryError) throw queryError(field, 'invalid_syntax', err.message);
    throw err;
  }
}

/** A search checked and parsed: its clauses, its order, where its page starts. */
export interface PreparedSearch {
  clauses: Clause[];
  order: OrderTerm[];
  token: PageToken | undefined;
  fingerprint: string;
  max_results: number;
}

/**
 * Parses a search before any file is read. Throws a 422 for a filter or order_by that does
 * not parse (naming the position), or a token of another search.
 */
export function prepareSearch(model: string, q: RunSearch): PreparedSearch {
  return {
    clauses: parsed('filter', q.filter, parseFilter),
    order: parsed('order_by', q.order_by, parseOrderBy),
    token: decodeToken(model, q),
    fingerprint: fingerprint(model, q),
    max_results: q.max_results,
  };
}

/** The page of `runs` (every run of the model, in any order) that the search asks for. */
export function searchRuns(runs: readonly Run[], s: PreparedSearch): RunSearchPage {
  const snapshot = s.token?.s ?? runs.reduce((m, r) => Math.max(m, r.info.seq), 0);
  const offset = s.token?.o ?? 0;
  const current = runs.filter((r) => r.info.seq <= snapshot).map(indexRun);
  const matching = sortRuns(filterRuns(current, s.clauses), s.order);
  const page = matching.slice(offset, offset + s.max_results);
  const next = offset + page.length;
  return {
    runs: page.map((r) => r.run),
    next_page_token: next < matching.length ? encodeToken({ s: snapshot, o: next, q: s.fingerprint }) : null,
    total: matching.length,
  };
}
