import pino from 'pino';

/** What pino needs of a destination, and what the API's shutdown calls. */
export interface LogDestination {
  write(line: string): boolean;
  /** Hands the lines gathered so far to the file, then calls back as the writer's flush does. */
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

/** Gathered text is handed to the writer once it reaches this many characters... */
const WRITE_AT_CHARS = 32 * 1024;
/** ...or this long after the first line of it was logged, whichever comes first. */
const WRITE_AFTER_MS = 100;

/**
 * The API's log destination: pino's asynchronous sonic-boom on `fd`, fed 32 KiB at a time
 * (or what 100 ms gathered) rather than one line, or one turn of the event loop, at a time.
 *
 * Measured under load on /predict (docs/benchmarks.md): sonic-boom measures the text it is
 * still gathering at every `write`, which makes V8 copy all of it into one flat string, so
 * while a write to the file was in flight each request's log line copied the up to 16 KiB of
 * lines gathered before it. Here lines are gathered in an array and joined once per hand-over.
 * Handing over once per turn still meant a file write per turn, each a trip through libuv's
 * thread pool (a thread woken, a write, the loop woken again): thousands a second under load,
 * on two cores competing with the event loop itself. Gathering 32 KiB makes that tens.
 *
 * A line waits at most 100 ms; `flush`, `flushSync` and process exit (after pino's own exit
 * flush of the writer) hand over what is gathered.
 */
export function batchedLogDestination(fd: number): LogDestination {
  // sonic-boom splits what it is given into writes of maxWrite (16 KiB by default).
  const out = pino.destination({ dest: fd, sync: false, maxWrite: 256 * 1024 });
  let lines: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | undefined;
  const drain = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return;
    const text = lines.length === 1 ? (lines[0] as string) : lines.join('');
    lines = [];
    chars = 0;
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
      chars += line.length;
      if (chars >= WRITE_AT_CHARS) drain();
      else if (timer === undefined) {
        timer = setTimeout(drain, WRITE_AFTER_MS);
        // A pending line never keeps the process alive: exit hands it over.
        timer.unref();
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
