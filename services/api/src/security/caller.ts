import type { Role } from '@ct/auth';

/**
 * Who sent a request: a token's holder (its name, role and model scope) or an anonymous
 * client known only by its address. `key` identifies the caller for rate limits, job caps and
 * idempotency keys; it never holds the token.
 */
export interface Caller {
  readonly kind: 'token' | 'anonymous';
  /** The token's name; `anonymous` otherwise. */
  readonly name: string;
  readonly role: Role | null;
  readonly tokenId: string | null;
  /** Models the token is limited to; null for all. */
  readonly models: readonly string[] | null;
  /** `t:<token id>` or `a:<address>`. */
  readonly key: string;
}

/** Who asked for a change, as recorded with the job and in the history: never the token. */
export interface Actor {
  name: string;
  role: Role | null;
  token_id: string | null;
}

/** The record of `caller` kept with a job. */
export function actorOf(caller: Caller): Actor {
  return { name: caller.name, role: caller.role, token_id: caller.tokenId };
}

/** The caller of a request with no token. */
export function anonymousCaller(address: string | undefined): Caller {
  return { kind: 'anonymous', name: 'anonymous', role: null, tokenId: null, models: null, key: `a:${address ?? 'unknown'}` };
}
