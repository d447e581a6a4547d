import { DEFAULT_MODEL } from '@ct/core';
import express, { type Express, type Request } from 'express';
import pinoHttp from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import { MAX_BODY_BYTES } from './api-schemas';
import type { AppDeps, ModelContext } from './app-deps';
import { errorMiddleware, notFoundHandler } from './errors/error-middleware';
import { buildOpenApi } from './openapi';
import { compareHandler } from './routes/compare';
import { healthHandler } from './routes/health';
import { jobStatusHandler, resetHandler, rollbackHandler, trainHandler, trustedEvalHandler } from './routes/jobs';
import { modelInfoHandler } from './routes/model-info';
import { trustedEvalInfoHandler } from './routes/trusted-eval';
import { archiveModelHandler, registerModelHandler } from './routes/registration';
import { requestIdOf } from './request-id';
import { requestLogOptions } from './request-log-level';
// The registry API, read-only part (issue 8, section 4): see the block before the 404 handler.
import { activationsHandler } from './routes/activations';
import { historyHandler } from './routes/history';
import { modelHealthHandler, modelJobHandler } from './routes/model-aliases';
import { modelDetailHandler, modelListHandler } from './routes/models';
import { rootHandler } from './routes/root';
import { versionDetailHandler, versionListHandler } from './routes/versions';

/**
 * Builds the Express app. The lab's paths (`/train`, `/model/info`, `DELETE /model/history`)
 * serve the default model; `/models/:model/...` serves any model the catalogue serves at the
 * time of the request (models are registered and archived at run time). `POST /predict` is
 * served ahead of this app by the predict lane: build the server with `createServer` (server.ts).
 */
export function createApp(deps: AppDeps): Express {
  const { catalog } = deps;
  const resolve = (req: Request): ModelContext => catalog.resolve((req.params as { model?: string }).model ?? DEFAULT_MODEL);
  // Rebuilt only when the served models changed: it lists each model's paths and schemas.
  let openapi: { version: number; doc: object } | undefined;
  const openapiDoc = (): object => {
    if (openapi?.version !== catalog.version) openapi = { version: catalog.version, doc: buildOpenApi(catalog.specs(), catalog.contexts) };
    return openapi.doc;
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const id = requestIdOf(req);
        res.setHeader('X-Request-Id', id);
        return id;
      },
      ...requestLogOptions,
      serializers: { req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }), res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) },
    }),
  );
  app.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));

  app.get('/health', healthHandler(deps));
  app.get('/openapi.json', (_req, res) => {
    res.json(openapiDoc());
  });
  // The UI fetches the document, so it shows the models served now, not those at start.
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerUrl: '/openapi.json' }));
  app.get('/jobs/:id', jobStatusHandler(deps));

  const model = express.Router({ mergeParams: true });
  model.post('/train', trainHandler(deps, resolve));
  model.get('/model/info', modelInfoHandler(deps, resolve));
  model.delete('/model/history', resetHandler(deps, resolve));
  model.get('/model/trusted-eval', trustedEvalInfoHandler(deps, resolve));
  model.put('/model/trusted-eval', trustedEvalHandler(deps, resolve, 'replace'));
  model.post('/model/trusted-eval', trustedEvalHandler(deps, resolve, 'add'));
  app.use('/', model);
  app.use('/models/:model', model);
  app.post('/models/:model/rollback', rollbackHandler(deps, resolve));
  app.post('/predict/compare', compareHandler(deps));

  // --- The registry API, read-only part (issue 8, section 4) ----------------------------------
  // GET / (service name, version, links), the catalogue (GET /models, GET /models/:model), each
  // model's candidates, history and activation timeline, and the app-wide paths the README
  // promises under /models/:model (/jobs/:id, /health). Nothing here writes.
  app.get('/', rootHandler());
  app.get('/models', modelListHandler(deps));
  app.get('/models/:model', modelDetailHandler(deps, resolve));
  const registry = express.Router({ mergeParams: true });
  registry.get('/versions', versionListHandler(deps, resolve));
  registry.get('/versions/:version', versionDetailHandler(deps, resolve));
  registry.get('/history', historyHandler(deps, resolve));
  registry.get('/activations', activationsHandler(deps, resolve));
  registry.get('/jobs/:id', modelJobHandler(deps, resolve));
  registry.get('/health', modelHealthHandler(deps, resolve));
  app.use('/models/:model', registry);
  // --- end of the registry API -----------------------------------------------------------------

  // Registration at run time and archiving (issue 8, section 1): jobs on the registry queue.
  app.post('/models', registerModelHandler(deps));
  app.delete('/models/:model', archiveModelHandler(deps));

  app.use(notFoundHandler);
  app.use(errorMiddleware);
  return app;
}
