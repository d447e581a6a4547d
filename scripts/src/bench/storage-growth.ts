import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { timedTrain } from './timed-train';
import { cleanIrisSamples } from '../iris-samples';
import type { OurStack } from './servers';
import { fmt, fmtMs, fmtRatio, median, say, sleep, type TargetCheck } from './util';

// Section 5: what a job costs, in time outside the fit and in bytes written, as the training
// data, the growing evaluation set and the history grow as in real use. Training jobs one after
// another on a fresh stack, each 10 correctly labeled iris rows (a different seed each,
// incremental, no reset), so most are accepted and each accepted batch adds its rows to the
// training data and its held-out slice to the growing evaluation set. Per job: the time
// outside the fit as in section 4 (the job view's `finished_at - started_at` minus `fit_ms`)
// and what it wrote under `models/<model>/` (the trainer is its only writer): the folder's
// growth (sum of file sizes, recursively, before vs after the job, once the folder has stopped
// changing), the bytes of new or rewritten files, and the sizes of the job's history entry and
// version folder.

const ROWS = 10;
/** The target: time outside the fit and bytes written after N jobs at most this many times the 10th job's. */
const MAX_RATIO = 1.5;
/** The windows: jobs 6..15 (around the 10th) and the last 10. */
const WINDOW = 10;
const EARLY_FROM = 6;
const WAIT_S = 30;
const PROGRESS_EVERY = 100;
const MAX_FAILURES_IN_A_ROW = 5;
/** After a job's view says finished: re-read the folder every SETTLE_MS until two reads agree (at most SETTLE_TRIES times). */
const SETTLE_MS = 25;
const SETTLE_TRIES = 80;

interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}
type Snapshot = Map<string, FileStamp>;

/** One job, as measured. */
export interface StorageJob {
  n: number;
  status: string;
  version: string;
  fitMs: number;
  /** `finished_at - started_at - fit_ms` (`duration_ms - fit_ms` when a timestamp is missing). */
  overheadMs: number;
  /** Growth of the model folder across the job (sum of file sizes after minus before). */
  grownBytes: number;
  /** Sum of the sizes of the files that are new or changed (size, mtime or inode) after the job. */
  writtenBytes: number;
  newFiles: number;
  /** Growth per top-level entry of the model folder (`history`, `versions`, `segments`, `model_active.json`, ...). */
  grownBy: Record<string, number>;
  /** Size of the newest `history/<seq>.json` after the job (the job's own entry). */
  historyEntryBytes: number | undefined;
  /** Sum of the file sizes under `versions/<model_version>/`. */
  versionBytes: number | undefined;
  dataJsonBytes: number | undefined;
  modelJsonBytes: number | undefined;
  /** Whole folder after the job. */
  folderBytes: number;
  folderFiles: number;
}

export interface StorageWindow {
  label: string;
  from: number;
  to: number;
  accepted: number;
  rejected: number;
  overheadMedianMs: number;
  fitMedianMs: number;
  grownMedianBytes: number;
  writtenMedianBytes: number;
  historyEntryMedianBytes: number;
  dataJsonMedianBytes: number;
  modelJsonMedianBytes: number;
  /** Median growth per top-level entry of the folder. */
  grownByMedian: Record<string, number>;
}

export interface StorageSection {
  jobs: number;
  records: StorageJob[];
  accepted: number;
  rejected: number;
  failed: number;
  early: StorageWindow;
  late: StorageWindow;
  blocks: StorageWindow[];
  overheadRatio: number;
  bytesRatio: number;
  writtenRatio: number;
  wallMs: number;
  folderBytesAtEnd: number | undefined;
  folderFilesAtEnd: number | undefined;
  /** The job-10 and last-job records, for "what grows". */
  tenth: StorageJob | undefined;
  last: StorageJob | undefined;
  checks: TargetCheck[];
  note: string;
}

/** Every file under `dir`, recursively, by path relative to it (an empty map when it does not exist). */
function snapshot(dir: string): Snapshot {
  const out: Snapshot = new Map();
  const walk = (rel: string) => {
    let names;
    try {
      names = readdirSync(join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const r = rel ? `${rel}${sep}${d.name}` : d.name;
      if (d.isDirectory()) walk(r);
      else {
        try {
          const s = statSync(join(dir, r));
          out.set(r, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
        } catch {
          // removed between readdir and stat (a temp file renamed away): not there
        }
      }
    }
  };
  walk('');
  return out;
}

const total = (s: Snapshot): number => [...s.values()].reduce((a, f) => a + f.size, 0);
const same = (a: Snapshot, b: Snapshot): boolean => a.size === b.size && [...a].every(([p, f]) => { const g = b.get(p); return g !== undefined && g.size === f.size && g.mtimeMs === f.mtimeMs && g.ino === f.ino; });

/** The folder once it has stopped changing (two reads SETTLE_MS apart agree), and whether it did. */
async function settled(dir: string): Promise<{ snap: Snapshot; stable: boolean }> {
  let prev = snapshot(dir);
  for (let i = 0; i < SETTLE_TRIES; i++) {
    await sleep(SETTLE_MS);
    const next = snapshot(dir);
    if (same(prev, next)) return { snap: next, stable: true };
    prev = next;
  }
  return { snap: prev, stable: false };
}

function sizeOf(s: Snapshot, rel: string): number | undefined {
  return s.get(rel)?.size;
}

function measureWrites(before: Snapshot, after: Snapshot, version: string): Omit<StorageJob, 'n' | 'status' | 'version' | 'fitMs' | 'overheadMs'> {
  let written = 0;
  let newFiles = 0;
  const grownBy: Record<string, number> = {};
  const top = (p: string) => p.split(sep)[0] as string;
  for (const [p, f] of after) {
    const b = before.get(p);
    if (!b) newFiles++;
    if (!b || b.size !== f.size || b.mtimeMs !== f.mtimeMs || b.ino !== f.ino) written += f.size;
    grownBy[top(p)] = (grownBy[top(p)] ?? 0) + f.size - (b?.size ?? 0);
  }
  for (const [p, b] of before) if (!after.has(p)) grownBy[top(p)] = (grownBy[top(p)] ?? 0) - b.size;
  const history = [...after.keys()].filter((p) => p.startsWith(`history${sep}`) && /\d+\.json$/.test(p)).sort().at(-1);
  const vdir = `versions${sep}${version}${sep}`;
  const vfiles = [...after].filter(([p]) => p.startsWith(vdir));
  return {
    grownBytes: total(after) - total(before),
    writtenBytes: written,
    newFiles,
    grownBy,
    historyEntryBytes: history ? sizeOf(after, history) : undefined,
    versionBytes: vfiles.length ? vfiles.reduce((a, [, f]) => a + f.size, 0) : undefined,
    dataJsonBytes: sizeOf(after, `${vdir}data.json`),
    modelJsonBytes: sizeOf(after, `${vdir}model.json`),
    folderBytes: total(after),
    folderFiles: after.size,
  };
}

type Outcome = { kind: 'done'; status: string; version: string; model: string; fitMs: number; overheadMs: number } | { kind: 'failed'; detail: string };

async function oneJob(base: string, seed: number): Promise<Outcome> {
  const { view, processedMs: processed } = await timedTrain(base, { samples: cleanIrisSamples(ROWS, seed) });
  if (view.state === 'failed') return { kind: 'failed', detail: String(view.error) };
  const r = view.result;
  if (!r || typeof r.duration_ms !== 'number' || typeof r.fit_ms !== 'number') return { kind: 'failed', detail: `no duration_ms/fit_ms in the result: ${JSON.stringify(r)}` };
  return {
    kind: 'done',
    status: String(r.status),
    version: String(r.model_version),
    model: String(r.model),
    fitMs: r.fit_ms,
    overheadMs: Number.isFinite(processed) ? processed - r.fit_ms : r.duration_ms - r.fit_ms,
  };
}

function windowOf(records: readonly StorageJob[], label: string, from: number, to: number): StorageWindow {
  const w = records.filter((r) => r.n >= from && r.n <= to);
  const med = (f: (r: StorageJob) => number | undefined) => median(w.map(f).filter((v): v is number => v !== undefined));
  const keys = [...new Set(w.flatMap((r) => Object.keys(r.grownBy)))].sort();
  return {
    label,
    from,
    to,
    accepted: w.filter((r) => r.status === 'activated').length,
    rejected: w.filter((r) => r.status === 'rejected').length,
    overheadMedianMs: med((r) => r.overheadMs),
    fitMedianMs: med((r) => r.fitMs),
    grownMedianBytes: med((r) => r.grownBytes),
    writtenMedianBytes: med((r) => r.writtenBytes),
    historyEntryMedianBytes: med((r) => r.historyEntryBytes),
    dataJsonMedianBytes: med((r) => r.dataJsonBytes),
    modelJsonMedianBytes: med((r) => r.modelJsonBytes),
    grownByMedian: Object.fromEntries(keys.map((k) => [k, med((r) => r.grownBy[k] ?? 0)])),
  };
}

/** Bytes as `12,345 B` / `12.3 KB` / `1.23 MB` (1 KB = 1,000 B). */
export function fmtBytes(b: number | undefined): string {
  if (b === undefined || !Number.isFinite(b)) return '—';
  const a = Math.abs(b);
  if (a >= 1e6) return `${fmt(b / 1e6, 2)} MB`;
  if (a >= 1e4) return `${fmt(b / 1e3, 1)} KB`;
  return `${fmt(b)} B`;
}

const byPart = (m: Record<string, number>) =>
  Object.entries(m)
    .filter(([, v]) => v !== 0)
    .map(([k, v]) => `${k} ${fmtBytes(v)}`)
    .join(', ') || 'nothing';

export async function runStorageSection(opts: { quick: boolean; stack: OurStack }): Promise<StorageSection> {
  const jobs = opts.quick ? 100 : 1000;
  const lateFrom = jobs - WINDOW + 1;
  const earlyTo = EARLY_FROM + WINDOW - 1;
  say(
    `\n== 5. Storage per job: ${fmt(jobs)} training jobs one after the other (${ROWS} clean iris rows each, incremental, no reset; Prefer: wait=${WAIT_S}) on a fresh stack; ` +
      `the data, the growing evaluation set and the history grow; per job: time outside the fit (started-to-finished - fit_ms) and bytes written under models/<model>/, jobs ${EARLY_FROM}..${earlyTo} vs ${lateFrom}..${jobs} ==`,
  );
  const target = await opts.stack.ensure({});
  const base = target.baseUrl;
  let model = 'iris';
  const dirOf = (m: string) => join(opts.stack.dataDir, 'models', m);
  const records: StorageJob[] = [];
  let failed = 0;
  let failedInARow = 0;
  let unsettled = 0;
  let before = (await settled(dirOf(model))).snap;
  const t0 = performance.now();
  for (let n = 1; n <= jobs; n++) {
    const out = await oneJob(base, 50_000 + n);
    if (out.kind === 'done' && out.model !== model) {
      // Not the folder measured before the job: measure this one from now on (this job's bytes are lost).
      model = out.model;
      before = (await settled(dirOf(model))).snap;
      say(`  the jobs train model ${model}; measuring ${dirOf(model)} from job ${n + 1}`);
      continue;
    }
    const { snap: after, stable } = await settled(dirOf(model));
    if (!stable) unsettled++;
    if (out.kind === 'failed') {
      failed++;
      failedInARow++;
      say(`  job ${n}: failed: ${out.detail}`);
      if (failedInARow >= MAX_FAILURES_IN_A_ROW) throw new Error(`${failedInARow} jobs failed in a row; the last: ${out.detail}`);
    } else {
      failedInARow = 0;
      records.push({ n, status: out.status, version: out.version, fitMs: out.fitMs, overheadMs: out.overheadMs, ...measureWrites(before, after, out.version) });
    }
    before = after;
    if (n % PROGRESS_EVERY === 0 || n === jobs) {
      const last = records.filter((r) => r.n > n - PROGRESS_EVERY);
      const l = records.at(-1);
      say(
        `  ${fmt(n)}/${fmt(jobs)} jobs (${fmt((performance.now() - t0) / 1000, 1)} s): ${records.filter((r) => r.status === 'activated').length} accepted, ` +
          `${records.filter((r) => r.status === 'rejected').length} rejected, ${failed} failed; last ${last.length}: outside the fit p50 ${fmtMs(median(last.map((r) => r.overheadMs)))}, ` +
          `fit p50 ${fmtMs(median(last.map((r) => r.fitMs)))}, grown p50 ${fmtBytes(median(last.map((r) => r.grownBytes)))}, written p50 ${fmtBytes(median(last.map((r) => r.writtenBytes)))}; ` +
          `folder ${fmtBytes(l?.folderBytes)} in ${fmt(l?.folderFiles)} files`,
      );
    }
  }
  const wallMs = performance.now() - t0;
  const early = windowOf(records, `jobs ${EARLY_FROM}-${earlyTo}`, EARLY_FROM, earlyTo);
  const late = windowOf(records, `jobs ${lateFrom}-${jobs}`, lateFrom, jobs);
  const size = Math.max(1, Math.floor(jobs / 10));
  const blocks = Array.from({ length: Math.ceil(jobs / size) }, (_, b) => windowOf(records, `jobs ${b * size + 1}-${Math.min(jobs, (b + 1) * size)}`, b * size + 1, Math.min(jobs, (b + 1) * size)));
  const overheadRatio = late.overheadMedianMs / early.overheadMedianMs;
  const bytesRatio = late.grownMedianBytes / early.grownMedianBytes;
  const writtenRatio = late.writtenMedianBytes / early.writtenMedianBytes;
  const accepted = records.filter((r) => r.status === 'activated').length;
  const rejected = records.filter((r) => r.status === 'rejected').length;
  const tenth = records.find((r) => r.n === 10);
  const last = records.at(-1);

  say('  per block (medians per job):');
  for (const w of blocks) {
    say(
      `    ${w.label}: ${w.accepted} accepted, ${w.rejected} rejected; outside the fit ${fmtMs(w.overheadMedianMs)} (fit ${fmtMs(w.fitMedianMs)}); ` +
        `grown ${fmtBytes(w.grownMedianBytes)}, written ${fmtBytes(w.writtenMedianBytes)}; history entry ${fmtBytes(w.historyEntryMedianBytes)}, data.json ${fmtBytes(w.dataJsonMedianBytes)}, model.json ${fmtBytes(w.modelJsonMedianBytes)}`,
    );
  }
  for (const w of [early, late]) {
    say(
      `  ${w.label}: ${w.accepted} accepted, ${w.rejected} rejected; outside the fit p50 ${fmtMs(w.overheadMedianMs)} (fit p50 ${fmtMs(w.fitMedianMs)}); ` +
        `grown p50 ${fmtBytes(w.grownMedianBytes)} (${byPart(w.grownByMedian)}), written p50 ${fmtBytes(w.writtenMedianBytes)}`,
    );
  }
  say(
    `  ratios (jobs ${lateFrom}-${jobs} / jobs ${EARLY_FROM}-${earlyTo}): outside the fit ${fmtRatio(overheadRatio)}, bytes grown ${fmtRatio(bytesRatio)}, bytes written ${fmtRatio(writtenRatio)}; ` +
      `${accepted} accepted, ${rejected} rejected, ${failed} failed; wall time ${fmtMs(wallMs)}${unsettled ? `; ${unsettled} job(s) whose folder had not stopped changing after ${fmtMs(SETTLE_MS * SETTLE_TRIES)}` : ''}`,
  );
  say('  what grows (job 10 vs the last job):');
  for (const [name, f] of [
    ['history entry (history/<seq>.json)', (r: StorageJob) => r.historyEntryBytes],
    ['versions/<v>/data.json', (r: StorageJob) => r.dataJsonBytes],
    ['versions/<v>/model.json', (r: StorageJob) => r.modelJsonBytes],
    ['versions/<v>/ (all files)', (r: StorageJob) => r.versionBytes],
    ['bytes grown by the job', (r: StorageJob) => r.grownBytes],
    ['bytes in new or rewritten files', (r: StorageJob) => r.writtenBytes],
    ['new files', (r: StorageJob) => r.newFiles],
  ] as const) {
    const a = tenth ? f(tenth) : undefined;
    const b = last ? f(last) : undefined;
    const fmtV = name === 'new files' ? (v: number | undefined) => fmt(v) : fmtBytes;
    say(`    ${name}: ${fmtV(a)} at job 10, ${fmtV(b)} at job ${fmt(last?.n)}${a && b ? ` (${fmtRatio(b / a)})` : ''}`);
  }
  if (tenth && last) say(`    growth by part: job 10: ${byPart(tenth.grownBy)}; job ${fmt(last.n)}: ${byPart(last.grownBy)}`);
  if (last) say(`    the folder at the end: ${fmtBytes(last.folderBytes)} in ${fmt(last.folderFiles)} files`);

  const measured = Number.isFinite(overheadRatio) && Number.isFinite(bytesRatio);
  const suffix = `${fmt(accepted)} of ${fmt(jobs)} accepted, ${rejected} rejected${failed ? `, ${failed} failed` : ''}`;
  const checks: TargetCheck[] = [
    {
      section: 'storage',
      target: `job time outside the fit after ${fmt(jobs)} accepted jobs of ${ROWS} rows ≤ ${MAX_RATIO}x the 10th job's`,
      measured: measured ? `median ${fmtMs(late.overheadMedianMs)} (jobs ${lateFrom}-${jobs}) vs ${fmtMs(early.overheadMedianMs)} (jobs ${EARLY_FROM}-${earlyTo}): ${fmtRatio(overheadRatio)}; ${suffix}` : 'not enough jobs',
      met: measured ? overheadRatio <= MAX_RATIO : null,
    },
    {
      section: 'storage',
      target: `bytes written per job after ${fmt(jobs)} accepted jobs of ${ROWS} rows ≤ ${MAX_RATIO}x the 10th job's`,
      measured: measured
        ? `median growth of models/${model}/ ${fmtBytes(late.grownMedianBytes)} (jobs ${lateFrom}-${jobs}) vs ${fmtBytes(early.grownMedianBytes)} (jobs ${EARLY_FROM}-${earlyTo}): ${fmtRatio(bytesRatio)}; ` +
          `new or rewritten files ${fmtBytes(late.writtenMedianBytes)} vs ${fmtBytes(early.writtenMedianBytes)}: ${fmtRatio(writtenRatio)}; ${suffix}`
        : 'not enough jobs',
      met: measured ? bytesRatio <= MAX_RATIO : null,
    },
  ];
  const note =
    `${fmt(jobs)} training jobs in ${fmtMs(wallMs)}: ${fmt(accepted)} accepted, ${fmt(rejected)} rejected, ${failed} failed` +
    (last ? `; models/${model}/ at the end: ${fmtBytes(last.folderBytes)} in ${fmt(last.folderFiles)} files` : '') +
    (unsettled ? `; ${unsettled} job(s) whose folder had not stopped changing after ${fmtMs(SETTLE_MS * SETTLE_TRIES)}` : '');
  return {
    jobs,
    records,
    accepted,
    rejected,
    failed,
    early,
    late,
    blocks,
    overheadRatio,
    bytesRatio,
    writtenRatio,
    wallMs,
    folderBytesAtEnd: last?.folderBytes,
    folderFilesAtEnd: last?.folderFiles,
    tenth,
    last,
    checks,
    note,
  };
}
