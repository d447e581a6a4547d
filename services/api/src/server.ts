import { DEFAULT_MODEL } from '@ct/core';
import { createServer as createHttpServer, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from './errors/api-error';
import { renderProblem } from './errors/problem';
import { createApp } from './app';
import type { AppDeps } from './app-deps';
import { createPredictLane } from './predict-lane';

/**
 * The API's HTTP server: predictions on the lane (see predict-lane.ts), everything else on
 * the Express app. `main.ts` and the tests both build it here, so they serve the same thing.
 */
export function createServer(deps: AppDeps): Server {
  const app = createApp(deps);
  const lane = createPredictLane(deps, DEFAULT_MODEL);
  const server = createHttpServer((req, res) => {
    if (!lane(req, res)) app(req, res);
  });
  // Requests node's parser refuses before any handler runs (a malformed request line, raw
  // non-ASCII in the path, headers past the limit) get a problem+json too, not a bare 400.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (err.code === 'ECONNRESET')) {
      socket.destroy();
      return;
    }
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
    const problem = renderProblem(new ApiError(code, code === 'headers_too_large' ? 'the request headers exceed the size limit' : 'the request could not be parsed as HTTP'), '', undefined);
    const head = [`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`, ...Object.entries(problem.headers).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${Buffer.byteLength(problem.body)}`, 'Connection: close'];
    socket.end(`${head.join('\r\n')}\r\n\r\n${problem.body}`);
  });
  return server;
}
