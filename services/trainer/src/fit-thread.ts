import { parentPort } from 'node:worker_threads';
import { runStep } from './run-step';
import type { StepTask, ThreadMessage } from './step-task';

// Entry point of the fit thread (compiled to dist/fit-thread.js). Fitting is CPU-bound: on
// the worker's own event loop it would starve BullMQ's lock renewal and the job would be
// taken for stalled and run twice.
const port = parentPort;
if (!port) throw new Error('fit-thread must run as a worker thread');

port.on('message', ({ id, task }: { id: number; task: StepTask }) => {
  let last = 0;
  const send = (m: ThreadMessage) => port.postMessage(m);
  try {
    const outcome = runStep(task, (fraction) => {
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
