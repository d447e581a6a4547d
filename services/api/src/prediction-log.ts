import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SonicBoom from 'sonic-boom';

/** One served prediction, as written to `results/predictions.log`. */
export interface PredictionRecord {
  prediction_id: string;
  model: string;
  version: string;
  input: unknown;
  /** The prediction as JSON text: it is serialized once, for the answer and the log alike. */
  outputJson: string;
}

/**
 * Appends one JSON line per prediction to `<dataDir>/results/predictions.log`. Writes are
 * buffered and asynchronous (sonic-boom, the writer under pino), so logging does not hold
 * up `/predict`; a line reaches the file within a second (4 KiB batches, a periodic flush),
 * and `close()` flushes the rest.
 */
export class PredictionLog {
  private readonly out: SonicBoom | undefined;
  private closing: Promise<void> | undefined;

  constructor(dataDir: string, enabled: boolean) {
    if (!enabled) return;
    const dir = join(dataDir, 'results');
    mkdirSync(dir, { recursive: true });
    this.out = new SonicBoom({ dest: join(dir, 'predictions.log'), sync: false, append: true, minLength: 4096, periodicFlush: 1000 });
  }

  /** Records one prediction (a no-op when disabled or closed). */
  write(record: PredictionRecord): void {
    if (!this.out || this.closing) return;
    const { prediction_id, model, version, input, outputJson } = record;
    const head = JSON.stringify({ time: new Date().toISOString(), prediction_id, model, version, input });
    this.out.write(`${head.slice(0, -1)},"output":${outputJson}}\n`);
  }

  /** Flushes and closes the file. Idempotent; safe before the file has finished opening. */
  close(): Promise<void> {
    const out = this.out;
    this.closing ??= out
      ? new Promise<void>((resolve) => {
          out.once('close', () => resolve());
          out.once('error', () => resolve());
          out.end();
        })
      : Promise.resolve();
    return this.closing;
  }
}
