import type { Permission } from '@ct/auth';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Caller } from '../security/caller';
import type { RequestPipeline } from './request-pipeline';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request id (RequestPipeline.begin). */
      id?: string;
      /** Who sent the request, once a route's guard admitted it. */
      caller?: Caller;
      /** The route template, taken while the route runs (a router restores `baseUrl` on the way out, errors included). */
      routeTemplate?: string;
    }
  }
}

/**
 * The pipeline's steps as Express middleware, so the app runs the same code as the predict
 * lane: `begin` first for every request (id and log line), then per route `guard` (auth and
 * rate limit) before `body` (the JSON body), so a refused request is never read.
 */
export function expressSteps(pipeline: RequestPipeline) {
  const begin: RequestHandler = (req, res, next) => {
    const state = pipeline.begin(req, res);
    req.id = state.id;
    let logged = false;
    const done = (): void => {
      if (logged) return;
      logged = true;
      // A connection the client cut before the answer was sent is logged as 499 (nginx's convention).
      pipeline.log(state, req, res.writableFinished ? res.statusCode : 499, req.routeTemplate ?? routeTemplate(req));
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };

  /** Admits the caller for `permission` on the route's model (`:model`, else `defaultModel`). */
  const guard =
    (permission: Permission, defaultModel?: string): RequestHandler =>
    (req: Request, res: Response, next: NextFunction) => {
      req.routeTemplate = routeTemplate(req);
      const model = (req.params as { model?: string }).model ?? defaultModel;
      pipeline.admit(req, permission, model).then(({ caller, headers }) => {
        req.caller = caller;
        res.set(headers);
        next();
      }, next);
    };

  const body: RequestHandler = (req, res, next) => {
    pipeline.readBody(req, res).then((parsed) => {
      req.body = parsed.value;
      next();
    }, next);
  };

  return { begin, guard, body };
}

/**
 * The route template a request matched (`/models/:model/train`), for metrics: never the raw
 * URL, whose ids and names would make a series per request. A router mounted on a pattern
 * keeps only the matched text in `baseUrl`, so its parameters are put back by name.
 */
export function routeTemplate(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof route !== 'string') return 'unmatched';
  let base = req.baseUrl;
  for (const [name, value] of Object.entries(req.params as Record<string, string>)) {
    base = base.replace(`/${encodeURIComponent(value)}`, `/:${name}`).replace(`/${value}`, `/:${name}`);
  }
  return `${base}${route === '/' && base !== '' ? '' : route}`;
}

/** The admitted caller of a request; a route without a guard has none (a bug, reported as a 500). */
export function callerOf(req: Request): Caller {
  if (!req.caller) throw new Error(`route ${req.method} ${req.path} has no guard`);
  return req.caller;
}
