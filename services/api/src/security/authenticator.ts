import { digestsEqual, tokenDigest, type Role, type TokenStore } from '@ct/auth';
import { ApiError } from '../errors/api-error';
import { anonymousCaller, type Caller } from './caller';

/** A token defined at start (CT_ADMIN_TOKEN and the like, or the first start's admin token file). */
export interface StaticToken {
  token: string;
  name: string;
  role: Role;
}

/** `Authorization: Bearer <token>`: visible ASCII, bounded, so a huge header costs nothing to reject. */
const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

/** The challenge of every 401 (RFC 6750). */
export const WWW_AUTHENTICATE = 'Bearer realm="ct"';

interface CacheEntry {
  caller: Caller | null;
  at: number;
}

/** Most tokens remembered per replica; past it the memory is cleared (a flood of random tokens). */
const MAX_CACHED = 10_000;

/**
 * Turns a request's `Authorization` header into a {@link Caller}. Tokens from the environment
 * are checked in memory; tokens made at run time are looked up in the shared store by digest
 * and remembered for `cacheMs` (500 ms), so a revocation reaches every replica within a second
 * while a busy client costs one Redis read per half second. When Redis cannot answer, a token
 * seen in the last `staleMs` is still honoured (a revocation waits for Redis to come back);
 * an unknown one gets 503, never a wrong 401.
 *
 * A token's digest depends on nothing but the token and the secret, so it is computed once
 * per token string and remembered (as many as the cache holds): measured under load on
 * /predict, an HMAC per request was the largest cost of auth. What a digest stands for (the
 * caller, or a revocation) is still looked up and expires as above.
 */
export class Authenticator {
  private readonly statics = new Map<string, Caller>();
  private readonly cache = new Map<string, CacheEntry>();
  /** Digests by token string: pure, so they never expire; cleared when full like the cache. */
  private readonly digests = new Map<string, string>();
  private readonly cacheMs: number;
  private readonly staleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly opts: {
      secret: Buffer;
      store: TokenStore | undefined;
      staticTokens: readonly StaticToken[];
      cacheMs?: number;
      staleMs?: number;
      now?: () => number;
    },
  ) {
    for (const t of opts.staticTokens) {
      const digest = tokenDigest(opts.secret, t.token);
      this.statics.set(digest, { kind: 'token', name: t.name, role: t.role, tokenId: `env:${t.name}`, models: null, key: `t:env:${t.name}` });
    }
    this.cacheMs = opts.cacheMs ?? 500;
    this.staleMs = opts.staleMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The caller for these headers: anonymous without `Authorization`, the token's holder with a
   * valid one. A malformed or unknown token is a 401 (a client that sends a token means to use
   * it; falling back to anonymous would hide its mistake). Synchronous unless the store must
   * be asked.
   */
  identify(authorization: string | undefined, address: string | undefined): Caller | Promise<Caller> {
    if (authorization === undefined || authorization === '') return anonymousCaller(address);
    const m = BEARER.exec(authorization);
    if (!m) throw unauthorized('the Authorization header must be "Bearer <token>"', 'invalid_request');
    const digest = this.digestOf(m[1] as string);
    const fixed = this.statics.get(digest);
    if (fixed) return fixed;
    const cached = this.cache.get(digest);
    const now = this.now();
    if (cached && now - cached.at < this.cacheMs) return known(cached.caller);
    return this.lookUp(digest, cached, now);
  }

  private digestOf(token: string): string {
    let digest = this.digests.get(token);
    if (digest === undefined) {
      digest = tokenDigest(this.opts.secret, token);
      // A flood of random tokens must not grow the memory without bound.
      if (this.digests.size >= MAX_CACHED) this.digests.clear();
      this.digests.set(token, digest);
    }
    return digest;
  }

  private async lookUp(digest: string, stale: CacheEntry | undefined, now: number): Promise<Caller> {
    const { store } = this.opts;
    if (!store) throw unauthorized('unknown or revoked token', 'invalid_token');
    let caller: Caller | null;
    try {
      const record = await store.findByDigest(digest);
      caller =
        record && digestsEqual(record.digest, digest)
          ? { kind: 'token', name: record.name, role: record.role, tokenId: record.id, models: record.models, key: `t:${record.id}` }
          : null;
    } catch {
      if (stale && now - stale.at < this.staleMs) return known(stale.caller);
      throw new ApiError('auth_unavailable', 'the token cannot be checked while Redis is unavailable; retry later', [], { 'Retry-After': '5' });
    }
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(digest, { caller, at: now });
    return known(caller);
  }
}

function known(caller: Caller | null): Caller {
  if (!caller) throw unauthorized('unknown or revoked token', 'invalid_token');
  return caller;
}

/** A 401 with the Bearer challenge; `error` as RFC 6750 section 3.1 names it. */
export function unauthorized(detail: string, error?: 'invalid_request' | 'invalid_token'): ApiError {
  const challenge = error ? `${WWW_AUTHENTICATE}, error="${error}"` : WWW_AUTHENTICATE;
  return new ApiError('unauthorized', detail, [], { 'WWW-Authenticate': challenge });
}
