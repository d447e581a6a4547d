import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where the secrets made on first start live, under the data directory. */
export const secretsDir = (dataDir: string): string => join(dataDir, 'secrets');

/** The HMAC key file made on first start when `CT_TOKEN_SECRET` is not set. */
export const tokenSecretPath = (dataDir: string): string => join(secretsDir(dataDir), 'token-secret');

/** The admin token file made on first start when no token is configured. */
export const bootstrapAdminTokenPath = (dataDir: string): string => join(secretsDir(dataDir), 'admin-token');

/**
 * The text of `path`, creating it with `make()` (mode 0600, in a 0700 directory) when it does
 * not exist. Creation is exclusive, so two replicas starting together on one volume end up
 * with the same value: the loser of the race reads the winner's file.
 */
export function readOrCreateSecret(path: string, make: () => string): { value: string; created: boolean } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = make();
  try {
    writeFileSync(path, `${value}\n`, { flag: 'wx', mode: 0o600 });
    // The umask may have cleared bits, never added any; make the mode exact anyway.
    chmodSync(path, 0o600);
    return { value, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const existing = readFileSync(path, 'utf8').trim();
  if (existing.length === 0) throw new Error(`${path} is empty: delete it to have a new one made, or fill it`);
  return { value: existing, created: false };
}

/**
 * The server secret tokens are hashed with: `configured` (CT_TOKEN_SECRET) when given, else
 * the volume's `secrets/token-secret`, made on first start. Every replica and the CLI must use
 * the same one, which the shared volume gives them.
 */
export function loadTokenSecret(dataDir: string, configured?: string): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  return Buffer.from(readOrCreateSecret(tokenSecretPath(dataDir), () => randomBytes(32).toString('base64url')).value, 'utf8');
}
