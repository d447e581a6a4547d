import { AmbiguousTokenError, loadTokenSecret, roleSchema, tokenInfo, tokenNameSchema, TokenStore } from '@ct/auth';
import { createRedisConnection } from '@ct/queue';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** Usage lines of `cli token`. */
export const TOKEN_USAGE = [
  'cli token create --name NAME --role admin|trainer|client [--model M]...   (prints the token once)',
  'cli token list',
  'cli token revoke ID|NAME',
  '    token options: [--data-dir DIR] [--redis-url URL] [--prefix P]   (defaults: $CT_DATA_DIR or ./data, $REDIS_URL, $CT_REDIS_PREFIX or ct)',
];

const OPTIONS = {
  name: { type: 'string' },
  role: { type: 'string' },
  model: { type: 'string', multiple: true },
  'data-dir': { type: 'string' },
  'redis-url': { type: 'string' },
  prefix: { type: 'string' },
} as const;

/**
 * `cli token create|list|revoke`: manages the tokens made at run time, in the stack's Redis,
 * hashed with the stack's secret (`CT_TOKEN_SECRET`, else the volume's `secrets/token-secret`,
 * which the API makes on first start). Every API replica sees a new token at once and refuses
 * a revoked one within a second. Returns the lines to print; throws an Error with a message
 * for the user on bad input.
 */
export async function tokenCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
  const [action, target, ...extra] = positionals;
  const usage = `usage:\n${TOKEN_USAGE.map((l) => `  ${l}`).join('\n')}`;
  if (extra.length > 0 || !['create', 'list', 'revoke'].includes(action ?? '')) throw new Error(usage);
  const dataDir = resolve(values['data-dir'] ?? env.CT_DATA_DIR ?? join(__dirname, '..', '..', 'data'));
  const redis = createRedisConnection(values['redis-url'] ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'producer', 'ct-cli');
  redis.on('error', () => undefined);
  try {
    const store = new TokenStore(redis, values.prefix ?? env.CT_REDIS_PREFIX ?? 'ct', loadTokenSecret(dataDir, env.CT_TOKEN_SECRET));
    if (action === 'create') {
      const name = tokenNameSchema.safeParse(values.name);
      if (!name.success) throw new Error(`--name: ${name.error.issues[0]?.message ?? 'required'}\n${usage}`);
      const role = roleSchema.safeParse(values.role);
      if (!role.success) throw new Error(`--role must be admin, trainer or client\n${usage}`);
      const { token, record } = await store.create({ name: name.data, role: role.data, models: values.model ?? null, createdBy: 'cli' });
      return [JSON.stringify({ token, ...tokenInfo(record) }), '# the token is shown this once: store it now (only its HMAC digest is kept)'];
    }
    if (action === 'list') {
      const all = await store.list();
      return all.length === 0 ? ['no tokens made at run time (tokens from the environment are not listed)'] : all.map((r) => JSON.stringify(tokenInfo(r)));
    }
    if (!target) throw new Error(`revoke needs a token id or name\n${usage}`);
    try {
      const revoked = await store.revoke(target);
      if (!revoked) throw new Error(`no token ${target}`);
      return [`revoked ${revoked.id} (${revoked.name}, ${revoked.role}); every API refuses it within a second`];
    } catch (err) {
      if (err instanceof AmbiguousTokenError) throw new Error(err.message);
      throw err;
    }
  } finally {
    redis.disconnect();
  }
}
