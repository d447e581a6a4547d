import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runAlgorithmsSection } from './bench/algorithms';
import { runCommitSection } from './bench/commit-cost';
import { runFitSection } from './bench/fit';
import { describeMachine } from './bench/machine';
import { runPredictSection } from './bench/predict-load';
import { cleanupAll, installSignalHandlers } from './bench/procs';
import { allChecks, renderMarkdown, type Report } from './bench/report';
import { OurStack } from './bench/servers';
import { runStorageSection } from './bench/storage-growth';
import { runServeSection } from './bench/train-to-serve';
import { fmt, say, ROOT } from './bench/util';

// `npm run bench -- [--quick] [--only fit|algorithms|predict|serve|commit|storage] [--peer-dir PATH] [--out FILE]`
//
// Measures this machine: (1) fit time and accuracy against scikit-learn and batch prediction,
// (1b) the four algorithms (fit, prediction, accuracy) against their scikit-learn counterparts,
// (2) POST /predict under load against our API, a bare node:http floor and the peer, (3)
// train-to-serve latency, (4) a job's time outside the fit as the history grows (1,000
// committed jobs on a fresh stack), (5) a job's time outside the fit and the bytes it writes as
// the data and the history grow (1,000 training jobs of 10 rows on a fresh stack). Prints as it
// goes, then writes the tables to docs/benchmarks.md.
// Everything it starts (processes, temp dirs, Redis keys under a unique prefix) is removed at
// the end, on error and on Ctrl-C. Exit code 0 when it ran (targets missed or not), 1 on a
// failure, 2 on bad arguments.

const USAGE = `usage: npm run bench -- [--quick] [--only fit|algorithms|predict|serve|commit|storage] [--peer-dir PATH] [--out FILE]

  --quick          short runs, fewer repetitions, smaller data (development, smoke test)
  --only SECTION   fit (fit time, accuracy, batch prediction), algorithms (the four
                   algorithms against scikit-learn: accuracy, fit and prediction time),
                   predict (/predict load),
                   serve (train-to-serve latency) or commit (a job's time outside the fit
                   after 1,000 committed jobs, 100 with --quick) or storage (time
                   outside the fit and bytes written per job after 1,000 jobs of 10
                   rows, 100 with --quick); may be repeated
  --peer-dir PATH  the peer's folder (with main.py), e.g. ../shared/peer; measured only when
                   /usr/bin/python3 can import fastapi, uvicorn, sklearn and joblib
  --out FILE       where to write the markdown (default docs/benchmarks.md for a full run of
                   every section; --quick and --only write only when --out is given)`;

const SECTIONS = ['fit', 'algorithms', 'predict', 'serve', 'commit', 'storage'] as const;
type Section = (typeof SECTIONS)[number];

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        'peer-dir': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    say(USAGE);
    return 0;
  }
  const only = (values.only ?? []).flatMap((s) => s.split(','));
  const bad = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (bad.length) {
    process.stderr.write(`error: unknown section ${bad.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  const sections = new Set<Section>(only.length ? (only as Section[]) : SECTIONS);
  const quick = values.quick;
  const partial = quick || only.length > 0;
  const out = values.out ?? (partial ? undefined : resolve(ROOT, 'docs', 'benchmarks.md'));

  installSignalHandlers();
  const machine = describeMachine();
  const report: Report = { startedAt: new Date(), finishedAt: new Date(), machine, argv: process.argv.slice(2), quick, skipped: [] };
  say(`ct-stack benchmark${quick ? ' (--quick)' : ''}: ${machine.cpu}, ${machine.cores} cores, ${fmt(machine.ramGiB, 1)} GiB RAM, Node ${machine.node}, ${machine.os}; load average ${machine.loadAvg}`);

  const stack = new OurStack();
  try {
    if (sections.has('fit')) report.fit = await runFitSection({ quick });
    if (sections.has('algorithms')) report.algorithms = await runAlgorithmsSection({ quick });
    if (sections.has('predict')) report.predict = await runPredictSection({ quick, peerDir: values['peer-dir'], stack });
    if (sections.has('serve')) {
      try {
        report.serve = await runServeSection({ quick, stack });
      } catch (err) {
        const msg = `train-to-serve not measured: ${(err as Error).message}`;
        say(`  ${msg}`);
        report.skipped.push(msg);
      }
    }
    if (sections.has('commit')) {
      // A stack of its own, so that the history starts at the bootstrap (not after the
      // serve section's jobs) and the growing evaluation set is empty; the other stack is
      // stopped first so that it takes no CPU.
      await stack.stop();
      const commitStack = new OurStack();
      try {
        report.commit = await runCommitSection({ quick, stack: commitStack });
      } catch (err) {
        const msg = `commit cost not measured: ${(err as Error).message}`;
        say(`  ${msg}`);
        report.skipped.push(msg);
      } finally {
        await commitStack.stop();
      }
    }
    if (sections.has('storage')) {
      // A fresh stack too: the data, the growing evaluation set and the history start at the
      // bootstrap and grow only with this section's jobs.
      await stack.stop();
      const storageStack = new OurStack();
      try {
        report.storage = await runStorageSection({ quick, stack: storageStack });
      } catch (err) {
        const msg = `storage per job not measured: ${(err as Error).message}`;
        say(`  ${msg}`);
        report.skipped.push(msg);
      } finally {
        await storageStack.stop();
      }
    }
  } finally {
    say('\nstopping the servers and removing temp files and Redis keys...');
    await stack.stop();
    await cleanupAll();
  }
  report.finishedAt = new Date();
  if (report.predict?.peerNote.startsWith('peer skipped')) report.skipped.push(report.predict.peerNote);

  const markdown = renderMarkdown(report);
  say('\n================================================================================\n');
  say(markdown);
  const checks = allChecks(report);
  const missed = checks.filter((c) => c.met === false);
  say(`targets: ${checks.filter((c) => c.met === true).length} met, ${missed.length} missed, ${checks.filter((c) => c.met === null).length} not measured`);
  for (const c of missed) say(`  missed: ${c.target}: ${c.measured}`);
  if (out) {
    // `npm run` starts in the repository root; INIT_CWD is where the user typed the path.
    const outPath = resolve(process.env.INIT_CWD ?? process.cwd(), out);
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, markdown);
    say(`wrote ${outPath}`);
  } else {
    say('(--quick/--only: nothing written; pass --out FILE to write the markdown)');
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
