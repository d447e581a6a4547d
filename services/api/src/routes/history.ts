import type { Request, Response } from 'express';
import type { AppDeps, ModelContext } from '../app-deps';
import { readEntries } from '../model-history';
import { historyQuerySchema } from '../registry-schemas';
import { historyItem, pageOf } from '../registry-views';
import { parseOrThrow } from '../validate';

/**
 * `GET /models/:model/history?limit=&cursor=&status=&source=`: every entry of the history
 * (attempts, resets, rollbacks, changes of the trusted rows), newest first, paged by sequence
 * number: `cursor` continues below the `next_cursor` of the previous page.
 */
export function historyHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const q = parseOrThrow(historyQuerySchema, req.query, 'query');
    const entries = (await readEntries(deps, spec)).filter((e) => (q.status === undefined || e.status === q.status) && (q.source === undefined || e.source === q.source));
    const page = pageOf(entries, (e) => e.seq, q);
    res.json({
      model: spec.name,
      entries: page.items.map((e) => historyItem(spec.name, e)),
      limit: page.limit,
      next_cursor: page.next_cursor,
      total: page.total,
    });
  };
}
