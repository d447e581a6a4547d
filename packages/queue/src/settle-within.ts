/**
 * Waits for `promise` to settle, or `ms` at most; never rejects. For shutdown paths: BullMQ's
 * and ioredis's close calls wait for a connection that never returns while Redis is down.
 */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
