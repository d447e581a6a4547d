import { parentPort } from 'node:worker_threads';
import { RowCache } from './row-cache';
import { runStep } from './run-step';
import type { TaskMessage, ThreadMessage } from './step-task';

// Entry point of the fit thread (compiled to dist/fit-thread.js). Fitting is CPU-bound: on
// the worker's own event loop it would starve BullMQ's lock renewal and the job would be
// taken for stalled and run twice.
const port = parentPort;
if (!port) throw new Error('fit-thread must run as a worker thread');

// The rows of every job so far, kept for the next ones (see RowCache).
const rows = new RowCache();

port.on('message', ({ id, task, segments }: TaskMessage) => {
  let last = 0;
  const send = (m: ThreadMessage) => port.postMessage(m);
  try {
    for (const [hash, set] of segments) rows.hold(hash, set);
    const outcome = runStep(task, rows, (fraction) => {
      // Progress messages are throttled: a fit may report thousands of steps.
      if (fraction - last >= 0.05 || fraction >= 1) {
        last = fraction;
        send({ type: 'progress', id, fraction });
      }
    });
    send({ type: 'done', id, outcome });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'error', id, name: e.name, message: e.message });
  }
});
