import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { roleSchema, tokenNeeded, type Permission } from '@ct/auth';
import { z } from 'zod';
import type { ResponseHelpers } from './openapi-registry';
import { createTokenRequestSchema } from './routes/tokens';

const tokenInfoSchema = z
  .object({
    id: z.string().meta({ description: 'tok_ and 16 hex digits; revoke by it' }),
    name: z.string(),
    role: roleSchema,
    models: z.array(z.string()).nullable().meta({ description: 'the models it is limited to; null for all' }),
    created_at: z.string(),
    created_by: z.string().meta({ description: 'the name of the token that made it, or cli' }),
  })
  .meta({ id: 'TokenInfo' });

/** Registers the token routes (admin). */
export function registerTokenPaths(registry: OpenAPIRegistry, { json, problems }: ResponseHelpers): void {
  const tags = ['tokens'];
  registry.registerPath({
    method: 'post',
    path: '/tokens',
    operationId: 'createToken',
    tags,
    summary: 'Make a token with a role and optional model scope; the token is in this answer only (only its HMAC digest is kept)',
    request: { body: { content: { 'application/json': { schema: createTokenRequestSchema } } } },
    responses: { 201: json(tokenInfoSchema.extend({ token: z.string().meta({ description: 'the bearer token, shown once' }) }), 'made'), ...problems(400, 413, 415, 422, 503) },
  });
  registry.registerPath({
    method: 'get',
    path: '/tokens',
    operationId: 'listTokens',
    tags,
    summary: 'The tokens made at run time, without secrets (tokens from the environment are configured, not listed)',
    responses: { 200: json(z.object({ tokens: z.array(tokenInfoSchema) }), 'the tokens'), ...problems(503) },
  });
  registry.registerPath({
    method: 'delete',
    path: '/tokens/{id}',
    operationId: 'revokeToken',
    tags,
    summary: 'Revoke a token (by id, or by its name when only one token has it): every replica refuses it within a second',
    request: { params: z.object({ id: z.string() }) },
    responses: { 200: json(z.object({ revoked: tokenInfoSchema }), 'revoked'), ...problems(404, 409, 503) },
  });
}

/**
 * What an operation needs, from its method and path: the same rules as the guards in app.ts
 * (test/auth-openapi.test.ts sends every documented operation without a token and checks the
 * answer against this). Undefined: open to anyone.
 */
export function permissionOf(method: string, path: string): Permission | undefined {
  const m = method.toLowerCase();
  if (m === 'get' && (path === '/' || path === '/health' || /^\/models\/[^/]+\/health$/.test(path))) return undefined;
  // The page's static files (ui-route.ts): no data in them; not in the document.
  if (m === 'get' && (path === '/ui' || path.startsWith('/ui/'))) return undefined;
  if (m === 'post' && (/\/predict$/.test(path) || path === '/predict/compare')) return 'predict';
  if (path.startsWith('/tokens') || path === '/webhooks' || path.startsWith('/webhooks/')) return 'admin';
  if (/\/model\/history$/.test(path) || /\/model\/trusted-eval$/.test(path)) return m === 'get' ? 'read' : 'admin';
  if (/\/automation$/.test(path)) return m === 'get' ? 'read' : 'admin';
  if (/\/feedback$/.test(path)) return 'feedback';
  if (/\/rollback$/.test(path) || (path === '/models' && m === 'post') || (/^\/models\/[^/]+$/.test(path) && m === 'delete')) return 'admin';
  if (m === 'post' && /\/train$/.test(path)) return 'train';
  return 'read';
}

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string, headers?: Record<string, { schema: { type: string }; description: string }>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: problemRef } },
});
const RATE_HEADERS = {
  'Retry-After': { schema: { type: 'integer' }, description: 'seconds until the window ends' },
  'RateLimit-Limit': { schema: { type: 'integer' }, description: "the caller's budget per second for this kind of request" },
  'RateLimit-Remaining': { schema: { type: 'integer' }, description: 'what is left of it' },
  'RateLimit-Reset': { schema: { type: 'integer' }, description: 'seconds until it is refilled' },
};

type Operation = { security?: unknown; responses?: Record<string, unknown>; description?: string };

/**
 * Adds the bearer scheme to the document and, to every operation, what it needs (`security`,
 * a line in its description) and the answers auth and limits give: 401, 403, 429.
 */
export function withSecurity<T extends object>(document: T): T {
  const doc = document as { paths?: Record<string, Record<string, Operation>>; components?: Record<string, unknown> };
  doc.components = {
    ...doc.components,
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an opaque token (ct_…): npm run cli -- token create, or POST /tokens' } },
  };
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const permission = permissionOf(method, path.replace(/\{[^}]+\}/g, 'x'));
      if (permission === undefined) {
        op.security = [];
        continue;
      }
      const token = tokenNeeded(permission);
      const optional = permission === 'predict' || permission === 'read';
      op.security = optional ? [{}, { bearer: [] }] : [{ bearer: [] }];
      const note =
        permission === 'predict'
          ? `Open to anyone by default; with CT_AUTH_PREDICT=required it needs ${token}.`
          : permission === 'read'
            ? `Needs ${token}, unless CT_AUTH_READ=open.`
            : `Needs ${token}.`;
      op.description = op.description ? `${op.description}\n\n${note}` : note;
      op.responses = {
        ...op.responses,
        401: problemResponse('no token where one is needed, or a malformed, unknown or revoked token (WWW-Authenticate: Bearer)'),
        ...(permission === 'predict' ? {} : { 403: problemResponse("the token's role or model scope does not allow this") }),
        429: problemResponse("over the caller's rate limit (or, for jobs, its cap of queued jobs)", RATE_HEADERS),
      };
    }
  }
  return document;
}
