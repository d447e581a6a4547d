/**
 * Polls `fn` until it returns something truthy (and returns that), or throws after
 * `timeoutMs` with the last value or error. `fn` may throw while the condition is not met.
 */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, what = 'condition', intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`eventually: ${what} not met within ${timeoutMs} ms (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
