import { renderAlgorithms, type AlgorithmsSection } from './algorithms';
import type { CommitSection } from './commit-cost';
import type { FitSection } from './fit';
import type { Machine } from './machine';
import { cpuPerRequestUs, type PredictSection } from './predict-load';
import { fmtBytes, type StorageSection } from './storage-growth';
import type { ServeSection } from './train-to-serve';
import { fmt, fmtMs, fmtPct, fmtRatio, mdTable, median, percentile, type TargetCheck } from './util';

// The markdown written to docs/benchmarks.md: machine, targets, one table per section, the
// commands to reproduce. Every figure comes from the run that writes it.

export interface Report {
  startedAt: Date;
  finishedAt: Date;
  machine: Machine;
  argv: string[];
  quick: boolean;
  fit?: FitSection;
  algorithms?: AlgorithmsSection;
  predict?: PredictSection;
  serve?: ServeSection;
  commit?: CommitSection;
  storage?: StorageSection;
  skipped: string[];
}

const met = (m: boolean | null) => (m === null ? 'not measured' : m ? 'yes' : '**no**');

export function allChecks(r: Report): TargetCheck[] {
  return [...(r.fit?.checks ?? []), ...(r.algorithms?.checks ?? []), ...(r.predict?.checks ?? []), ...(r.serve?.checks ?? []), ...(r.commit?.checks ?? []), ...(r.storage?.checks ?? [])];
}

export function renderMarkdown(r: Report): string {
  const out: string[] = [];
  const m = r.machine;
  out.push('# Benchmarks');
  out.push('');
  out.push(
    `Measured ${r.startedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC by \`npm run bench${r.argv.length ? ` -- ${r.argv.join(' ')}` : ''}\`` +
      `${r.quick ? ' (**--quick**: short runs and small data, a smoke test, not figures to quote)' : ''}; ` +
      `the run took ${fmt((r.finishedAt.getTime() - r.startedAt.getTime()) / 60000, 1)} min. Every figure below was measured in that run; ` +
      'absolute figures drift between runs on a shared machine, ratios taken side by side in one run drift less.',
  );
  out.push('');
  out.push(
    mdTable(
      ['machine', ''],
      [
        ['CPU', m.cpu],
        ['cores', String(m.cores)],
        ['RAM', `${fmt(m.ramGiB, 1)} GiB`],
        ['Node', m.node],
        ['OS', m.os],
        ['load average at start (1, 5, 15 min)', m.loadAvg],
      ],
    ),
  );
  out.push('');

  out.push('## Targets');
  out.push('');
  const checks = allChecks(r);
  out.push(mdTable(['target', 'measured', 'met?'], checks.map((c) => [c.target, c.measured, met(c.met)])));
  if (r.skipped.length) {
    out.push('');
    for (const s of r.skipped) out.push(`- ${s}`);
  }
  out.push('');

  if (r.fit) renderFit(out, r.fit);
  if (r.algorithms) renderAlgorithms(out, r.algorithms);
  if (r.predict) renderPredict(out, r.predict);
  if (r.serve) renderServe(out, r.serve);
  if (r.commit) renderCommit(out, r.commit);
  if (r.storage) renderStorage(out, r.storage);

  out.push('## Reproduce');
  out.push('');
  out.push('```sh');
  out.push('node scripts/setup.mjs                                  # install and build (npm start and npm test do it too)');
  out.push(`npm run bench -- ${r.argv.length ? r.argv.join(' ') : ''}`.trimEnd() + '   # this page');
  out.push('npm run bench -- --quick --only fit|algorithms|predict|serve|commit|storage   # a quick look at one section (writes nothing unless --out is given)');
  const cmds = [...(r.fit?.commands ?? []), ...(r.algorithms?.commands ?? []), ...(r.predict?.commands ?? [])];
  if (cmds.length) {
    out.push('# the pieces, by hand:');
    out.push(...cmds);
  }
  out.push('```');
  out.push('');
  return `${out.join('\n')}`;
}

function renderFit(out: string[], f: FitSection): void {
  out.push('## 1. Fit time and accuracy');
  out.push('');
  out.push(
    `80/20 stratified split (iris: the product's bootstrap split, seed 42; synthetic: \`cli synth --features 20 --informative 10 --seed 0\`, 3 classes). ` +
      `Each fit runs in a fresh process (\`cli fit\` for ours, \`scripts/bench/sklearn_fit.py\` for scikit-learn${f.sklearn.version ? ` ${f.sklearn.version}` : ''}); ` +
      `the time covers standardization and the fit, not reading the CSV; median of ${f.repetitions} run${f.repetitions > 1 ? 's' : ''}. ` +
      'Accuracy is on the 20 % test split.' +
      (f.sklearn.available ? '' : ` scikit-learn skipped: ${f.sklearn.reason}.`),
  );
  out.push('');
  const skFor = (data: string) => f.rows.find((r) => r.data === data && r.algorithm.startsWith('scikit-learn'));
  out.push(
    mdTable(
      ['data (train rows x features)', 'algorithm', 'fit (median)', 'runs', 'iterations', 'test accuracy', 'time vs scikit-learn', 'accuracy vs scikit-learn'],
      f.rows.map((row) => {
        const sk = skFor(row.data);
        const isSk = row.algorithm.startsWith('scikit-learn');
        const ratio = !isSk && sk?.fitMs !== undefined && row.fitMs !== undefined ? fmtRatio(row.fitMs / sk.fitMs) : '';
        const delta = !isSk && sk?.accuracy !== undefined && row.accuracy !== undefined ? `${row.accuracy >= sk.accuracy ? '+' : ''}${fmt((row.accuracy - sk.accuracy) * 100, 2)} pt` : '';
        if (row.fitMs === undefined) return [`${row.data} (${fmt(row.trainRows)} x ${row.features})`, row.algorithm, row.note ?? 'not run', '', '', '', '', ''];
        return [
          `${row.data} (${fmt(row.trainRows)} x ${row.features})`,
          row.algorithm,
          fmtMs(row.fitMs),
          row.runs.map(fmtMs).join(', '),
          `${row.iterations}${row.converged ? '' : ' (cap)'}`,
          fmt(row.accuracy, 4),
          ratio,
          delta,
        ];
      }),
      'llrrrrrr',
    ),
  );
  out.push('');
  out.push(
    '`ml_logistic_regression` is the slow baseline (the `ml-logistic-regression` npm package: plain batch gradient descent, 1000 steps, one-vs-rest); ' +
      'it runs only on iris and the small synthetic set, since its time grows linearly with the rows (the larger sets show a linear extrapolation). `(cap)`: stopped at its iteration cap. ' +
      '"ours, warm process": the same fit repeated in the bench\'s own Node process after 2 unrecorded fits, as in the trainer\'s long-lived fit thread; a fresh `cli fit` process also pays for compiling the solver on first use, which dominates on small sets. The targets use the fresh-process figure.',
  );
  out.push('');
  if (f.batchPredict) {
    const b = f.batchPredict;
    out.push('### Batch prediction');
    out.push('');
    out.push(
      `\`softmaxRegression\` (from \`@ct/core\`) fitted on ${fmt(b.rows)} synthetic rows x ${b.features} features, 3 classes (fit ${fmtMs(b.fitMs)}), then \`model.predictProba\` on a ${fmt(b.rows)}-row \`FeatureMatrix\`, in the bench's process after 3 warm-up calls:`,
    );
    out.push('');
    out.push(
      mdTable(
        ['rows x features', 'calls', 'median', 'min', 'max'],
        [[`${fmt(b.rows)} x ${b.features}`, String(b.runsMs.length), fmtMs(b.medianMs), fmtMs(Math.min(...b.runsMs)), fmtMs(Math.max(...b.runsMs))]],
        'lrrrr',
      ),
    );
    out.push('');
  }
}

function renderPredict(out: string[], p: PredictSection): void {
  out.push('## 2. `/predict` under load');
  out.push('');
  out.push(`${p.settings}. The load generator shares the machine's cores with the server; the servers run one at a time. ${p.ourNote}. ${p.peerNote}.`);
  out.push('');
  const floorResult = p.rows.find((r) => r.key === 'floor')?.result;
  const floor = floorResult?.rps;
  const peer = p.rows.find((r) => r.key === 'peer-sync')?.result?.rps;
  out.push(
    mdTable(
      ['server', 'requests/s', 'p50 ms', 'p99 ms', 'non-2xx', 'socket errors', 'server CPU (share of one core)', 'server CPU per request', 'vs floor', 'p99 vs floor p99', 'vs peer'],
      p.rows.map((r) => {
        if (!r.result) return [r.label, `skipped: ${(r.skipped ?? '').split('\n')[0]}`, '', '', '', '', '', '', '', '', ''];
        const x = r.result;
        const others = floorResult !== undefined && r.key !== 'floor';
        return [
          r.label,
          fmt(x.rps),
          fmt(x.p50Ms, 2),
          fmt(x.p99Ms, 2),
          fmt(x.non2xx),
          fmt(x.socketErrors),
          fmtPct(r.serverCpu, 0),
          `${fmt(cpuPerRequestUs(r), 1)} µs`,
          others ? fmtPct(x.rps / floorResult.rps, 0) : '',
          others ? fmtRatio(x.p99Ms / floorResult.p99Ms) : '',
          peer !== undefined && !r.key.startsWith('peer') ? fmtRatio(x.rps / peer) : '',
        ];
      }),
      'lrrrrrrrrrr',
    ),
  );
  out.push('');
  const paired = p.pairs.length > 1 ? `; that row and the floor were measured ${p.pairs.length} times in alternation (the table shows the first pair), and the checks against the floor take the medians of the pairs' ratios` : '';
  out.push(`The targets apply to the row with auth required (a client token on every request) and the rate limit on${paired}; the other rows of ours show what auth, the limiter and logging cost.`);
  for (const line of p.costs) out.push(`${line[0]?.toUpperCase() ?? ''}${line.slice(1)}.`);
  const byKey = (k: string) => p.rows.find((r) => r.key === k)?.result;
  const [ours, warn, quiet, target] = [byKey('ours'), byKey('ours-warn'), byKey('ours-quiet'), byKey(p.targetKey)];
  if (ours && warn && quiet) {
    out.push(
      `Time per request (1 / throughput): ${fmt(1e6 / ours.rps)} µs as configured by default, ${fmt(1e6 / warn.rps)} µs without request log lines, ` +
        `${fmt(1e6 / quiet.rps)} µs without any logging; ${floor !== undefined ? fmt(1e6 / floor) : '—'} µs for the floor.`,
    );
  }
  if (target) {
    out.push(
      `With ${p.connections} connections each waiting for its answer, the mean latency is connections / throughput: ${fmt((p.connections / target.rps) * 1000, 1)} ms at the rate with auth; ` +
        `a p99 under 10 ms needs well over ${fmt(p.connections / 0.01)} requests/s.`,
    );
  }
  out.push('');
}

function renderServe(out: string[], s: ServeSection): void {
  out.push('## 3. Train-to-serve latency');
  out.push('');
  out.push(
    'From sending `POST /train` (10 correctly labeled iris rows near the class centres, incremental, `any_improvement`) to the first `POST /predict` answered with the new `model_version`; ' +
      `jobs one after the other, /predict polled every 2 ms; each served version checked against the job's result (\`activated\`, same version). ${s.note}.`,
  );
  out.push('');
  const l = s.latenciesMs;
  out.push(
    mdTable(
      ['jobs', 'activated', 'rejected', 'failed / timed out', 'p50', 'p95', 'min', 'max', "trainer's job duration p50"],
      [[String(s.jobs), String(l.length), String(s.rejected), `${s.failed} / ${s.timedOut}`, fmtMs(median(l)), fmtMs(percentile(l, 95)), fmtMs(Math.min(...l)), fmtMs(Math.max(...l)), fmtMs(median(s.jobDurationsMs))]],
      'rrrrrrrrr',
    ),
  );
  out.push('');
  if (s.rejected + s.failed + s.timedOut > 0) {
    out.push(`Rejected, failed and timed-out jobs are excluded from the percentiles (${s.rejected + s.failed + s.timedOut} of ${s.jobs}).`);
    out.push('');
  }
}

function renderCommit(out: string[], c: CommitSection): void {
  out.push("## 4. A job's time outside the fit as the history grows");
  out.push('');
  out.push(
    `${fmt(c.jobs)} \`POST /train\` jobs one after the other on a fresh stack (history starting at the bootstrap), each 9 correctly labeled iris rows (a different seed per job, incremental) with \`Prefer: wait=30\`, each followed by a reset (\`DELETE /model/history\`): ` +
      'below the 10-row threshold no evaluation slice is held out, so the growing evaluation set stays empty, and the reset brings the training set back to the bootstrap\'s; only the history grows (two entries per job). ' +
      "Overhead = the job view's `finished_at` - `started_at` (BullMQ's processing time, the durable commit included, ms resolution) minus the trainer's `fit_ms` (the target's measure). For comparison: the trainer's `duration_ms` (up to the commit) and the client's round trip, each minus `fit_ms`. " +
      `${c.note}.`,
  );
  out.push('');
  out.push(
    mdTable(
      ['jobs', 'activated', 'overhead p50', 'overhead p95', 'duration_ms p50', 'fit_ms p50', 'started→finished − fit p50', 'round trip − fit p50'],
      [c.early, c.late].map((w) => [
        w.label,
        String(w.activated),
        fmtMs(w.overheadMedianMs),
        fmtMs(w.overheadP95Ms),
        fmtMs(w.durationMedianMs),
        fmtMs(w.fitMedianMs),
        fmtMs(w.processedOverheadMedianMs),
        fmtMs(w.roundTripOverheadMedianMs),
      ]),
      'lrrrrrrr',
    ),
  );
  out.push('');
  out.push(
    `Ratio of the medians (${c.late.label} / ${c.early.label}): ${fmtRatio(c.ratio)}. All ${fmt(c.jobs)} jobs: ${c.activated} activated, ${c.rejected} rejected, ${c.failed} failed; wall time ${fmtMs(c.wallMs)}. ` +
      "`duration_ms` is whole milliseconds, so a 10-job median moves in steps of about 1 ms, and the first jobs also pay for the trainer's JIT warm-up; the same run in ten blocks shows the trend:",
  );
  out.push('');
  out.push(
    mdTable(
      ['jobs', 'overhead p50', 'overhead p95', 'started→finished − fit p50', 'round trip − fit p50'],
      c.blocks.map((w) => [w.label, fmtMs(w.overheadMedianMs), fmtMs(w.overheadP95Ms), fmtMs(w.processedOverheadMedianMs), fmtMs(w.roundTripOverheadMedianMs)]),
      'lrrrr',
    ),
  );
  out.push('');
}

function renderStorage(out: string[], s: StorageSection): void {
  out.push('## 5. Time outside the fit and bytes written per job as the data and the history grow');
  out.push('');
  out.push(
    `${fmt(s.jobs)} \`POST /train\` jobs one after the other on a fresh stack, each 10 correctly labeled iris rows (a different seed per job, incremental, no reset) with \`Prefer: wait=30\`: ` +
      'an accepted batch adds its training rows to the data and its held-out slice to the growing evaluation set, as in real use. ' +
      "Time outside the fit as in section 4 (the job view's `finished_at` - `started_at` minus `fit_ms`). Bytes: the growth of `models/<model>/` across the job " +
      '(sum of file sizes under it, recursively, read before the job and after it once two reads 25 ms apart agree; the trainer is its only writer), ' +
      'the sizes of the files new or rewritten by the job, and the sizes of the job\'s history entry and `versions/<v>/` files. ' +
      `${s.note}.`,
  );
  out.push('');
  const row = (w: StorageSection['early']) => [
    w.label,
    `${w.accepted} / ${w.rejected}`,
    fmtMs(w.overheadMedianMs),
    fmtMs(w.fitMedianMs),
    fmtBytes(w.grownMedianBytes),
    fmtBytes(w.writtenMedianBytes),
    fmtBytes(w.historyEntryMedianBytes),
    fmtBytes(w.dataJsonMedianBytes),
    fmtBytes(w.modelJsonMedianBytes),
  ];
  const header = ['jobs', 'accepted / rejected', 'outside the fit p50', 'fit p50', 'grown p50', 'new or rewritten p50', 'history entry p50', 'data.json p50', 'model.json p50'];
  out.push(mdTable(header, [s.early, s.late].map(row), 'lrrrrrrrr'));
  out.push('');
  out.push(
    `Ratios of the medians (${s.late.label} / ${s.early.label}): time outside the fit ${fmtRatio(s.overheadRatio)}, bytes grown ${fmtRatio(s.bytesRatio)}, bytes in new or rewritten files ${fmtRatio(s.writtenRatio)}. ` +
      `All ${fmt(s.jobs)} jobs: ${s.accepted} accepted, ${s.rejected} rejected, ${s.failed} failed. In blocks:`,
  );
  out.push('');
  out.push(mdTable(header, s.blocks.map(row), 'lrrrrrrrr'));
  out.push('');
  const parts = [...new Set([...Object.keys(s.early.grownByMedian), ...Object.keys(s.late.grownByMedian)])].sort();
  if (parts.length) {
    out.push('Median growth per job by part of the folder:');
    out.push('');
    out.push(mdTable(['part', s.early.label, s.late.label], parts.map((p) => [p, fmtBytes(s.early.grownByMedian[p] ?? 0), fmtBytes(s.late.grownByMedian[p] ?? 0)]), 'lrr'));
    out.push('');
  }
}
