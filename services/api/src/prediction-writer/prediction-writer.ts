import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromWriter, ToWriter, WriterSettings } from './messages';
import type { ServedPredictions } from './served';
import { ServedBatch } from './served-batch';

/** Longest a served answer waits on the event loop before it is handed to the writer thread. */
const HAND_OVER_MS = 20;
/** A batch this large is handed over at once rather than at the next tick of the timer. */
const HAND_OVER_ANSWERS = 512;
/** Answers handed over or waiting, at most; past it answers are dropped (and counted), not buffered without bound. */
const DEFAULT_MAX_PENDING = 100_000;
/** Wait before a writer thread that died is started again. */
const RESTART_MS = 1000;

/**
 * Where served predictions go after their answer is sent: the prediction log
 * (`results/predictions.log`) and the feedback index in Redis, both written on a thread of
 * their own rather than on the API's event loop.
 *
 * Measured under load on /predict (docs/benchmarks.md): with both written on the event loop,
 * building each prediction's log line and index entry, encoding them, and sending them to the
 * file and to Redis took about a quarter of the API's CPU per request, and each 20 ms flush of
 * the index held every request in flight up. Here the event loop only packs the answer's parts
 * (text it already has, and plain values) into a ServedBatch, and every 20 ms (or 512
 * answers) transfers the batch to the writer thread in one message; the thread runs
 * PredictionLog and PredictionIndex, unchanged in what they write.
 *
 * Never throws into `/predict`, never makes it wait. If the writer thread falls behind by
 * `maxPending` answers, later ones are dropped and counted (a warning says so); if it dies, it
 * is started again after a second, and what it held is lost (also counted).
 */
export class PredictionWriter {
  private worker: Worker | undefined;
  private readonly batch = new ServedBatch();
  /** Answers handed to the thread and not yet taken by it. */
  private inFlight = 0;
  private dropped = 0;
  private warnedAt = 0;
  private seq = 0;
  private readonly flushed = new Map<number, () => void>();
  private closing: Promise<void> | undefined;
  private onClosed: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly maxPending: number;
  private readonly workerPath: string;

  constructor(
    private readonly settings: WriterSettings,
    private readonly opts: {
      logger: Logger;
      /** The writer thread's script: dist/prediction-writer/writer-thread.js beside this file (tests running the sources name the built one). */
      workerPath?: string;
      maxPending?: number;
    },
  ) {
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
    this.workerPath = opts.workerPath ?? join(__dirname, 'writer-thread.js');
    if (!this.enabled) return;
    this.worker = this.start();
    this.timer = setInterval(() => this.handOver(), HAND_OVER_MS).unref();
  }

  /** Whether anything is written at all (the log or the index is on). */
  get enabled(): boolean {
    return this.settings.log !== undefined || this.settings.index !== undefined;
  }

  /** Answers dropped since start: the writer thread fell behind, died holding them, or could not read them. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Records one answer's predictions; they reach the thread within 20 ms. */
  record(p: ServedPredictions): void {
    if (!this.enabled || this.closing) return;
    if (this.inFlight + this.batch.answers >= this.maxPending) {
      this.drop(1, 'the prediction writer is behind');
      return;
    }
    this.batch.append(p);
    if (this.batch.answers >= HAND_OVER_ANSWERS) this.handOver();
  }

  /** Resolves once every answer recorded before the call is in the index (the log's lines are with its writer). */
  flush(): Promise<void> {
    if (!this.worker || this.closing) return this.closing ?? Promise.resolve();
    this.handOver();
    const seq = ++this.seq;
    return new Promise<void>((resolve) => {
      this.flushed.set(seq, resolve);
      this.send({ type: 'flush', seq });
    });
  }

  /** Writes what is recorded, closes the log and the index's connection, and ends the thread. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.timer);
      const worker = this.worker;
      if (!worker) return;
      this.handOver();
      await new Promise<void>((resolve) => {
        this.onClosed = resolve;
        worker.once('exit', () => resolve());
        this.send({ type: 'close' });
      });
      await worker.terminate();
    })();
    return this.closing;
  }

  private handOver(): void {
    if (this.batch.answers === 0 || !this.worker) return;
    const batch = this.batch.take();
    this.inFlight += batch.answers;
    this.worker.postMessage({ type: 'served', batch } satisfies ToWriter, [batch.nums, batch.text]);
  }

  private send(m: ToWriter): void {
    this.worker?.postMessage(m);
  }

  private start(): Worker {
    const worker = new Worker(this.workerPath, { workerData: this.settings });
    // The thread never keeps the API alive: shutdown closes it explicitly.
    worker.unref();
    worker.on('message', (m: FromWriter) => this.receive(m));
    worker.on('error', (err) => this.opts.logger.error({ err }, 'prediction writer thread failed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      // Whatever the thread still held is lost; waiting flushes are answered (there is nothing more to wait for).
      if (this.inFlight > 0) this.drop(this.inFlight, 'the prediction writer thread ended');
      this.inFlight = 0;
      for (const resolve of this.flushed.values()) resolve();
      this.flushed.clear();
      if (this.closing) return;
      this.opts.logger.error({ code }, `prediction writer thread exited; starting it again in ${RESTART_MS} ms`);
      setTimeout(() => {
        if (!this.closing) this.worker = this.start();
      }, RESTART_MS).unref();
    });
    return worker;
  }

  private receive(m: FromWriter): void {
    switch (m.type) {
      case 'written':
        this.inFlight -= m.answers;
        this.batch.giveBack(m.nums, m.text);
        if (m.failed > 0) this.drop(m.failed, 'the prediction writer could not read an answer');
        return;
      case 'flushed': {
        const resolve = this.flushed.get(m.seq);
        this.flushed.delete(m.seq);
        resolve?.();
        return;
      }
      case 'warn':
        this.opts.logger.warn(m.fields, m.msg);
        return;
      case 'closed':
        this.onClosed?.();
        return;
    }
  }

  /** Counts dropped answers; warns at most once every 10 s (a stuck writer must not flood the log). */
  private drop(n: number, why: string): void {
    this.dropped += n;
    const now = Date.now();
    if (now - this.warnedAt < 10_000) return;
    this.warnedAt = now;
    this.opts.logger.warn({ dropped: n, dropped_total: this.dropped }, `${why}: predictions not logged nor indexed`);
  }
}
