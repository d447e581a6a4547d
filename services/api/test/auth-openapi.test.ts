/**
 * The OpenAPI document says what each operation needs (`security`), and the guards in app.ts
 * decide it: every documented operation is sent without a token, and the answer is a 401
 * exactly where the document says a token is required.
 */
import { startApis, type ApiHandle, type LoneApis } from './helpers/harness';

let lone: LoneApis;
let api: ApiHandle;

beforeAll(async () => {
  lone = await startApis();
  api = lone.api;
});
afterAll(() => lone.close());

const concrete = (path: string): string =>
  path.replace('{model}', 'iris').replace('{version}', 'v1.0-47d98c').replace('{id}', 'iris.nope').replace('{msgId}', 'msg_nope');

test('every documented operation answers an anonymous caller as its `security` says', async () => {
  const doc = (await api.client.get('/openapi.json', { token: null })).body;
  expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  const seen: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { security?: object[]; responses: Record<string, unknown> }>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const open = op.security !== undefined && (op.security.length === 0 || op.security.some((s) => Object.keys(s).length === 0));
      const r = await api.client.request(method.toUpperCase(), concrete(path), { token: null, ...(method === 'get' || method === 'delete' ? {} : { json: {} }) });
      seen.push(`${method} ${path}`);
      // `read` is behind a token by default (CT_AUTH_READ=required), documented as optional.
      const readOnly = method === 'get' && op.security?.length === 2;
      const needsToken = !open || readOnly;
      expect({ op: `${method} ${path}`, unauthorized: r.status === 401 }).toEqual({ op: `${method} ${path}`, unauthorized: needsToken });
      if (needsToken) expect(op.responses['401']).toBeDefined();
    }
  }
  expect(seen).toEqual(expect.arrayContaining(['post /train', 'post /tokens', 'delete /model/history', 'post /predict', 'get /health', 'post /webhooks', 'post /webhooks/{id}/deliveries/{msgId}/redeliver']));
});
