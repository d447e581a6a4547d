import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from '../http-client';
import { timedTrain } from './timed-train';
import { cleanIrisSamples } from '../iris-samples';
import type { OurStack } from './servers';
import { fmt, fmtMs, fmtRatio, median, percentile, say, type TargetCheck } from './util';

// Section 4: what a job costs outside the fit as the history grows. Training jobs one after
// another on a fresh stack, each 9 clean iris rows added to the bootstrap's data and each
// followed by a reset: 9 rows are below the 10-row threshold, so no evaluation slice is held
// out and the growing evaluation set stays empty, and the reset brings the training set back
// to the bootstrap's, so the data stays the same size while the history grows by two entries
// per job (most trains are activated, so activation and publishing are measured too). A
// growing overhead is then the commit's (or the history's). A job's overhead is its
// processing time as BullMQ records it (started to finished: the durable commit included)
// minus the time in the algorithm's fit.

const ROWS = 9;
/** The target: overhead after N committed jobs at most this many times the 10th job's. */
const MAX_RATIO = 1.5;
/** The windows: jobs 6..15 (around the 10th) and the last 10. */
const WINDOW = 10;
const EARLY_FROM = 6;
const WAIT_S = 30;
const PROGRESS_EVERY = 100;
/** Stop the section after this many failed jobs in a row (something is broken, not slow). */
const MAX_FAILURES_IN_A_ROW = 5;

/** One committed job, as measured. */
export interface CommitJob {
  /** 1-based position in the run. */
  n: number;
  status: string;
  /** The trainer's `duration_ms`. */
  durationMs: number;
  /** The trainer's `fit_ms`. */
  fitMs: number;
  /** `finished_at - started_at - fit_ms` (commit included; `duration_ms - fit_ms` when a timestamp is missing): the target's measure. */
  overheadMs: number;
  /** `finished_at - started_at` from the job view (BullMQ's processing time, ms resolution) minus `fit_ms`. */
  processedOverheadMs: number | undefined;
  /** Client's round trip of `POST /train` (`Prefer: wait=30`, plus a `GET /jobs/:id` if it answered 202) minus `fit_ms`. */
  roundTripOverheadMs: number;
}

/** Statistics of one window of jobs. */
export interface CommitWindow {
  label: string;
  from: number;
  to: number;
  activated: number;
  overheadMedianMs: number;
  overheadP95Ms: number;
  durationMedianMs: number;
  fitMedianMs: number;
  processedOverheadMedianMs: number;
  roundTripOverheadMedianMs: number;
}

export interface CommitSection {
  jobs: number;
  records: CommitJob[];
  activated: number;
  rejected: number;
  failed: number;
  early: CommitWindow;
  late: CommitWindow;
  /** The run in ten equal blocks (100 jobs each in a full run): the trend, less noisy than 10-job windows. */
  blocks: CommitWindow[];
  /** late / early median overhead. */
  ratio: number;
  wallMs: number;
  /** History entries on disk at the end (bootstrap included) and the size of the newest. */
  historyEntries: number | undefined;
  lastEntryBytes: number | undefined;
  firstJobEntryBytes: number | undefined;
  checks: TargetCheck[];
  note: string;
}

type Outcome = { kind: 'committed'; job: CommitJob; model: string; seq?: number } | { kind: 'failed'; detail: string };

async function oneJob(base: string, n: number, seed: number): Promise<Outcome> {
  const { view, roundTripMs, processedMs: processed } = await timedTrain(base, { samples: cleanIrisSamples(ROWS, seed) });
  if (view.state === 'failed') return { kind: 'failed', detail: String(view.error) };
  const r = view.result;
  if (!r || typeof r.duration_ms !== 'number' || typeof r.fit_ms !== 'number') return { kind: 'failed', detail: `no duration_ms/fit_ms in the result: ${JSON.stringify(r)}` };
  return {
    kind: 'committed',
    model: String(r.model),
    job: {
      n,
      status: String(r.status),
      durationMs: r.duration_ms,
      fitMs: r.fit_ms,
      overheadMs: Number.isFinite(processed) ? processed - r.fit_ms : r.duration_ms - r.fit_ms,
      processedOverheadMs: Number.isFinite(processed) ? processed - r.fit_ms : undefined,
      roundTripOverheadMs: roundTripMs - r.fit_ms,
    },
  };
}

function windowOf(records: readonly CommitJob[], label: string, from: number, to: number): CommitWindow {
  const w = records.filter((r) => r.n >= from && r.n <= to);
  const over = w.map((r) => r.overheadMs);
  return {
    label,
    from,
    to,
    activated: w.filter((r) => r.status === 'activated').length,
    overheadMedianMs: median(over),
    overheadP95Ms: percentile(over, 95),
    durationMedianMs: median(w.map((r) => r.durationMs)),
    fitMedianMs: median(w.map((r) => r.fitMs)),
    processedOverheadMedianMs: median(w.map((r) => r.processedOverheadMs).filter((v): v is number => v !== undefined)),
    roundTripOverheadMedianMs: median(w.map((r) => r.roundTripOverheadMs)),
  };
}

/** Number of history entries (`history/<seq>.json`) and the sizes of entry 2 (the first job's) and the newest. */
function historyOnDisk(dataDir: string, model: string): { entries: number; first: number | undefined; last: number | undefined } | undefined {
  const dir = join(dataDir, 'models', model, 'history');
  try {
    const names = readdirSync(dir)
      .filter((n) => /^\d{9}\.json$/.test(n))
      .sort();
    const size = (name: string | undefined) => (name ? statSync(join(dir, name)).size : undefined);
    return { entries: names.length, first: size(names[1]), last: size(names.at(-1)) };
  } catch {
    return undefined;
  }
}

export async function runCommitSection(opts: { quick: boolean; stack: OurStack }): Promise<CommitSection> {
  const jobs = opts.quick ? 100 : 1000;
  const lateFrom = jobs - WINDOW + 1;
  const earlyTo = EARLY_FROM + WINDOW - 1;
  say(
    `\n== 4. Commit cost: ${fmt(jobs)} training jobs one after the other (${ROWS} clean iris rows each, incremental, each followed by a reset; Prefer: wait=${WAIT_S}) on a fresh stack; ` +
      `only the history grows; overhead = started-to-finished (commit included) - fit_ms, jobs ${EARLY_FROM}..${earlyTo} vs ${lateFrom}..${jobs} ==`,
  );
  const target = await opts.stack.ensure({});
  const base = target.baseUrl;
  const records: CommitJob[] = [];
  let failed = 0;
  let failedInARow = 0;
  let model = 'iris';
  const t0 = performance.now();
  for (let n = 1; n <= jobs; n++) {
    const out = await oneJob(base, n, 20_000 + n);
    // Back to the bootstrap's data: the next job starts from the same rows (a committed job too).
    const reset = await request(base, 'DELETE', '/model/history', undefined, { Prefer: `wait=${WAIT_S}` });
    if (reset.status !== 200) throw new Error(`reset answered ${reset.status}: ${JSON.stringify(reset.body)}`);
    if (out.kind === 'failed') {
      failed++;
      failedInARow++;
      say(`  job ${n}: failed: ${out.detail}`);
      if (failedInARow >= MAX_FAILURES_IN_A_ROW) throw new Error(`${failedInARow} jobs failed in a row; the last: ${out.detail}`);
    } else {
      failedInARow = 0;
      model = out.model;
      records.push(out.job);
    }
    if (n % PROGRESS_EVERY === 0 || n === jobs) {
      const last = records.filter((r) => r.n > n - PROGRESS_EVERY);
      say(
        `  ${fmt(n)}/${fmt(jobs)} jobs (${fmt((performance.now() - t0) / 1000, 1)} s): ${records.filter((r) => r.status === 'activated').length} activated, ` +
          `${records.filter((r) => r.status === 'rejected').length} rejected, ${failed} failed; last ${last.length}: overhead p50 ${fmtMs(median(last.map((r) => r.overheadMs)))}, ` +
          `duration p50 ${fmtMs(median(last.map((r) => r.durationMs)))}, fit p50 ${fmtMs(median(last.map((r) => r.fitMs)))}, ` +
          `started-to-finished minus fit p50 ${fmtMs(median(last.map((r) => r.processedOverheadMs ?? NaN).filter(Number.isFinite)))}, round trip minus fit p50 ${fmtMs(median(last.map((r) => r.roundTripOverheadMs)))}`,
      );
    }
  }
  const wallMs = performance.now() - t0;
  const disk = historyOnDisk(opts.stack.dataDir, model);
  const early = windowOf(records, `jobs ${EARLY_FROM}-${earlyTo}`, EARLY_FROM, earlyTo);
  const late = windowOf(records, `jobs ${lateFrom}-${jobs}`, lateFrom, jobs);
  const size = Math.max(1, Math.floor(jobs / 10));
  const blocks = Array.from({ length: Math.ceil(jobs / size) }, (_, b) => windowOf(records, `jobs ${b * size + 1}-${Math.min(jobs, (b + 1) * size)}`, b * size + 1, Math.min(jobs, (b + 1) * size)));
  const ratio = late.overheadMedianMs / early.overheadMedianMs;
  const activated = records.filter((r) => r.status === 'activated').length;
  const rejected = records.filter((r) => r.status === 'rejected').length;
  for (const w of [early, late]) {
    say(
      `  ${w.label}: overhead p50 ${fmtMs(w.overheadMedianMs)}, p95 ${fmtMs(w.overheadP95Ms)} (duration p50 ${fmtMs(w.durationMedianMs)}, fit p50 ${fmtMs(w.fitMedianMs)}; ` +
        `started-to-finished minus fit p50 ${fmtMs(w.processedOverheadMedianMs)}; round trip minus fit p50 ${fmtMs(w.roundTripOverheadMedianMs)}; ${w.activated} activated)`,
    );
  }
  say(`  ratio (jobs ${lateFrom}-${jobs} / jobs ${EARLY_FROM}-${earlyTo}): ${fmtRatio(ratio)}; ${activated} activated, ${rejected} rejected, ${failed} failed; wall time ${fmtMs(wallMs)}`);
  if (disk) say(`  history on disk: ${fmt(disk.entries)} entries (bootstrap included); first job's entry ${fmt(disk.first)} bytes, newest ${fmt(disk.last)} bytes`);
  const committed = records.length;
  const measured = Number.isFinite(ratio);
  const checks: TargetCheck[] = [
    {
      section: 'commit',
      target: `job time outside the fit (commit included) after ${fmt(jobs * 2)} committed jobs ≤ ${MAX_RATIO}x the 10th job's`,
      measured: measured
        ? `median ${fmtMs(late.overheadMedianMs)} (jobs ${lateFrom}-${jobs}) vs ${fmtMs(early.overheadMedianMs)} (jobs ${EARLY_FROM}-${earlyTo}): ${fmtRatio(ratio)}; ` +
          `p95 ${fmtMs(late.overheadP95Ms)} vs ${fmtMs(early.overheadP95Ms)}${failed ? `; ${failed} job(s) failed` : ''}`
        : 'not enough committed jobs',
      met: measured ? ratio <= MAX_RATIO : null,
    },
  ];
  const note =
    `${fmt(jobs)} training jobs and as many resets in ${fmtMs(wallMs)}; ${fmt(committed)} training jobs committed (${activated} activated, ${rejected} rejected), ${failed} failed` +
    (disk ? `; ${fmt(disk.entries)} history entries on disk at the end (bootstrap included), the first job's ${fmt(disk.first)} bytes and the newest ${fmt(disk.last)} bytes` : '');
  return {
    jobs,
    records,
    activated,
    rejected,
    failed,
    early,
    late,
    blocks,
    ratio,
    wallMs,
    historyEntries: disk?.entries,
    firstJobEntryBytes: disk?.first,
    lastEntryBytes: disk?.last,
    checks,
    note,
  };
}
