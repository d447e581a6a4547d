import { performance } from 'node:perf_hooks';
import { request, waitForJob } from '../http-client';

/** How long `POST /train` with `Prefer: wait` waits before the bench polls instead. */
const WAIT_S = 30;

/** A finished training job as the bench sees it. */
export interface TimedTrain {
  /** The job view (`GET /jobs/:id`): state, result, timestamps. */
  view: any;
  /** The client's round trip, from the POST to the finished view. */
  roundTripMs: number;
  /** BullMQ's processing time, `finished_at - started_at` (ms resolution; NaN when a timestamp is missing). */
  processedMs: number;
}

/**
 * Sends one training job and waits until it is finished (the bench's jobs must not overlap):
 * `Prefer: wait` first, then polling if it answered 202, then once more while a completed
 * view still has no result (see train-to-serve.ts).
 */
export async function timedTrain(base: string, body: unknown): Promise<TimedTrain> {
  const t0 = performance.now();
  const sent = await request(base, 'POST', '/train', body, { Prefer: `wait=${WAIT_S}` });
  if (sent.status !== 200 && sent.status !== 202) throw new Error(`POST /train answered ${sent.status}: ${JSON.stringify(sent.body)}`);
  let view = sent.body;
  if (view.state !== 'completed' && view.state !== 'failed') view = await waitForJob(base, view.job_id as string, () => undefined, 120_000, 5);
  for (let i = 0; view.state === 'completed' && !view.result && i < 100; i++) view = (await request(base, 'GET', `/jobs/${encodeURIComponent(view.job_id as string)}`)).body;
  const roundTripMs = performance.now() - t0;
  const processedMs = (view.finished_at ? Date.parse(view.finished_at as string) : NaN) - (view.started_at ? Date.parse(view.started_at as string) : NaN);
  return { view, roundTripMs, processedMs };
}
