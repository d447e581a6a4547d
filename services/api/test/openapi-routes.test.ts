/**
 * Every route the API serves is in /openapi.json, with its answers: the routes are read from
 * the Express app itself (and the predict lane's two, served ahead of it), each must have a
 * documented operation with a success code, and a real request to each, as an admin, must
 * answer with one of the codes its operation documents. One API on a bootstrapped volume,
 * real Redis under a unique prefix, no trainer (jobs stay queued).
 */
import type { Express } from 'express';
import type { z } from 'zod';
import { createApp } from '../src/app';
import { webhookDeliveriesSchema, webhookEndpointSchema, webhookListSchema, webhookWithSecretSchema } from '../src/routes/webhooks';
import { SPECS, startApis, type LoneApis } from './helpers/harness';

/** One route of the app: its method, and the paths (OpenAPI style) it is served at. */
interface ServedRoute {
  method: string;
  /** One per mount of its router: the model router serves `/train` and `/models/{model}/train`. */
  paths: string[];
}

/** Express's internals, as far as this test reads them (router 2: `rawPath` is the mount path). */
interface Layer {
  rawPath?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
}

const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');
const join = (prefix: string, path: string): string => (prefix === '/' ? path : path === '/' ? prefix : `${prefix}${path}`);

/** Every route of `app`, its mounted routers' included (a router mounted twice gives one route with two paths). */
function servedRoutes(app: Express): ServedRoute[] {
  const routes = new Map<string, ServedRoute>();
  const walk = (stack: Layer[], prefixes: string[], owner: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (!on || method === '_all') continue;
          const key = `${owner} ${method} ${layer.route.path}`;
          const entry = routes.get(key) ?? { method, paths: [] };
          entry.paths.push(...prefixes.map((p) => openApiPath(join(p, layer.route?.path ?? ''))));
          routes.set(key, entry);
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, prefixes.map((p) => join(p, layer.rawPath ?? '/')), `${owner}>${routerId(layer.handle)}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, ['/'], 'app');
  return [...routes.values()];
}

const routerIds = new Map<object, number>();
/** A router's identity, so that the routes of one router mounted twice are one route. */
const routerId = (router: object): number => {
  if (!routerIds.has(router)) routerIds.set(router, routerIds.size + 1);
  return routerIds.get(router) as number;
};

/**
 * Served on purpose outside the document: the document itself, its Swagger UI, the Prometheus
 * text exposition, and the page's static files (ui-route.ts).
 */
const UNDOCUMENTED = [/^\/openapi\.json$/, /^\/docs(\/|$)/, /^\/metrics$/, /^\/ui(\/|$)/];

/** Concrete values for the path parameters: real where that gives a 200, unknown ids otherwise. */
const concrete = (path: string): string =>
  path.replace('{model}', 'iris').replace('{version}', 'v1.0-47d98c').replace('{id}', 'nope').replace('{msgId}', 'msg_nope');

let lone: LoneApis;
let doc: { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
let routes: ServedRoute[];

beforeAll(async () => {
  lone = await startApis({ bootstrap: true });
  doc = (await lone.api.client.get('/openapi.json')).body;
  // The predict lane answers these ahead of Express (predict-lane.ts).
  const lane: ServedRoute[] = [{ method: 'post', paths: ['/predict'] }, ...SPECS.map((s) => ({ method: 'post', paths: [`/models/${s.name}/predict`] }))];
  routes = [...servedRoutes(createApp(lone.api.deps)), ...lane];
}, 60_000);
afterAll(() => lone?.close());

/** The documented operation of a served route: the first of its paths the document has. */
function operationOf(route: ServedRoute): { path: string; responses: Record<string, unknown> } | undefined {
  for (const path of route.paths) {
    const op = doc.paths[path]?.[route.method];
    if (op) return { path, responses: op.responses };
  }
  return undefined;
}

test('the app serves the routes this test expects to find (the walk of the router works)', () => {
  const all = routes.flatMap((r) => r.paths.map((p) => `${r.method} ${p}`));
  expect(all).toEqual(expect.arrayContaining(['post /train', 'post /models/{model}/train', 'get /models/{model}/versions/{version}', 'post /webhooks', 'post /webhooks/{id}/deliveries/{msgId}/redeliver', 'get /models/{model}/drift', 'get /models/{model}/drift/history', 'get /models/{model}/quality/series']));
});

test('every served route is documented, with a success answer and every code a number', () => {
  const missing: string[] = [];
  for (const route of routes) {
    if (route.paths.every((p) => UNDOCUMENTED.some((u) => u.test(p)))) continue;
    const op = operationOf(route);
    if (!op) {
      missing.push(`${route.method} ${route.paths.join(' | ')}`);
      continue;
    }
    const codes = Object.keys(op.responses);
    expect({ op: `${route.method} ${op.path}`, codes: codes.every((c) => /^[1-5]\d\d$/.test(c)), success: codes.some((c) => c.startsWith('2')) }).toEqual({ op: `${route.method} ${op.path}`, codes: true, success: true });
  }
  expect(missing).toEqual([]);
});

test('the webhook routes are documented with their answers', () => {
  const codes = (path: string, method: string) => Object.keys(doc.paths[path]?.[method]?.responses ?? {}).sort();
  // The guards add 401, 403 and 429 to every admin route (openapi-security.ts).
  const guarded = ['401', '403', '429'];
  expect(codes('/webhooks', 'post')).toEqual(['201', '400', '413', '415', '422', '503', ...guarded].sort());
  expect(codes('/webhooks', 'get')).toEqual(['200', '503', ...guarded].sort());
  expect(codes('/webhooks/{id}', 'get')).toEqual(['200', '404', '503', ...guarded].sort());
  expect(codes('/webhooks/{id}', 'patch')).toEqual(['200', '400', '404', '413', '415', '422', '503', ...guarded].sort());
  expect(codes('/webhooks/{id}', 'delete')).toEqual(['204', '404', '503', ...guarded].sort());
  expect(codes('/webhooks/{id}/rotate-secret', 'post')).toEqual(['200', '404', '422', '503', ...guarded].sort());
  expect(codes('/webhooks/{id}/deliveries', 'get')).toEqual(['200', '404', '422', '503', ...guarded].sort());
  expect(codes('/webhooks/{id}/deliveries/{msgId}/redeliver', 'post')).toEqual(['202', '404', '409', '503', ...guarded].sort());
  const created = (doc.paths['/webhooks']?.post?.responses['201'] as any).content['application/json'].schema;
  expect(created.$ref).toBe('#/components/schemas/webhook_endpoint_with_secret');
  expect((doc as any).components.schemas.webhook_endpoint_with_secret.required).toEqual(expect.arrayContaining(['id', 'url', 'events', 'secret', 'enabled']));
  expect((doc as any).components.schemas.webhook_payload.properties.type.$ref).toBe('#/components/schemas/webhook_event_type');
});

test('each served route, asked by an admin, answers with a code its operation documents', async () => {
  const answers: { op: string; status: number; documented: boolean }[] = [];
  for (const route of routes) {
    const op = operationOf(route);
    if (!op) continue;
    for (const path of route.paths) {
      const r = await lone.api.client.request(route.method.toUpperCase(), concrete(path), route.method === 'get' || route.method === 'delete' ? {} : { json: {} });
      answers.push({ op: `${route.method} ${path}`, status: r.status, documented: r.status in op.responses });
    }
  }
  expect(answers.filter((a) => !a.documented)).toEqual([]);
  expect(answers.length).toBeGreaterThan(40);
});

test('the webhook routes answer with the schemas the document publishes', async () => {
  const { client } = lone.api;
  const conforms = <S extends z.ZodType>(schema: S, r: { status: number; body: unknown }, status = 200): z.output<S> => {
    expect(r.status).toBe(status);
    return schema.parse(r.body);
  };
  const made = conforms(webhookWithSecretSchema, await client.post('/webhooks', { json: { url: 'http://127.0.0.1:9/hook', events: ['drift.alert'] } }), 201);
  expect(conforms(webhookListSchema, await client.get('/webhooks')).webhooks.map((w) => w.id)).toContain(made.id);
  conforms(webhookEndpointSchema, await client.get(`/webhooks/${made.id}`));
  conforms(webhookEndpointSchema, await client.request('PATCH', `/webhooks/${made.id}`, { json: { description: 'documented' } }));
  conforms(webhookWithSecretSchema, await client.post(`/webhooks/${made.id}/rotate-secret?grace_s=0`));
  conforms(webhookDeliveriesSchema, await client.get(`/webhooks/${made.id}/deliveries`));
  expect((await client.delete(`/webhooks/${made.id}`)).status).toBe(204);
});
