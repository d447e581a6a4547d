import express from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BODY_BYTES } from '../api-schemas';
import { isJsonType } from '../validate';

/** body-parser for what the lean reader leaves to it: compressed bodies and other charsets. */
const bodyParser = express.json({ limit: MAX_BODY_BYTES, strict: true });


type BodyRequest = IncomingMessage & { body?: unknown; _body?: boolean };

/** A request's JSON body: the parsed value, and the text it was parsed from when the lean reader read it. */
export interface JsonBody {
  /** Undefined when the body is not declared as JSON. */
  value: unknown;
  /** The body as sent (UTF-8, uncompressed); undefined when body-parser read it. */
  text?: string;
}

const NO_BODY: JsonBody = Object.freeze({ value: undefined });

/**
 * Reads a JSON request body with body-parser's rules (size limit, strict JSON: an object or an
 * array) and its error types, which problem.ts maps to 400/413/415. A body that is not
 * declared as JSON is not read (undefined): the handler refuses it with a 415. A plain UTF-8
 * body, the common case, is read by a lean reader without body-parser's per-request machinery
 * (on the predict path that machinery cost more than the prediction).
 */
export function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<JsonBody> {
  if (!isJsonType(req.headers['content-type'])) return Promise.resolve(NO_BODY);
  return new Promise((resolve, reject) => {
    if (isPlainUtf8(req)) {
      // The lean reader fails with body-parser's `{ type }` objects, which problem.ts maps.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      readPlainJson(req, (err, body) => (err ? reject(err) : resolve(body as JsonBody)));
      return;
    }
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    bodyParser(req, res, (err?: unknown) => (err ? reject(err) : resolve({ value: (req as BodyRequest).body })));
  });
}

/** No content encoding and a UTF-8 (or unstated) charset: the common case the lean reader takes. */
function isPlainUtf8(req: IncomingMessage): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  const type = req.headers['content-type'] ?? '';
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
  return charset === undefined || /^utf-?8$/i.test(charset);
}

function readPlainJson(req: IncomingMessage, done: (err: unknown, body?: JsonBody) => void): void {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    done({ type: 'entity.too.large' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      failed = true;
      done({ type: 'entity.too.large' });
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', () => {
    if (!failed) {
      failed = true;
      done({ type: 'request.aborted' });
    }
  });
  req.on('end', () => {
    if (failed) return;
    const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString('utf8');
    const first = /\S/.exec(text)?.[0];
    if (first !== '{' && first !== '[') {
      done({ type: 'entity.parse.failed' });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      done({ type: 'entity.parse.failed' });
      return;
    }
    done(undefined, { value, text });
  });
}
