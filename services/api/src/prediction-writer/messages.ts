import type { PredictionLogOptions } from '../prediction-log';
import type { PackedBatch } from './served-batch';

/**
 * What the writer thread is started with. It crosses a thread boundary inside one process and
 * one build (both ends are this package's code), so a TypeScript type is its contract, without
 * a schema checked at run time.
 */
export interface WriterSettings {
  /** The prediction log: its data directory and rotation, or undefined when it is off. */
  log: { dataDir: string; rotation: PredictionLogOptions } | undefined;
  /** The feedback index: its Redis and settings, or undefined when it is off. */
  index: { redisUrl: string; prefix: string; retentionS: number; flushMs?: number } | undefined;
}

/** From the event loop to the writer thread. */
export type ToWriter =
  /** Answers to write, packed (ServedBatch; its buffers are transferred). */
  | { type: 'served'; batch: PackedBatch }
  /** Write the index now, then answer `flushed` with `seq`. */
  | { type: 'flush'; seq: number }
  /** Write everything, close the file and the connection, answer `closed`, and end. */
  | { type: 'close' };

/** From the writer thread to the event loop. */
export type FromWriter =
  /**
   * A `served` batch was taken: `answers` of them, `failed` of which could not be written (the
   * event loop counts what is in flight, and what was lost); its buffers come back (transferred) for reuse.
   */
  | { type: 'written'; answers: number; failed: number; nums: ArrayBuffer; text: ArrayBuffer }
  | { type: 'flushed'; seq: number }
  /** Something to log on the API's logger (predictions dropped, a failed write). */
  | { type: 'warn'; fields: Record<string, unknown>; msg: string }
  | { type: 'closed' };
