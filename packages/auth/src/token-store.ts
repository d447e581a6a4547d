import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Role } from './roles';
import { generateToken, tokenDigest } from './token-digest';
import { tokenRecordSchema, type TokenRecord } from './token-record';

/** What a new token is for. */
export interface NewToken {
  name: string;
  role: Role;
  models?: readonly string[] | null;
  createdBy: string;
}

/**
 * The tokens made at run time (by the CLI or an admin route), in one Redis hash from digest to
 * record, shared by every API replica. The token itself is returned once by `create` and
 * stored nowhere. Lookups go by digest, so finding a token costs one HGET.
 */
export class TokenStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly secret: Buffer,
  ) {
    this.key = `${prefix}:auth:tokens`;
  }

  /** The digest of `token` under this store's secret. */
  digest(token: string): string {
    return tokenDigest(this.secret, token);
  }

  /** Makes a token: the token (shown once) and its record. */
  async create(spec: NewToken): Promise<{ token: string; record: TokenRecord }> {
    const token = generateToken();
    const record = tokenRecordSchema.parse({
      id: `tok_${randomBytes(8).toString('hex')}`,
      name: spec.name,
      role: spec.role,
      models: spec.models && spec.models.length > 0 ? [...spec.models] : null,
      created_at: new Date().toISOString(),
      created_by: spec.createdBy,
      digest: this.digest(token),
    });
    await this.redis.hset(this.key, record.digest, JSON.stringify(record));
    return { token, record };
  }

  /** The record stored under `digest`, or undefined. A damaged record counts as absent. */
  async findByDigest(digest: string): Promise<TokenRecord | undefined> {
    const raw = await this.redis.hget(this.key, digest);
    return raw === null ? undefined : parseRecord(raw);
  }

  /** Every stored token, oldest first. */
  async list(): Promise<TokenRecord[]> {
    const all = await this.redis.hvals(this.key);
    return all
      .map(parseRecord)
      .filter((r): r is TokenRecord => r !== undefined)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  }

  /**
   * Revokes the token with this id, or the one token with this name; returns what was revoked
   * (undefined when nothing matched). A name that matches several tokens revokes none: the
   * caller must say which by id.
   */
  async revoke(idOrName: string): Promise<TokenRecord | undefined> {
    const all = await this.list();
    const byId = all.find((r) => r.id === idOrName);
    const byName = all.filter((r) => r.name === idOrName);
    if (!byId && byName.length > 1) throw new AmbiguousTokenError(idOrName, byName.map((r) => r.id));
    const target = byId ?? byName[0];
    if (!target) return undefined;
    const removed = await this.redis.hdel(this.key, target.digest);
    return removed === 1 ? target : undefined;
  }
}

/** `revoke` was given a name that several tokens share. */
export class AmbiguousTokenError extends Error {
  override readonly name = 'AmbiguousTokenError';
  constructor(
    readonly tokenName: string,
    readonly ids: readonly string[],
  ) {
    super(`${ids.length} tokens are named ${tokenName} (${ids.join(', ')}): revoke one by its id`);
  }
}

function parseRecord(raw: string): TokenRecord | undefined {
  try {
    const parsed = tokenRecordSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
