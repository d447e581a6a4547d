import { parseArgs } from 'node:util';
import { adminToken } from './api-token';
import { request, UnreachableError, useToken, waitForJob } from './http-client';
import { cleanIrisSamples, noisyIrisSamples, SETOSA } from './iris-samples';
import { GENTOO, PENGUIN_BATCH } from './penguin-samples';

// `npm run demo -- [--url URL] [--reset]`: drives a running stack through the product's
// promise and exits non-zero if any outcome differs from what it expects.

/** The stack's URL when `--url` is not given: the port `npm start` uses, `PORT` or 8000. */
function defaultUrl(): string {
  const port = Number(process.env.PORT);
  // PORT=0 lets the API pick any port, which only its log tells: then --url is needed.
  return `http://127.0.0.1:${Number.isInteger(port) && port > 0 && port < 65536 ? port : 8000}`;
}

const USAGE = `usage: npm run demo -- [--url URL] [--token TOKEN] [--reset]

Drives a running stack (start one with \`npm start\`): health, a prediction, a batch of
correctly labeled samples (expected: activated), a batch of noisy ones (expected: rejected),
the model's info; then the penguin models: the list, three of them compared on one penguin,
a batch trained, rolled back, and the activation timeline. Exits 1 if an outcome differs, 2
on a bad option.

  --url URL   the API (default ${defaultUrl()}: the PORT environment variable, else 8000)
  --token T   an admin token (default: CT_ADMIN_TOKEN, else the one the API made on first
              start in data/secrets/admin-token)
  --reset     first reset the model to its bootstrap version (the history is kept)
  -h, --help  this text`;

/** A bad option: printed with the usage, exit code 2. */
class UsageError extends Error {}

function progressBar(job: { state: string; progress?: { percent?: number; stage?: string } }): void {
  const pct = typeof job.progress === 'object' && job.progress ? (job.progress.percent ?? 0) : 0;
  const width = 24;
  const filled = Math.round((pct / 100) * width);
  const line = `  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${job.progress?.stage ?? job.state}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
  else if (job.state === 'completed' || job.state === 'failed') process.stdout.write(`${line}\n`);
}

async function runJob(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const sent = await request(base, method, path, body);
  if (sent.status !== 202 && sent.status !== 200) throw new Error(`${method} ${path} answered ${sent.status}: ${JSON.stringify(sent.body)}`);
  console.log(`  ${sent.status} job ${sent.body.job_id} -> ${sent.headers.get('location')}`);
  const job = await waitForJob(base, sent.body.job_id, progressBar);
  if (process.stdout.isTTY) process.stdout.write('\n');
  if (job.state !== 'completed') throw new Error(`job ${job.job_id} failed: ${job.error}`);
  return job.result;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { url: { type: 'string', default: defaultUrl() }, token: { type: 'string' }, reset: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const base = values.url;
  useToken(adminToken(values.token));
  const failures: string[] = [];
  const expect = (what: string, ok: boolean) => {
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) failures.push(what);
  };

  console.log(`1. GET ${base}/health`);
  const health = await request(base, 'GET', '/health');
  console.log(`  ${health.status} status=${health.body?.status} model_version=${health.body?.model_version} redis=${health.body?.redis?.reachable}`);
  expect('the API is serving', health.status === 200);
  if (health.status !== 200) return 1;

  if (values.reset) {
    console.log('2. DELETE /model/history (reset to the bootstrap version)');
    const r = await runJob(base, 'DELETE', '/model/history');
    console.log(`  ${r.message}`);
    expect('reset activated the bootstrap version', r.status === 'activated');
  } else {
    console.log('2. (no --reset: starting from the current version)');
  }

  console.log('3. POST /predict');
  const flower = SETOSA;
  const p = await request(base, 'POST', '/predict', flower);
  console.log(`  ${p.status} ${JSON.stringify(flower)} -> ${p.body?.class_name} (p=${Math.max(...(p.body?.probabilities ?? [0])).toFixed(3)}) by ${p.body?.model_version}`);
  expect('a setosa is predicted as setosa', p.status === 200 && p.body.class_name === 'setosa');

  console.log('4. POST /train with 30 correctly labeled samples (incremental)');
  const good = await runJob(base, 'POST', '/train', { samples: cleanIrisSamples(30, 7) });
  console.log(`  ${good.status}: ${good.message}`);
  console.log(`  paired: only champion right ${good.paired?.only_champion_correct}, only challenger right ${good.paired?.only_challenger_correct}, McNemar p=${good.paired?.mcnemar_p_value}`);
  expect('correct samples are activated', good.status === 'activated');

  console.log('5. POST /train with 30 noisy samples (random labels, from scratch)');
  const bad = await runJob(base, 'POST', '/train', { samples: noisyIrisSamples(30, 11), retrain_from_scratch: true });
  console.log(`  ${bad.status}: ${bad.message}`);
  for (const v of bad.violations ?? []) console.log(`  violation ${v.code}: ${v.message}`);
  expect('noisy samples are rejected', bad.status === 'rejected');

  console.log('6. GET /model/info');
  const info = await request(base, 'GET', '/model/info');
  console.log(
    `  ${info.status} active_version=${info.body?.active_version} accuracy=${info.body?.accuracy} n_training_samples=${info.body?.n_training_samples} algorithm=${info.body?.algorithm} history=${info.body?.history?.length} entries`,
  );
  expect('the correct batch is the active version', info.body?.active_version === good.model_version);

  await penguins(base, expect);
  await feedbackLoop(base, expect);

  console.log(`Dashboard: open ${new URL('/ui', base).href} (paste an admin token to roll back from it); metrics at ${new URL('/metrics', base).href}`);
  console.log(failures.length === 0 ? 'demo passed' : `demo FAILED: ${failures.join('; ')}`);
  return failures.length === 0 ? 0 : 1;
}

/** Steps 7 to 11: several models behind one API, compared, trained, rolled back. */
async function penguins(base: string, expect: (what: string, ok: boolean) => void): Promise<void> {
  console.log('7. GET /models');
  const list = await request(base, 'GET', '/models');
  for (const m of list.body?.models ?? []) {
    const acc = m.metrics?.accuracy;
    console.log(`  ${m.name.padEnd(16)} ${String(m.algorithm).padEnd(20)} ${m.active_version ?? '(no version yet)'}${typeof acc === 'number' ? ` accuracy ${acc.toFixed(4)}` : ''}`);
  }
  const names = (list.body?.models ?? []).map((m: { name: string }) => m.name);
  expect('iris and three penguin models are listed', ['iris', 'penguins', 'penguins-logreg', 'penguins-knn'].every((n) => names.includes(n)));

  console.log('8. POST /predict/compare?models=penguins,penguins-logreg,penguins-knn');
  const cmp = await request(base, 'POST', '/predict/compare?models=penguins,penguins-logreg,penguins-knn', GENTOO);
  for (const m of cmp.body?.models ?? []) {
    if (m.error) console.log(`  ${m.model}: ${m.error.code} ${m.error.detail}`);
    else console.log(`  ${m.model.padEnd(16)} ${m.model_version} -> ${m.predictions[0].class_name} (p=${Math.max(...m.predictions[0].probabilities).toFixed(3)})`);
  }
  expect('three penguin models agree: a Gentoo', cmp.status === 200 && cmp.body.all_agree === true && cmp.body.agreement[0]?.class_names[0] === 'Gentoo');

  console.log(`9. POST /models/penguins-logreg/train with ${PENGUIN_BATCH.length} penguins (labels by species name)`);
  const before = (await request(base, 'GET', '/models/penguins-logreg')).body?.active_version as string | undefined;
  const trained = await runJob(base, 'POST', '/models/penguins-logreg/train', { samples: PENGUIN_BATCH });
  console.log(`  ${trained.status}: ${trained.message}`);
  expect('the penguin batch is decided by the gate', trained.status === 'activated' || trained.status === 'rejected');

  console.log(`10. POST /models/penguins-logreg/rollback to ${before}`);
  const rolled = await runJob(base, 'POST', '/models/penguins-logreg/rollback', { version: before, reason: 'demo: back to the version before the batch' });
  console.log(`  ${rolled.message}`);
  expect('the version before the batch is active again', rolled.active_version === before);

  console.log('11. GET /models/penguins-logreg/activations');
  const timeline = await request(base, 'GET', '/models/penguins-logreg/activations?limit=3');
  for (const a of timeline.body?.activations ?? []) console.log(`  ${a.version} ${a.source.padEnd(9)} from ${a.from} to ${a.to ?? 'now'}: ${a.reason}`);
  expect('the timeline shows the rollback', timeline.body?.activations?.[0]?.source === 'rollback' || trained.status === 'rejected');
}

/** Steps 12 to 14: feedback on served predictions, live quality and drift, the automatic actions. */
async function feedbackLoop(base: string, expect: (what: string, ok: boolean) => void): Promise<void> {
  const flowers = cleanIrisSamples(30, 7);
  console.log(`12. POST /predict with ${flowers.length} flowers, then POST /models/iris/feedback with their true classes`);
  const answer = await request(base, 'POST', '/predict', { records: flowers.map(({ label: _label, ...row }) => row) });
  const ids: string[] = (answer.body?.predictions ?? []).map((p: { prediction_id: string }) => p.prediction_id);
  // The index is written off the hot path, within a tenth of a second: labels sent before
  // then are a 404, so those are sent again until a deadline.
  const items = ids.map((id, i) => ({ prediction_id: id, label: flowers[i]?.label }));
  let fb = await request(base, 'POST', '/models/iris/feedback', { items });
  const unindexed = (): boolean => fb.status === 200 && fb.body.results.some((r: { status: string }) => r.status === 'not_found');
  for (const deadline = Date.now() + 5000; unindexed() && Date.now() < deadline; ) {
    // Polled every 100 ms: well inside the training budget (CT_RATE_TRAIN) feedback draws on.
    await new Promise((r) => setTimeout(r, 100));
    fb = await request(base, 'POST', '/models/iris/feedback', { items });
  }
  console.log(`  ${fb.status} recorded=${fb.body?.recorded} replaced=${fb.body?.replaced} failed=${fb.body?.failed}`);
  expect('every label found its prediction', fb.status === 200 && fb.body?.recorded + fb.body?.replaced === flowers.length);

  console.log('13. GET /models/iris/quality and /models/iris/drift');
  const q = await request(base, 'GET', '/models/iris/quality');
  for (const v of q.body?.versions ?? []) {
    const f = v.feedback;
    const acc = f.accuracy === null ? 'no labels' : `accuracy ${f.accuracy.toFixed(3)} [${f.interval.low.toFixed(3)}, ${f.interval.high.toFixed(3)}] on ${f.n} labels, coverage ${(f.coverage ?? 0).toFixed(2)}`;
    console.log(`  ${v.version}${v.active ? ' (active)' : ''}: ${v.predictions} predictions in the last ${q.body.window.seconds} s, ${acc}`);
  }
  const d = await request(base, 'GET', '/models/iris/drift');
  for (const f of d.body?.features ?? []) console.log(`  ${f.feature.padEnd(13)} ${f.test} statistic ${Number(f.statistic).toFixed(3)} p ${f.pValue === null ? '-' : Number(f.pValue).toPrecision(3)} ${f.drifted ? 'DRIFT' : 'ok'}`);
  console.log(`  model: ${d.body?.drift ? `${d.body.drift.driftedFeatures}/${d.body.drift.features} features drifted -> ${d.body.drift.drifted ? 'drift' : 'no drift'}` : d.body?.note}`);
  expect('live quality and drift answer', q.status === 200 && d.status === 200);

  console.log('14. PUT /models/iris/automation: retrain after 500 labeled rows, roll back a worse promotion');
  const auto = await request(base, 'PUT', '/models/iris/automation', { retrain_after_rows: 500, auto_rollback: { alpha: 0.05, min_samples: 50 } }, {});
  console.log(`  ${auto.status} ${JSON.stringify(auto.body)}`);
  expect('automation configured', auto.status === 200);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`demo: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (err instanceof UnreachableError) {
      console.error(`demo: ${err.message}.\nIs the stack running? Start it with \`npm start\` (in another terminal), or pass --url URL to reach the API where it runs.`);
    } else {
      console.error(`demo error: ${err instanceof Error ? err.message : String(err)}`);
    }
    process.exit(1);
  },
);
