import { z } from 'zod';
import { roleSchema } from './roles';

/** A token's name: who or what holds it (recorded with every change it makes). */
export const tokenNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/, 'letters, digits and . _ @ : - (1 to 64, starting with a letter or digit)');

/** The model names a token is limited to; null for every model. */
export const tokenModelsSchema = z.array(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/)).min(1).max(100).nullable();

/**
 * What is stored about a token (never the token): its id, name, role, optional model scope,
 * when and by whom it was made, and its digest (HMAC-SHA256 under the server secret).
 */
export const tokenRecordSchema = z.strictObject({
  id: z.string().regex(/^tok_[0-9a-f]{16}$/),
  name: tokenNameSchema,
  role: roleSchema,
  models: tokenModelsSchema,
  created_at: z.iso.datetime(),
  /** The name of the token that created it, or `cli` / `environment`. */
  created_by: z.string(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});

/** A stored token. */
export type TokenRecord = z.infer<typeof tokenRecordSchema>;

/** A token as listed to an admin: the record without its digest. */
export type TokenInfo = Omit<TokenRecord, 'digest'>;

/** The record without its digest. */
export function tokenInfo({ digest: _digest, ...info }: TokenRecord): TokenInfo {
  return info;
}
