/** A tiny JSON client over fetch for the demo, the benchmarks and the end-to-end test. */
export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** Sends a request with a JSON body (if any) and parses a JSON or problem+json answer. */
export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
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
