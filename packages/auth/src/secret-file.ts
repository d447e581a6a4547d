import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where the secrets made on first start live, under the data directory. */
export const secretsDir = (dataDir: string): string => join(dataDir, 'secrets');

/** The HMAC key file made on first start when `CT_TOKEN_SECRET` is not set. */
export const tokenSecretPath = (dataDir: string): string => join(secretsDir(dataDir), 'token-secret');

/** The admin token file made on first start when no token is configured. */
export const bootstrapAdminTokenPath = (dataDir: string): string => join(secretsDir(dataDir), 'admin-token');

/**
 * The text of `path`, creating it with `make()` (mode 0600, in a 0700 directory) when it does
 * not exist. Creation is exclusive and never shows a half-made file, so replicas starting
 * together on one volume end up with the same value: the losers read the winner's file.
 */
export function readOrCreateSecret(path: string, make: () => string): { value: string; created: boolean } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = make();
  // The whole value goes to a private file first and is then linked into place: a link fails
  // when the name exists and appears with its content, where create-then-write leaves an
  // instant in which another replica reads an empty file (seen in CI, two APIs on one volume).
  const staging = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(staging, `${value}\n`, { flag: 'wx', mode: 0o600 });
    // The umask may have cleared bits, never added any; make the mode exact anyway.
    chmodSync(staging, 0o600);
    linkSync(staging, path);
    return { value, created: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createInPlace(path, value);
    if (code !== 'EEXIST') throw err;
  } finally {
    rmSync(staging, { force: true });
  }
  return { value: readMade(path), created: false };
}

/** Exclusive create-then-write, for a volume without hard links. */
function createInPlace(path: string, value: string): { value: string; created: boolean } {
  try {
    writeFileSync(path, `${value}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(path, 0o600);
    return { value, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { value: readMade(path), created: false };
}

/**
 * The text of a secret file another process made. A file made by create-then-write (an
 * earlier version, or a volume without links) is empty for an instant, so an empty one is
 * read again for up to two seconds before it counts as damaged.
 */
function readMade(path: string): string {
  const deadline = Date.now() + 2_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const text = readFileSync(path, 'utf8').trim();
    if (text.length > 0) return text;
    if (Date.now() >= deadline) throw new Error(`${path} is empty: delete it to have a new one made, or fill it`);
    // Start-up code, before the server listens: blocking the thread for 25 ms delays no one.
    Atomics.wait(pause, 0, 0, 25);
  }
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
