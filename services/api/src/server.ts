import { DEFAULT_MODEL } from '@ct/core';
import { createServer as createHttpServer, type Server } from 'node:http';
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
  return createHttpServer((req, res) => {
    if (!lane(req, res)) app(req, res);
  });
}
