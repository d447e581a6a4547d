import { roleGrants, tokenNeeded, type Permission } from '@ct/auth';
import { ApiError } from '../errors/api-error';
import { unauthorized } from './authenticator';
import type { Caller } from './caller';

/** Whether anonymous callers may predict and read (`CT_AUTH_PREDICT`, `CT_AUTH_READ`). */
export interface OpenAccess {
  predict: 'open' | 'required';
  read: 'open' | 'required';
}

/**
 * Lets `caller` do `permission` on `model` (undefined: not about one model), or throws: 401
 * when a token is needed and none was given, 403 when the token's role or model scope does
 * not allow it. Prediction and reads are open to anyone when configured so; a token, when
 * given, is checked all the same (a revoked token is refused even where none is needed).
 */
export function authorize(caller: Caller, permission: Permission, model: string | undefined, open: OpenAccess): void {
  if (caller.role === null) {
    if ((permission === 'predict' && open.predict === 'open') || (permission === 'read' && open.read === 'open')) return;
    throw unauthorized(`this needs ${tokenNeeded(permission)} (Authorization: Bearer <token>)`);
  }
  if (!roleGrants(caller.role, permission)) {
    throw new ApiError('forbidden', `token ${caller.name} (${caller.role}) may not do this: it needs ${tokenNeeded(permission)}`);
  }
  if (model !== undefined && caller.models !== null && !caller.models.includes(model)) {
    throw new ApiError('forbidden', `token ${caller.name} is limited to ${caller.models.join(', ')}`);
  }
}

/**
 * Whether `caller` may see a job queued by the token `ownerTokenId`: its owner or an admin.
 * The system's own jobs (bootstrap, the watched folder: no token) are visible to any reader.
 */
export function mayReadJob(caller: Caller, ownerTokenId: string | null | undefined): boolean {
  if (ownerTokenId === undefined || ownerTokenId === null || caller.role === 'admin') return true;
  return caller.tokenId === ownerTokenId;
}
