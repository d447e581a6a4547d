/**
 * Prometheus metrics from a real stack: the API's /metrics (open, text format) with request
 * durations by route template (never the raw URL), predictions by model, version and class,
 * queue depth, live quality and drift; the trainer's job durations and gate decisions.
 */
import { SETOSA, startStack, TEST_TOKENS, type Stack } from './helpers/harness';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

/** The value of the sample `name{labels}` (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('the API exports request durations by route template, predictions by class, queue depth, live quality and drift', async () => {
  const { client } = stack.api;
  const p = await client.post('/predict', { json: { records: [SETOSA, SETOSA, SETOSA] }, token: null });
  const version = p.body.model_version as string;
  await client.get(`/models/iris/versions/${version}`);
  await client.get('/models/iris/versions/v9.0-000000');
  await client.get('/no/such/path/at-all');
  await stack.api.predictions.flush();
  await client.post('/models/iris/feedback', { json: { prediction_id: p.body.predictions[0].prediction_id, label: 'setosa' }, token: TEST_TOKENS.client });

  const r = await client.get('/metrics', { token: null });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = r.text;
  expect(text).toContain('process_cpu_user_seconds_total');
  expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/predict', status_code: '200' })).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/models/:model/versions/:version', status_code: '200' })).toBe(1);
  expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/models/:model/versions/:version', status_code: '404' })).toBe(1);
  expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
  // Never the raw URL: no version id, no unknown path in any label.
  expect(text).not.toContain('v9.0-000000');
  expect(text).not.toContain('/no/such/path');
  expect(sample(text, 'ct_predictions_total', { model: 'iris', version, class: 'setosa' })).toBeGreaterThanOrEqual(3);
  expect(sample(text, 'ct_queue_jobs', { model: 'iris', state: 'waiting' })).toBe(0);
  expect(sample(text, 'ct_feedback_labels', { model: 'iris', version })).toBe(1);
  expect(sample(text, 'ct_live_accuracy', { model: 'iris', version })).toBe(1);
  // Three setosas against the training rows: drift of the petals at least (KS, p < 0.05).
  const share = sample(text, 'ct_drift_share', { model: 'iris', version }) as number;
  expect(share).toBeGreaterThan(0);
  expect(sample(text, 'ct_drift_detected', { model: 'iris', version })).toBe(share >= 0.5 ? 1 : 0);
});

test('the trainer exports job durations and outcomes, and the gate decisions with their violation codes', async () => {
  const { client } = stack.api;
  const samples = [0, 1, 2, 3, 4, 5].map((i) => ({ ...SETOSA, sepal_length: 5 + i / 10, label: i % 3 }));
  const done = await client.post('/train', { json: { samples, policy: { name: 'any_improvement' } }, headers: { prefer: 'wait=30' } });
  const outcome = done.body.result.status as string;
  const text = await stack.trainer.metrics.registry.metrics();
  expect(sample(text, 'ct_job_duration_seconds_count', { model: 'iris', kind: 'train', outcome })).toBe(1);
  expect(sample(text, 'ct_gate_decisions_total', { model: 'iris', outcome })).toBe(1);
  for (const v of done.body.result.violations as { code: string }[]) expect(sample(text, 'ct_gate_violations_total', { model: 'iris', code: v.code })).toBeGreaterThanOrEqual(1);
});
