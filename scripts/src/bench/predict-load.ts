import type { ChildProcess } from 'node:child_process';
import { request } from '../http-client';
import { SETOSA } from '../iris-samples';
import { pickLoadTool, type LoadResult } from './load';
import { processCpuSeconds } from './machine';
import { makeTempDir, stopChild } from './procs';
import { peerUnavailable, peerVersions, startBareServer, startPeer, type OurStack, type Target } from './servers';
import { fmt, fmtPct, fmtRatio, say, sleep, type TargetCheck } from './util';

// Section 2: POST /predict under load, one iris row per request, against our API (as it runs
// by default, then with less logging, to show where the time goes), the bare node:http floor
// and the peer, one after the other in the same run.

const CONNECTIONS = 64;
const THREADS = 2;
const RATIO_PEER_TARGET = 5;
const RATIO_FLOOR_TARGET = 0.4;
const P99_TARGET_MS = 10;

export interface LoadRow {
  key: string;
  label: string;
  result?: LoadResult;
  /** CPU used by the server process during the measured run, as a share of one core. */
  serverCpu?: number;
  skipped?: string;
}

export interface PredictSection {
  tool: string;
  settings: string;
  connections: number;
  rows: LoadRow[];
  peerNote: string;
  ourNote: string;
  checks: TargetCheck[];
  commands: string[];
}

/** The variants of our API that are measured, first the default configuration (the one the targets apply to). */
const OUR_VARIANTS: { key: string; label: string; env: Record<string, string> }[] = [
  { key: 'ours', label: 'ours: API as configured by default (LOG_LEVEL=info: one log line per request; prediction log on)', env: {} },
  { key: 'ours-warn', label: 'ours, LOG_LEVEL=warn (no request log lines; prediction log on)', env: { LOG_LEVEL: 'warn' } },
  { key: 'ours-quiet', label: 'ours, LOG_LEVEL=warn and CT_PREDICTION_LOG=false (diagnostic: no logging at all)', env: { LOG_LEVEL: 'warn', CT_PREDICTION_LOG: 'false' } },
];

export interface PredictOptions {
  quick: boolean;
  peerDir: string | undefined;
  stack: OurStack;
}

export async function runPredictSection(opts: PredictOptions): Promise<PredictSection> {
  const seconds = opts.quick ? 3 : 10;
  const warmup = opts.quick ? 1 : 2;
  const tool = await pickLoadTool(makeTempDir('wrk'), CONNECTIONS, THREADS);
  const settings = `${tool.name} ${tool.version}, ${CONNECTIONS} connections${tool.name === 'wrk' ? `, ${THREADS} threads` : ' (one thread, in the bench process)'}, ${seconds} s measured after ${warmup} s of unrecorded warm-up, loopback, POST /predict with one iris row, ${JSON.stringify(SETOSA)}`;
  say(`\n== 2. /predict under load: ${settings} ==`);
  if (tool.name !== 'wrk') say('  wrk is not on the PATH: using autocannon, which is slower than wrk; the ratios stay comparable within this run');
  const body = JSON.stringify(SETOSA);
  const rows: LoadRow[] = [];

  const measure = async (key: string, label: string, target: Target): Promise<LoadRow> => {
    const sanity = await request(target.baseUrl, 'POST', '/predict', SETOSA);
    if (sanity.status < 200 || sanity.status > 299) throw new Error(`${label}: sanity POST /predict answered ${sanity.status}: ${JSON.stringify(sanity.body)}`);
    if (warmup > 0) await tool.run(target.baseUrl, '/predict', body, warmup);
    await sleep(200);
    const cpu0 = processCpuSeconds(target.pid);
    const result = await tool.run(target.baseUrl, '/predict', body, seconds);
    const cpu1 = processCpuSeconds(target.pid);
    const serverCpu = cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / result.seconds : undefined;
    const row: LoadRow = { key, label, result, serverCpu };
    say(`  ${label}\n    ${fmt(result.rps)} req/s  p50 ${fmt(result.p50Ms, 2)} ms  p99 ${fmt(result.p99Ms, 2)} ms  non-2xx ${result.non2xx}  socket errors ${result.socketErrors}  server CPU ${fmtPct(serverCpu, 0)} of a core`);
    rows.push(row);
    return row;
  };

  for (const v of OUR_VARIANTS) {
    try {
      const target = await opts.stack.ensure(v.env);
      await measure(v.key, v.label, target);
    } catch (err) {
      say(`  ${v.label}: not measured: ${(err as Error).message}`);
      rows.push({ key: v.key, label: v.label, skipped: (err as Error).message });
    }
  }

  const ourNote = `API and trainer started by the bench (node services/{api,trainer}/dist/main.js), data in a temp dir, ${opts.stack.redisDescription || 'Redis'}; the API's stdout/stderr go to a file`;

  const floor = await startBareServer();
  try {
    await measure('floor', 'floor: bare node:http server, parses the JSON body, answers a fixed JSON (scripts/dist/bench/bare-server.js)', floor.target);
  } finally {
    await stopChild(floor.child);
  }

  let peerNote: string;
  const why = await peerUnavailable(opts.peerDir);
  if (why) {
    peerNote = `peer skipped: ${why}`;
    say(`  ${peerNote}`);
    rows.push({ key: 'peer-sync', label: 'peer (FastAPI + scikit-learn, uvicorn, 1 worker)', skipped: why });
  } else {
    peerNote = `peer: ${opts.peerDir} (${await peerVersions()}), /usr/bin/python3 -m uvicorn main:app --workers 1, models in a temp dir, uvicorn's default access log on (to a file)`;
    say(`  ${peerNote}`);
    for (const mode of ['sync', 'async'] as const) {
      let peer: { target: Target; child: ChildProcess } | undefined;
      const label = mode === 'sync' ? 'peer, as the lab writes it (`def predict`, threadpool)' : 'peer, `async def predict` (IRIS_PREDICT_MODE=async)';
      try {
        peer = await startPeer(opts.peerDir as string, mode);
        await measure(`peer-${mode}`, label, peer.target);
      } catch (err) {
        say(`  ${label}: failed: ${(err as Error).message}`);
        rows.push({ key: `peer-${mode}`, label, skipped: (err as Error).message });
      } finally {
        if (peer) await stopChild(peer.child);
      }
    }
  }

  const checks = predictChecks(rows);
  const commands = [
    `# any server: wrk -t${THREADS} -c${CONNECTIONS} -d${seconds}s --latency -s predict.lua http://127.0.0.1:PORT  (predict.lua POSTs the row above; the bench writes its own to a temp dir)`,
    'PORT=0 node scripts/dist/bench/bare-server.js',
    'cd ../shared/peer && IRIS_MODELS_DIR=$(mktemp -d) /usr/bin/python3 -m uvicorn main:app --host 127.0.0.1 --port 8100 --workers 1',
  ];
  return { tool: `${tool.name} ${tool.version}`, settings, connections: CONNECTIONS, rows, peerNote, ourNote, checks, commands };
}

const rps = (rows: LoadRow[], key: string) => rows.find((r) => r.key === key)?.result?.rps;

function predictChecks(rows: LoadRow[]): TargetCheck[] {
  const ours = rows.find((r) => r.key === 'ours')?.result;
  const oursRps = ours?.rps;
  const peer = rps(rows, 'peer-sync');
  const peerAsync = rps(rows, 'peer-async');
  const floor = rps(rows, 'floor');
  const checks: TargetCheck[] = [];
  const section = 'predict';
  if (oursRps !== undefined && peer !== undefined) {
    const extra = peerAsync !== undefined ? `; vs the peer's \`async def\`: ${fmtRatio(oursRps / peerAsync)}` : '';
    checks.push({ section, target: `throughput ≥ ${RATIO_PEER_TARGET}x the peer's (as the lab writes it)`, measured: `${fmt(oursRps)} / ${fmt(peer)} req/s = ${fmtRatio(oursRps / peer)}${extra}`, met: oursRps / peer >= RATIO_PEER_TARGET });
  } else {
    checks.push({ section, target: `throughput ≥ ${RATIO_PEER_TARGET}x the peer's`, measured: 'not measured (peer skipped)', met: null });
  }
  if (oursRps !== undefined && floor !== undefined) {
    checks.push({ section, target: `throughput ≥ ${RATIO_FLOOR_TARGET * 100} % of the bare node:http floor`, measured: `${fmt(oursRps)} / ${fmt(floor)} req/s = ${fmtPct(oursRps / floor)}`, met: oursRps / floor >= RATIO_FLOOR_TARGET });
  }
  if (ours) {
    checks.push({ section, target: `p99 < ${P99_TARGET_MS} ms at ${CONNECTIONS} connections`, measured: `${fmt(ours.p99Ms, 2)} ms (p50 ${fmt(ours.p50Ms, 2)} ms)`, met: ours.p99Ms < P99_TARGET_MS });
    checks.push({ section, target: 'zero errors (non-2xx and socket errors)', measured: `${ours.non2xx} non-2xx, ${ours.socketErrors} socket errors in ${fmt(ours.requests)} requests`, met: ours.non2xx === 0 && ours.socketErrors === 0 });
  }
  return checks;
}

