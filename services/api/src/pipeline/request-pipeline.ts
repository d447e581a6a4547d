import type { Permission } from '@ct/auth';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { requestIdOf } from '../request-id';
import { requestLogLevel } from '../request-log-level';
import type { Authenticator } from '../security/authenticator';
import { authorize, type OpenAccess } from '../security/authorize';
import type { Caller } from '../security/caller';
import { budgetOf, type RateHeaders, type RateLimits } from '../security/rate-limits';
import { readJsonBody, type JsonBody } from './json-body';
import { requestLineWriter, type RequestLineWriter } from './request-line';
import type { ApiMetrics } from '../metrics/api-metrics';

/** A request as the pipeline tracks it from its first byte to its log line. */
export interface RequestState {
  readonly id: string;
  /** `performance.now()` at the first byte: a plain number, where `hrtime.bigint()` allocated two BigInts per request. */
  readonly started: number;
}

/** What admission gives a request: who sent it, and the RateLimit headers for its answer. */
export interface Admission {
  caller: Caller;
  headers: RateHeaders;
}

const NO_HEADERS: RateHeaders = Object.freeze({});

/**
 * The steps every request goes through, in order, written once for both the predict lane
 * (node:http) and the Express app: a request id, authentication and authorization, the rate
 * limit, the JSON body, and one log line. A new cross-cutting concern is added here.
 */
export class RequestPipeline {
  constructor(
    private readonly deps: {
      authenticator: Authenticator;
      limits: RateLimits | undefined;
      open: OpenAccess;
      logger: Logger;
      /** Prometheus metrics; none in tests that do not look at them. */
      metrics?: ApiMetrics;
    },
  ) {
    this.line = requestLineWriter(deps.logger);
  }

  /** The info line of a request that went well, written without pino's generic path (undefined: through pino). */
  private readonly line: RequestLineWriter | undefined;

  /** Starts a request: its id (the caller's `X-Request-Id` when sane), echoed in the answer. */
  begin(req: IncomingMessage, res: ServerResponse): RequestState {
    const state = this.start(req);
    res.setHeader('X-Request-Id', state.id);
    return state;
  }

  /**
   * Starts a request whose answer is written in one `writeHead` that carries `X-Request-Id`
   * itself (the predict lane): a header set beforehand sends node's `writeHead` down its slow
   * path, which re-validates and stores every header one by one.
   */
  start(req: IncomingMessage): RequestState {
    return { id: requestIdOf(req), started: performance.now() };
  }

  /**
   * Who the caller is and whether it may do `permission` on `model`, then one request against
   * its budget. Resolves with the caller and the RateLimit headers; rejects with 401, 403,
   * 429 or 503 (tokens cannot be checked) as an ApiError.
   */
  async admit(req: IncomingMessage, permission: Permission, model: string | undefined): Promise<Admission> {
    const identified = this.deps.authenticator.identify(req.headers.authorization, req.socket.remoteAddress);
    const caller = identified instanceof Promise ? await identified : identified;
    authorize(caller, permission, model, this.deps.open);
    const counted = this.deps.limits?.consume(budgetOf(permission), caller.key);
    return { caller, headers: counted === undefined ? NO_HEADERS : counted instanceof Promise ? await counted : counted };
  }

  /** The request's JSON body (its value undefined when it is not declared as JSON). Rejects with body-parser's error types. */
  readBody(req: IncomingMessage, res: ServerResponse): Promise<JsonBody> {
    return readJsonBody(req, res);
  }

  /**
   * The request's one log line (id, method, URL, status and time, at the level its status
   * calls for) and its metric, by `route` template (`/models/:model/train`, never the URL).
   */
  log(state: RequestState, req: IncomingMessage, status: number, route: string, err?: unknown): void {
    const ms = performance.now() - state.started;
    const { method, url } = req;
    this.deps.metrics?.observeRequest(method ?? 'GET', route, status, ms / 1000);
    const responseTime = Math.round(ms);
    if (this.line !== undefined && err === undefined && status < 500 && method !== undefined && url !== undefined) {
      this.line(state.id, method, url, status, responseTime);
      return;
    }
    const fields = { req: { id: state.id, method, url }, res: { statusCode: status }, responseTime };
    this.deps.logger[requestLogLevel(status, err)](err ? { ...fields, err } : fields, err ? 'request errored' : 'request completed');
  }
}
