import pino from 'pino';

/** What pino needs of a destination, and what the API's shutdown calls. */
export interface LogDestination {
  write(line: string): boolean;
  /** Hands the lines gathered so far to the file, then calls back as the writer's flush does. */
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

/**
 * The API's log destination: pino's asynchronous sonic-boom on `fd`, fed one string per turn
 * of the event loop rather than one per line.
 *
 * Measured under load on /predict (docs/benchmarks.md): sonic-boom measures the text it is
 * still gathering at every `write`, which makes V8 copy all of it into one flat string, so
 * while a write to the file was in flight each request's log line copied the up to 16 KiB of
 * lines gathered before it. Those copies were the largest allocation on the hot path, and
 * the garbage collections they caused showed in its p99. Here lines are gathered in an array
 * and joined once per turn (setImmediate), so the writer is called once per turn.
 *
 * A line waits at most until the end of the turn it was logged in; `flush`, `flushSync` and
 * process exit (after pino's own exit flush of the writer) hand over what is gathered.
 */
export function batchedLogDestination(fd: number): LogDestination {
  const out = pino.destination({ dest: fd, sync: false });
  let lines: string[] = [];
  let scheduled = false;
  const drain = (): void => {
    scheduled = false;
    if (lines.length === 0) return;
    const text = lines.length === 1 ? (lines[0] as string) : lines.join('');
    lines = [];
    try {
      out.write(text);
    } catch {
      // The writer was ended (pino ends it on beforeExit): a log line never throws into the API.
    }
  };
  process.once('exit', () => {
    drain();
    try {
      out.flushSync();
    } catch {
      // Not open yet, or the fd is gone: nothing more can be done at exit.
    }
  });
  return {
    write(line: string): boolean {
      lines.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
      return true;
    },
    flush(cb?: (err?: Error) => void): void {
      drain();
      out.flush(cb);
    },
    flushSync(): void {
      drain();
      out.flushSync();
    },
  };
}
