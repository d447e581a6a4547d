import { TrainingDataError } from '@ct/core';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StepOutcome, StepTask, ThreadMessage } from './step-task';

interface Pending {
  resolve: (o: StepOutcome) => void;
  reject: (e: Error) => void;
  onProgress: ((fraction: number) => void) | undefined;
}

/**
 * A long-lived worker thread that runs step tasks one message at a time. Kept warm because
 * starting a thread and loading the domain code per job would cost more than fitting a small
 * model. If the thread dies, pending tasks fail (the job is retried) and the next task
 * starts a new thread.
 */
export class FitThreadClient {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  /**
   * @param script compiled thread entry; defaults to `dist/fit-thread.js` next to this
   * package's `src/` and `dist/` (tests run from `src/`, where no `.js` exists).
   */
  constructor(private readonly script: string = resolve(__dirname, '..', 'dist', 'fit-thread.js')) {}

  /** Runs `task` in the thread; rejects with TrainingDataError for data no retry can fix. */
  run(task: StepTask, onProgress?: (fraction: number) => void): Promise<StepOutcome> {
    if (this.closed) return Promise.reject(new Error('fit thread is closed'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<StepOutcome>((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise, reject, onProgress });
      worker.postMessage({ id, task });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script);
    worker.on('message', (m: ThreadMessage) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.onProgress?.(m.fraction);
        return;
      }
      this.pending.delete(m.id);
      if (m.type === 'done') p.resolve(m.outcome);
      else p.reject(m.name === 'TrainingDataError' ? new TrainingDataError(m.message) : new Error(m.message));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`fit thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  /** Stops the thread; pending tasks fail. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
