import { bootstrapAdminTokenPath } from '@ct/auth';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The repository root (scripts run from `scripts/dist`). */
const ROOT = resolve(__dirname, '../..');

/**
 * The admin token the scripts send, as the API knows it: `given` (a `--token` option), else
 * `CT_ADMIN_TOKEN`, else the file the API makes on first start when no token is configured
 * (`<CT_DATA_DIR or ./data>/secrets/admin-token`). Undefined when none is found: requests go
 * without a token, and the API's 401 says what is missing.
 */
export function adminToken(given?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (given) return given;
  if (env.CT_ADMIN_TOKEN) return env.CT_ADMIN_TOKEN.trim();
  const file = bootstrapAdminTokenPath(resolve(ROOT, env.CT_DATA_DIR ?? 'data'));
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
