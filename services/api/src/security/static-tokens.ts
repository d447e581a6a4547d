import { bootstrapAdminTokenPath, generateToken, readOrCreateSecret, type Role } from '@ct/auth';
import type { StaticToken } from './authenticator';

/**
 * The tokens known at start: those of the environment (`CT_ADMIN_TOKEN` and the like), named
 * `env-<role>`; with none configured, the volume's `secrets/admin-token`, made on first start
 * (mode 0600) so a fresh stack is never open to anyone. `file` says where that token is when
 * it is used, for the start-up log line (the token itself is never logged).
 */
export function staticTokensOf(configured: readonly { role: Role; token: string }[], dataDir: string): { tokens: StaticToken[]; file?: { path: string; created: boolean } } {
  if (configured.length > 0) return { tokens: configured.map(({ role, token }) => ({ role, token, name: `env-${role}` })) };
  const path = bootstrapAdminTokenPath(dataDir);
  const { value, created } = readOrCreateSecret(path, generateToken);
  return { tokens: [{ role: 'admin', token: value, name: 'bootstrap-admin' }], file: { path, created } };
}
