/**
 * What `work` resolves to, or `fallback` as soon as `signal` aborts (at once if it already
 * has). `work` is not cancelled, only no longer awaited; its rejection still reaches the
 * caller if it comes first. The abort listener is removed either way, so a long-lived signal
 * (the server's shutdown) does not collect one listener per request.
 */
export async function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, fallback: T): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    // Not awaited any more: keep its eventual rejection from being reported as unhandled.
    work.catch(() => undefined);
    return fallback;
  }
  let onAbort = (): void => undefined;
  const aborted = new Promise<T>((done) => {
    onAbort = () => done(fallback);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    work.catch(() => undefined);
  }
}
