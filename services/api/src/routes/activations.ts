import type { Request, Response } from 'express';
import type { AppDeps, ModelContext } from '../app-deps';
import { readEntries } from '../model-history';
import { activationsQuerySchema } from '../registry-schemas';
import { activationTimeline, pageOf } from '../registry-views';
import { parseOrThrow } from '../validate';

/**
 * `GET /models/:model/activations`: which version was live from when to when, and why
 * (bootstrap, the gate, a reset, a rollback), newest first, paged like the history (the
 * cursor is the sequence number of the entry that started a period).
 */
export function activationsHandler(deps: AppDeps, resolve: (req: Request) => ModelContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const { spec } = resolve(req);
    const q = parseOrThrow(activationsQuerySchema, req.query, 'query');
    const page = pageOf(activationTimeline(await readEntries(deps, spec)), (p) => p.seq, q);
    res.json({ model: spec.name, activations: page.items, limit: page.limit, next_cursor: page.next_cursor, total: page.total });
  };
}
