/**
 * The answers of `POST /predict/compare` and `GET /model/trusted-eval` (and its per-model
 * alias) are documented with their shapes in /openapi.json, not as free objects, and the real
 * answers match the schemas the document is generated from. A real trainer and API on a fresh
 * volume (real Redis, unique prefix), bootstrapped.
 */
import { compareResponseSchema, trustedEvalInfoSchema } from '../src/registry-schemas';
import { SETOSA, startStack, type Stack } from './helpers/harness';
import { conforms } from './helpers/expect-answers';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
}, 120_000);
afterAll(async () => s?.close());

describe('/openapi.json', () => {
  let doc: any;
  /** A schema with its `$ref` followed, if it is one. */
  const resolve = (schema: any): any => (schema?.$ref ? doc.components.schemas[decodeURIComponent(schema.$ref.split('/').pop())] : schema);
  const answer = (path: string, method: string): any => resolve(doc.paths[path]?.[method]?.responses['200'].content['application/json'].schema);
  const propertiesOf = (schema: any): string[] => Object.keys(resolve(schema)?.properties ?? {}).sort();

  beforeAll(async () => {
    const r = await s.api.client.get('/openapi.json');
    expect(r.status).toBe(200);
    doc = r.body;
  });

  it('documents the comparison with its properties, each model entry an answer or an error', () => {
    const comparison = answer('/predict/compare', 'post');
    expect(comparison.type).toBe('object');
    expect(propertiesOf(comparison)).toEqual(['agreement', 'all_agree', 'models']);
    expect(comparison.required).toEqual(expect.arrayContaining(['models', 'agreement', 'all_agree']));
    expect(propertiesOf(comparison.properties.agreement.items)).toEqual(['agree', 'class_names', 'row']);
    const entries = comparison.properties.models.items;
    const variants: any[] = entries.anyOf ?? entries.oneOf;
    expect(variants.map(propertiesOf)).toEqual([
      ['model', 'model_version', 'predictions'],
      ['error', 'model', 'model_version'],
    ]);
    const predictions = resolve(variants[0]).properties.predictions.items;
    expect(propertiesOf(predictions)).toEqual(['class_name', 'imputed', 'prediction', 'probabilities', 'probabilities_by_class']);
    expect(propertiesOf(resolve(variants[1]).properties.error)).toEqual(['code', 'detail', 'errors', 'status']);
  });

  it('documents the trusted evaluation rows with their properties', () => {
    const info = answer('/model/trusted-eval', 'get');
    expect(info.type).toBe('object');
    expect(propertiesOf(info)).toEqual(['guardrails', 'hash', 'model', 'per_class', 'rows', 'served', 'set_by']);
    expect(info.required).toEqual(expect.arrayContaining(['model', 'rows', 'per_class', 'hash', 'set_by', 'guardrails', 'served']));
  });
});

describe('the answers match their documented schemas', () => {
  it('POST /predict/compare, with a model that answers and one that cannot', async () => {
    const body = conforms(compareResponseSchema, await s.api.client.post('/predict/compare?models=iris,nosuch', { json: { records: [SETOSA, SETOSA] } }));
    expect(body.models.map((m) => ('predictions' in m ? m.predictions.length : m.error.code))).toEqual([2, 'not_found']);
    expect(body.agreement).toEqual([
      { row: 0, agree: true, class_names: ['setosa'] },
      { row: 1, agree: true, class_names: ['setosa'] },
    ]);
    // A record the model's schema refuses: the entry carries the offending fields.
    const refused = conforms(compareResponseSchema, await s.api.client.post('/predict/compare?models=iris', { json: { ...SETOSA, sepal_length: -1 } }));
    expect(refused).toMatchObject({ models: [{ model: 'iris', error: { status: 422, code: 'validation_failed', errors: [{ field: 'sepal_length' }] } }], agreement: [], all_agree: false });
  });

  it('GET /model/trusted-eval and its per-model alias', async () => {
    const info = conforms(trustedEvalInfoSchema, await s.api.client.get('/model/trusted-eval'));
    expect(info).toMatchObject({ model: 'iris', rows: 30, set_by: { source: 'bootstrap' }, served: { correct: expect.any(Number) } });
    expect(conforms(trustedEvalInfoSchema, await s.api.client.get('/models/iris/model/trusted-eval'))).toEqual(info);
  });
});
