import { createRng } from '@ct/core';
import { parseArgs } from 'node:util';
import { request, waitForJob } from './http-client';

// `npm run demo -- [--url URL] [--reset]`: drives a running stack through the product's
// promise and exits non-zero if any outcome differs from what it expects.

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;
// Typical flowers of each species (means of the Iris data, rounded).
const CENTRES = [
  [5.0, 3.4, 1.46, 0.25],
  [5.94, 2.77, 4.26, 1.33],
  [6.59, 2.97, 5.55, 2.03],
];

type Row = Record<(typeof FEATURES)[number], number>;
const round1 = (v: number) => Math.round(v * 10) / 10;

/** Correctly labeled flowers: small jitter around each species' centre. */
function cleanSamples(n: number, seed: number): (Row & { label: number })[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % 3;
    const c = CENTRES[label] as number[];
    const row = Object.fromEntries(FEATURES.map((f, j) => [f, Math.max(0.1, round1((c[j] as number) + rng.normal() * 0.1))])) as Row;
    return { ...row, label };
  });
}

/** Noise: plausible measurements with random labels. */
function noisySamples(n: number, seed: number): (Row & { label: number })[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const row = {
      sepal_length: round1(4.3 + rng.next() * 3.6),
      sepal_width: round1(2.0 + rng.next() * 2.4),
      petal_length: round1(1.0 + rng.next() * 5.9),
      petal_width: round1(0.1 + rng.next() * 2.4),
    };
    return { ...row, label: rng.int(3) };
  });
}

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
  const { values } = parseArgs({ options: { url: { type: 'string', default: 'http://127.0.0.1:8000' }, reset: { type: 'boolean', default: false } } });
  const base = values.url;
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
  const flower = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
  const p = await request(base, 'POST', '/predict', flower);
  console.log(`  ${p.status} ${JSON.stringify(flower)} -> ${p.body?.class_name} (p=${Math.max(...(p.body?.probabilities ?? [0])).toFixed(3)}) by ${p.body?.model_version}`);
  expect('a setosa is predicted as setosa', p.status === 200 && p.body.class_name === 'setosa');

  console.log('4. POST /train with 30 correctly labeled samples (incremental)');
  const good = await runJob(base, 'POST', '/train', { samples: cleanSamples(30, 7) });
  console.log(`  ${good.status}: ${good.message}`);
  console.log(`  paired: only champion right ${good.paired?.only_champion_correct}, only challenger right ${good.paired?.only_challenger_correct}, McNemar p=${good.paired?.mcnemar_p_value}`);
  expect('correct samples are activated', good.status === 'activated');

  console.log('5. POST /train with 30 noisy samples (random labels, from scratch)');
  const bad = await runJob(base, 'POST', '/train', { samples: noisySamples(30, 11), retrain_from_scratch: true });
  console.log(`  ${bad.status}: ${bad.message}`);
  for (const v of bad.violations ?? []) console.log(`  violation ${v.code}: ${v.message}`);
  expect('noisy samples are rejected', bad.status === 'rejected');

  console.log('6. GET /model/info');
  const info = await request(base, 'GET', '/model/info');
  console.log(
    `  ${info.status} active_version=${info.body?.active_version} accuracy=${info.body?.accuracy} n_training_samples=${info.body?.n_training_samples} algorithm=${info.body?.algorithm} history=${info.body?.history?.length} entries`,
  );
  expect('the correct batch is the active version', info.body?.active_version === good.model_version);

  console.log(failures.length === 0 ? 'demo passed' : `demo FAILED: ${failures.join('; ')}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
