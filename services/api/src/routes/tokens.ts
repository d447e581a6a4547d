import { AmbiguousTokenError, roleSchema, tokenInfo, tokenModelsSchema, tokenNameSchema, type TokenStore } from '@ct/auth';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { ApiError } from '../errors/api-error';
import { callerOf } from '../pipeline/express-steps';
import { parseOrThrow, requireJson } from '../validate';

/** Body of `POST /tokens`. */
export const createTokenRequestSchema = z
  .strictObject({
    name: tokenNameSchema.meta({ description: 'who or what holds the token; recorded with every change it makes' }),
    role: roleSchema.meta({ description: 'admin, trainer (data pipelines: /train, feedback) or client (predict, feedback)' }),
    models: tokenModelsSchema.optional().meta({ description: 'limit the token to these models (default: every model)' }),
  })
  .meta({ id: 'create_token_request' });

const storeOf = (deps: AppDeps): TokenStore => {
  if (!deps.tokens) throw new ApiError('auth_unavailable', 'this API has no token store');
  return deps.tokens;
};

/** `POST /tokens` (admin): makes a token and answers 201 with it; it is shown this once. */
export function createTokenHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    requireJson(req.get('content-type'));
    const body = parseOrThrow(createTokenRequestSchema, req.body);
    const { token, record } = await storeOf(deps).create({ name: body.name, role: body.role, models: body.models ?? null, createdBy: callerOf(req).name });
    deps.logger.info({ token_id: record.id, name: record.name, role: record.role, by: callerOf(req).name }, 'token created');
    res.status(201).set('Cache-Control', 'no-store').json({ token, ...tokenInfo(record) });
  };
}

/** `GET /tokens` (admin): every token made at run time, without secrets. */
export function listTokensHandler(deps: AppDeps) {
  return async (_req: Request, res: Response): Promise<void> => {
    res.json({ tokens: (await storeOf(deps).list()).map(tokenInfo) });
  };
}

/** `DELETE /tokens/:id` (admin): revokes a token by id (or by its name when only one has it); every replica refuses it within a second. */
export function revokeTokenHandler(deps: AppDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const id = String((req.params as { id?: string }).id);
    let revoked;
    try {
      revoked = await storeOf(deps).revoke(id);
    } catch (err) {
      if (err instanceof AmbiguousTokenError) throw new ApiError('conflict', err.message);
      throw err;
    }
    if (!revoked) throw new ApiError('not_found', `no token ${id.slice(0, 100)}`);
    deps.logger.info({ token_id: revoked.id, name: revoked.name, by: callerOf(req).name }, 'token revoked');
    res.json({ revoked: tokenInfo(revoked) });
  };
}
