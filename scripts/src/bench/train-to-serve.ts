import { performance } from 'node:perf_hooks';
import { request } from '../http-client';
import { cleanIrisSamples, SETOSA } from '../iris-samples';
import type { OurStack } from './servers';
import { fmt, fmtMs, median, percentile, say, sleep, type TargetCheck } from './util';

// Section 3: from POST /train (10 clean iris rows, incremental, any_improvement) to the first
// POST /predict answered by the new version, job after job.

const P50_TARGET_MS = 100;
const BATCH_ROWS = 10;
const POLL_MS = 2;
/** Every this many /predict polls, one GET /jobs/:id to notice a rejected or failed job early. */
const JOB_CHECK_EVERY = 10;
const DEADLINE_MS = 30_000;

export interface ServeSection {
  jobs: number;
  latenciesMs: number[];
  /** The trainer's own duration_ms of each activated job (fit, gate, publish). */
  jobDurationsMs: number[];
  rejected: number;
  failed: number;
  timedOut: number;
  polls: number;
  checks: TargetCheck[];
  note: string;
}

type JobOutcome = { kind: 'served'; ms: number; jobMs: number | undefined; polls: number } | { kind: 'rejected' | 'failed' | 'timeout'; detail: string; polls: number };

/** `GET /jobs/:id` answers that said `completed` with a null `result` (counted, reported). */
let completedWithoutResult = 0;

/**
 * The job's outcome once it is really over: `failed`, or `completed` with its result. A
 * `completed` view whose `result` is still null is treated as not finished yet (the job view
 * may read the state after the job and its return value, see the report).
 */
async function finished(base: string, jobId: string): Promise<{ state: 'failed'; error: string } | { state: 'completed'; result: any } | undefined> {
  const job = await request(base, 'GET', `/jobs/${encodeURIComponent(jobId)}`);
  if (job.status !== 200) throw new Error(`GET /jobs/${jobId} answered ${job.status}`);
  if (job.body.state === 'failed') return { state: 'failed', error: String(job.body.error) };
  if (job.body.state === 'completed' && job.body.result) return { state: 'completed', result: job.body.result };
  if (job.body.state === 'completed') completedWithoutResult++;
  return undefined;
}

async function oneJob(base: string, seed: number): Promise<JobOutcome> {
  const before = await request(base, 'POST', '/predict', SETOSA);
  if (before.status !== 200) throw new Error(`POST /predict answered ${before.status}`);
  const oldVersion = before.body.model_version as string;
  const samples = cleanIrisSamples(BATCH_ROWS, seed, 0.08);

  const t0 = performance.now();
  const sent = await request(base, 'POST', '/train', { samples, policy: { name: 'any_improvement' } });
  if (sent.status !== 202 && sent.status !== 200) throw new Error(`POST /train answered ${sent.status}: ${JSON.stringify(sent.body)}`);
  const jobId = sent.body.job_id as string;
  // When each version other than the old one was first answered, in ms since t0.
  const firstSeen = new Map<string, number>();
  let outcome: Awaited<ReturnType<typeof finished>>;
  let polls = 0;
  for (;;) {
    const r = await request(base, 'POST', '/predict', SETOSA);
    const at = performance.now() - t0;
    polls++;
    const version = r.body?.model_version as string | undefined;
    const isNew = r.status === 200 && version !== undefined && version !== oldVersion && !firstSeen.has(version);
    if (isNew) firstSeen.set(version, at);
    // The job's own word on which version it activated (a new version alone could be another writer's).
    if (!outcome && (isNew || polls % JOB_CHECK_EVERY === 0)) outcome = await finished(base, jobId);
    if (outcome?.state === 'failed') return { kind: 'failed', detail: outcome.error, polls };
    if (outcome?.state === 'completed') {
      const result = outcome.result;
      if (result.status !== 'activated') return { kind: 'rejected', detail: String(result.message ?? result.reason ?? result.status), polls };
      const ms = firstSeen.get(result.model_version);
      if (ms !== undefined) return { kind: 'served', ms, jobMs: typeof result.duration_ms === 'number' ? result.duration_ms : undefined, polls };
    }
    if (performance.now() - t0 > DEADLINE_MS) return { kind: 'timeout', detail: `version ${outcome?.state === 'completed' ? outcome.result.model_version : '(job not finished)'} not served within ${DEADLINE_MS / 1000} s`, polls };
    await sleep(POLL_MS);
  }
}

export async function runServeSection(opts: { quick: boolean; stack: OurStack }): Promise<ServeSection> {
  const jobs = opts.quick ? 10 : 50;
  say(`\n== 3. Train-to-serve: POST /train (${BATCH_ROWS} clean iris rows, incremental, any_improvement) to the first /predict answered by the new version; ${jobs} jobs one after the other, /predict polled every ${POLL_MS} ms ==`);
  const target = await opts.stack.ensure({});
  const latenciesMs: number[] = [];
  const jobDurationsMs: number[] = [];
  let rejected = 0;
  let failed = 0;
  let timedOut = 0;
  let polls = 0;
  for (let i = 0; i < jobs; i++) {
    const out = await oneJob(target.baseUrl, 1000 + i);
    polls += out.polls;
    if (out.kind === 'served') {
      latenciesMs.push(out.ms);
      if (out.jobMs !== undefined) jobDurationsMs.push(out.jobMs);
    } else {
      if (out.kind === 'rejected') rejected++;
      else if (out.kind === 'failed') failed++;
      else timedOut++;
      say(`  job ${i + 1}: ${out.kind}: ${out.detail}`);
    }
    if ((i + 1) % 10 === 0 || i + 1 === jobs) say(`  ${i + 1}/${jobs} jobs: ${latenciesMs.length} served, p50 so far ${fmtMs(median(latenciesMs))}`);
  }
  const p50 = median(latenciesMs);
  const p95 = percentile(latenciesMs, 95);
  say(`  train-to-serve over ${latenciesMs.length} activated jobs: p50 ${fmtMs(p50)}, p95 ${fmtMs(p95)}, min ${fmtMs(Math.min(...latenciesMs))}, max ${fmtMs(Math.max(...latenciesMs))}; trainer's job duration p50 ${fmtMs(median(jobDurationsMs))}`);
  say(`  excluded: ${rejected} rejected, ${failed} failed, ${timedOut} timed out`);
  const checks: TargetCheck[] = [
    {
      section: 'serve',
      target: `train-to-serve p50 < ${P50_TARGET_MS} ms`,
      measured: latenciesMs.length ? `p50 ${fmtMs(p50)}, p95 ${fmtMs(p95)} over ${latenciesMs.length} activated jobs${rejected + failed + timedOut ? ` (${rejected} rejected, ${failed} failed, ${timedOut} timed out: excluded)` : ''}` : 'no job was activated',
      met: latenciesMs.length ? p50 < P50_TARGET_MS : false,
    },
  ];
  const anomaly = completedWithoutResult
    ? `; ${completedWithoutResult} \`GET /jobs/:id\` answer(s) said \`state: "completed"\` with \`result: null\` (asked again until the result came)`
    : '';
  if (completedWithoutResult) say(`  note: ${completedWithoutResult} GET /jobs/:id answer(s) said state "completed" with result null`);
  const note = `${jobs} jobs, ${fmt(polls)} /predict polls in all${anomaly}`;
  return { jobs, latenciesMs, jobDurationsMs, rejected, failed, timedOut, polls, checks, note };
}
