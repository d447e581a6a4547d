import type { z } from 'zod';
import type { HttpResponse } from './harness';

/**
 * Parses a 200 JSON body with the schema the OpenAPI document publishes for it (the docs match
 * the answers); a failure shows the answer's status and the start of its text.
 */
export function conforms<S extends z.ZodType>(schema: S, r: HttpResponse): z.output<S> {
  expect({ status: r.status, type: r.headers.get('content-type'), text: r.status === 200 ? '' : r.text.slice(0, 400) }).toEqual({
    status: 200,
    type: expect.stringMatching(/^application\/json/),
    text: '',
  });
  const parsed = schema.safeParse(r.body);
  if (!parsed.success) throw new Error(`body does not match its documented schema: ${parsed.error.message}\n${r.text.slice(0, 500)}`);
  return parsed.data;
}

/** The answer is a problem+json with this status and code. */
export function expectProblem(r: HttpResponse, status: number, code: string): void {
  expect({ status: r.status, code: r.body?.code }).toEqual({ status, code });
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}
