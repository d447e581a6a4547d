import { mkdirSync, statSync } from 'node:fs';
import { readdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import SonicBoom from 'sonic-boom';

/** One served prediction, as written to `results/predictions.log`. */
export interface PredictionRecord {
  prediction_id: string;
  model: string;
  version: string;
  /** The request body as JSON text (the line's `input`; empty: none). */
  inputJson: string;
  /** The prediction as JSON text: it is serialized once, for the answer and the log alike. */
  outputJson: string;
  /** When it was served, Unix ms (the line's `time`); by default, when it is written. */
  t?: number;
}

/** When the live file is rotated, and how much of the past is kept. */
export interface PredictionLogOptions {
  /**
   * Size of a file: a line that would take the live file past it starts a new file (a single
   * larger line gets a file of its own). Default 64 MiB.
   */
  maxBytes?: number;
  /** Age of a file: the first line written this long after the live file was started starts a new file. Default 24 h; `Infinity` turns it off. */
  maxAgeMs?: number;
  /**
   * Files kept, the live one included: `predictions.log` and up to `maxFiles - 1` rotated
   * ones, `predictions.log.1` (newest) to `predictions.log.<maxFiles - 1>` (oldest); a
   * rotation removes the oldest past that. Disk use stays within `maxBytes * maxFiles`.
   * Default 8 (512 MiB with the default size).
   */
  maxFiles?: number;
  /** The clock (ms since the epoch): the lines' `time` field and age-based rotation. Tests inject one. */
  now?: () => number;
  /**
   * Told about a failed write, rename or removal. The log never throws into `/predict`; by
   * default the first failure of each kind is reported once on stderr.
   */
  onError?: (err: Error, during: 'write' | 'rotate') => void;
}

/** The defaults of {@link PredictionLogOptions}. */
export const DEFAULT_PREDICTION_LOG_OPTIONS: Readonly<Required<Pick<PredictionLogOptions, 'maxBytes' | 'maxAgeMs' | 'maxFiles'>>> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxAgeMs: 24 * 3600 * 1000,
  maxFiles: 8,
});

const FILE = 'predictions.log';

/** sonic-boom in buffer mode (`contentMode: 'buffer'`) takes bytes; its types only know text. */
type ByteWriter = Omit<SonicBoom, 'write'> & { write(data: Buffer): boolean };

/** Reports each kind of failure once: a full disk must not print a line per prediction. */
function stderrOnce(): NonNullable<PredictionLogOptions['onError']> {
  const seen = new Set<string>();
  return (err, during) => {
    const key = `${during}:${(err as NodeJS.ErrnoException).code ?? err.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    process.stderr.write(`prediction log: ${during} failed: ${err.message}\n`);
  };
}

/**
 * Appends one JSON line per prediction to `<dataDir>/results/predictions.log`. It runs on the
 * API's writer thread (PredictionWriter), off `/predict`'s event loop; writes are buffered
 * and asynchronous (sonic-boom, the writer under pino): a line reaches the file within a second (64 KiB batches, a periodic flush),
 * and `close()` flushes the rest.
 *
 * Lines go to the writer as bytes (sonic-boom's buffer mode), each encoded once. In its text
 * mode sonic-boom measures the text it is still gathering at every write, which makes V8
 * copy all of it into one flat string: while a file write was in flight under load, each line
 * copied the up to 16 KiB gathered before it, and those copies were the largest allocation
 * on /predict (the garbage collections they caused showed in its p99).
 *
 * The file is rotated by size and by age, and the oldest rotated files are removed (see
 * {@link PredictionLogOptions}): one client sending 1,000-row predictions writes about
 * 19 MB/s, and an unrotated log fills the volume. A rotation runs off the hot path: the
 * writer of the full file is ended (its buffer flushed to that file), the files are renamed
 * asynchronously, and a new writer starts a fresh `predictions.log`. Lines that arrive
 * meanwhile wait in memory for the file they belong to, so every line lands whole, once, in
 * order, and no file grows past `maxBytes` (unless one line is larger).
 */
export class PredictionLog {
  private readonly enabled: boolean;
  private out: ByteWriter | undefined;
  private readonly path: string = '';
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly maxFiles: number;
  private readonly now: () => number;
  private readonly onError: NonNullable<PredictionLogOptions['onError']>;
  /** Bytes of the file being filled: the live one, or the last of `waiting` during a rotation. */
  private bytes = 0;
  /** When that file was started: the clock at open or rotation, or an existing file's birth. */
  private startedAt = 0;
  /** During a rotation: the lines of each file still to be written, oldest file first. */
  private waiting: Buffer[][] | undefined;
  private rotating: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private isoAt = NaN;
  private iso = '';

  constructor(dataDir: string, enabled: boolean, options: PredictionLogOptions = {}) {
    const o = { ...DEFAULT_PREDICTION_LOG_OPTIONS, ...options };
    if (!(o.maxBytes >= 1)) throw new RangeError(`prediction log: maxBytes must be at least 1 (got ${o.maxBytes})`);
    if (!(o.maxAgeMs >= 1)) throw new RangeError(`prediction log: maxAgeMs must be at least 1 (got ${o.maxAgeMs})`);
    if (!Number.isInteger(o.maxFiles) || o.maxFiles < 1) throw new RangeError(`prediction log: maxFiles must be an integer of at least 1 (got ${o.maxFiles})`);
    this.enabled = enabled;
    this.maxBytes = o.maxBytes;
    this.maxAgeMs = o.maxAgeMs;
    this.maxFiles = o.maxFiles;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? stderrOnce();
    if (!enabled) return;
    const dir = join(dataDir, 'results');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, FILE);
    this.startedAt = this.now();
    // Once, at start (never per write): a restarted API goes on counting the file it appends to.
    try {
      const s = statSync(this.path);
      this.bytes = s.size;
      // Where the file system records a birth time it dates the file; else its last write does.
      if (s.size > 0) this.startedAt = Math.min(this.startedAt, s.birthtimeMs > 0 ? s.birthtimeMs : s.mtimeMs);
    } catch {
      // No file yet: the writer creates it.
    }
    this.out = this.open();
  }

  private open(): ByteWriter {
    const out = new SonicBoom({ dest: this.path, sync: false, append: true, minLength: 64 * 1024, maxWrite: 256 * 1024, periodicFlush: 1000, contentMode: 'buffer' });
    // Without a listener an 'error' event (a full disk) would end the API; a log is not worth that.
    out.on('error', (err: Error) => this.onError(err, 'write'));
    return out as unknown as ByteWriter;
  }

  /** Records one prediction (a no-op when disabled or closed). */
  write(record: PredictionRecord): void {
    if (!this.enabled || this.closing) return;
    const now = this.now();
    const { prediction_id, model, version, inputJson, outputJson } = record;
    // Written field by field (the order of the object it replaces) rather than an object
    // stringified and cut open: one string per line, encoded once.
    const input = inputJson === '' ? '' : `,"input":${inputJson}`;
    const line = Buffer.from(`{"time":"${this.isoTime(record.t ?? now)}","prediction_id":${JSON.stringify(prediction_id)},"model":${JSON.stringify(model)},"version":${JSON.stringify(version)}${input},"output":${outputJson}}\n`);
    const size = line.length;
    // A line that would overfill the file, or arrives once it is too old, starts the next one.
    const full = this.bytes > 0 && (this.bytes + size > this.maxBytes || now - this.startedAt >= this.maxAgeMs);
    if (full) {
      this.bytes = 0;
      this.startedAt = now;
      if (this.waiting) this.waiting.push([]);
      else this.startRotation();
    }
    this.bytes += size;
    const waiting = this.waiting?.at(-1);
    if (waiting) waiting.push(line);
    else this.out?.write(line);
  }

  /** `now` as ISO 8601 text, made once per millisecond: under load many lines share one. */
  private isoTime(now: number): string {
    if (now !== this.isoAt) {
      this.isoAt = now;
      this.iso = new Date(now).toISOString();
    }
    return this.iso;
  }

  /** Starts a rotation; later lines wait in `waiting` until their file's writer exists. */
  private startRotation(): void {
    this.waiting = [[]];
    this.rotating = this.rotateAll().finally(() => {
      this.rotating = undefined;
    });
  }

  /**
   * Closes the full file, shifts the rotated files by one, opens the next file with the lines
   * waiting for it; again while more files filled up meanwhile.
   */
  private async rotateAll(): Promise<void> {
    for (;;) {
      const full = this.out;
      // Closed first: the file is complete, and created, before it is renamed.
      if (full) await endWriter(full);
      await this.shiftFiles().catch((err: unknown) => this.onError(asError(err), 'rotate'));
      const next = this.open();
      const lines = (this.waiting as Buffer[][]).shift() as Buffer[];
      if (lines.length > 0) next.write(Buffer.concat(lines));
      this.out = next;
      if ((this.waiting as Buffer[][]).length === 0) break;
    }
    this.waiting = undefined;
  }

  private rotated(n: number): string {
    return `${this.path}.${n}`;
  }

  /** The numbers of the rotated files present, ascending. */
  private async rotatedNumbers(): Promise<number[]> {
    return (await readdir(dirname(this.path)))
      .map((name) => (name.startsWith(`${FILE}.`) ? Number(name.slice(FILE.length + 1)) : NaN))
      .filter((n) => Number.isInteger(n) && n >= 1)
      .sort((a, b) => a - b);
  }

  /**
   * Removes the rotated files that would be numbered past `maxFiles - 1` (the oldest; also any
   * left by a run with a larger setting), renames `.n` to `.n+1` from the oldest down, then
   * the live file to `.1`; with `maxFiles` 1 the live file goes. One listing, then only files
   * that exist are touched.
   */
  private async shiftFiles(): Promise<void> {
    const keep = this.maxFiles - 1;
    const present = await this.rotatedNumbers();
    for (const n of present.filter((k) => k >= keep)) await unlink(this.rotated(n)).catch(ignoreMissing);
    if (keep === 0) {
      await unlink(this.path).catch(ignoreMissing);
      return;
    }
    for (const n of present.filter((k) => k < keep).reverse()) await rename(this.rotated(n), this.rotated(n + 1)).catch(ignoreMissing);
    await rename(this.path, this.rotated(1)).catch(ignoreMissing);
  }

  /** Flushes and closes the file, after a rotation in flight (whose lines land first). Idempotent; safe before the file has finished opening. */
  close(): Promise<void> {
    this.closing ??= this.enabled
      ? (async () => {
          await this.rotating;
          if (this.out) await endWriter(this.out);
        })()
      : Promise.resolve();
    return this.closing;
  }
}

/** Ends `out` (its buffered lines are written first) and resolves once its file is closed, or it failed. */
function endWriter(out: ByteWriter): Promise<void> {
  return new Promise<void>((resolve) => {
    out.once('close', () => resolve());
    out.once('error', () => resolve());
    out.end();
  });
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
