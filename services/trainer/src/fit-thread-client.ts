import { TrainingDataError, type LabeledSet } from '@ct/core';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StepOutcome, StepTask, TaskMessage, ThreadMessage } from './step-task';

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
 *
 * A training task names its rows by segment hashes; each segment's rows are posted to the
 * thread once, with the first task that names it, and the thread keeps them (RowCache), so
 * what a job posts is its new segments, not the whole data.
 */
export class FitThreadClient {
  private worker: Worker | undefined;
  /** Segments the current thread holds: it keeps every one it was sent (a new thread, none). */
  private held = new Set<string>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  /**
   * @param script compiled thread entry; defaults to `dist/fit-thread.js` next to this
   * package's `src/` and `dist/` (tests run from `src/`, where no `.js` exists).
   */
  constructor(private readonly script: string = resolve(__dirname, '..', 'dist', 'fit-thread.js')) {}

  /**
   * Runs `task` in the thread; rejects with TrainingDataError for data no retry can fix.
   * `segment` reads the rows of a segment a training task names (the job's segment store).
   */
  async run(task: StepTask, onProgress?: (fraction: number) => void, segment?: (hash: string) => Promise<LabeledSet>): Promise<StepOutcome> {
    if (this.closed) throw new Error('fit thread is closed');
    const named = task.kind === 'train' ? [...new Set([...(task.fromScratch ? [] : task.accumulated.segments), ...task.trusted.segments, ...task.growing.segments])] : [];
    if (named.length > 0 && !segment) throw new Error('a training task needs a reader of its segments');
    // Every segment is read through the job's store, held by the thread or not: the store
    // keeps what it read, and checks a segment against its hash on the first read, so a
    // damaged or missing file still fails the job that needs it.
    const sets = segment ? await Promise.all(named.map((h) => segment(h))) : [];
    if (this.closed) throw new Error('fit thread is closed');
    // From here to the post nothing awaits: `held` is the set of the thread the task goes to.
    const worker = this.ensureWorker();
    const segments: TaskMessage['segments'] = [];
    named.forEach((h, i) => {
      if (!this.held.has(h)) segments.push([h, sets[i] as LabeledSet]);
    });
    const id = this.nextId++;
    return new Promise<StepOutcome>((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise, reject, onProgress });
      worker.postMessage({ id, task, segments } satisfies TaskMessage);
      for (const [h] of segments) this.held.add(h);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script);
    this.held = new Set();
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
