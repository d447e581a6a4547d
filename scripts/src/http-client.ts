/** A tiny JSON client over fetch for the demo, the benchmarks and the end-to-end test. */
export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Nothing answered at the URL (connection refused, unknown host, reset): the stack is not
 * running there. fetch says only "fetch failed"; this says where and why.
 */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    const reason = (cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    super(`no answer from ${url} (${reason?.code ?? reason?.message ?? (cause as Error | undefined)?.message ?? 'unreachable'})`, { cause });
  }
}

let bearer: string | undefined;

/** Sends `Authorization: Bearer <token>` with every later request (undefined: none). */
export function useToken(token: string | undefined): void {
  bearer = token;
}

/** Sends a request with a JSON body (if any) and parses a JSON or problem+json answer. Throws UnreachableError if nothing answers. */
export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  given: Record<string, string> = {},
): Promise<Reply<T>> {
  const url = new URL(path, base);
  const headers = bearer === undefined ? given : { authorization: `Bearer ${bearer}`, ...given };
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new UnreachableError(url.href, err);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** Polls `GET /jobs/:id` until the job completes or fails, reporting progress; throws at the deadline. */
export async function waitForJob(
  base: string,
  jobId: string,
  onProgress: (job: any) => void = () => undefined,
  timeoutMs = 120_000,
  intervalMs = 100,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await request(base, 'GET', `/jobs/${encodeURIComponent(jobId)}`);
    if (status !== 200) throw new Error(`GET /jobs/${jobId} answered ${status}: ${JSON.stringify(body)}`);
    onProgress(body);
    if (body.state === 'completed' || body.state === 'failed') return body;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
