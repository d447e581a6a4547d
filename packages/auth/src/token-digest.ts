import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every token starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'ct_';

/** Shortest token accepted from the environment: shorter ones are guessable. */
export const MIN_TOKEN_LENGTH = 24;

/** A new opaque bearer token: the prefix and 32 random bytes, base64url. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/**
 * The HMAC-SHA256 of a token under the server secret, hex. Only digests are stored: a copy of
 * Redis or of the volume gives no usable token, and without the secret not even a way to test
 * guesses offline.
 */
export function tokenDigest(secret: Buffer, token: string): string {
  return createHmac('sha256', secret).update(token, 'utf8').digest('hex');
}

/** Constant-time equality of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
