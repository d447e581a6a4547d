import { DEFAULT_MODEL } from '@ct/core';
import express, { type Express, type Request } from 'express';
import swaggerUi from 'swagger-ui-express';
import type { AppDeps, ModelContext } from './app-deps';
import { errorMiddleware, notFoundHandler } from './errors/error-middleware';
import { buildOpenApi } from './openapi';
import { compareHandler } from './routes/compare';
import { healthHandler } from './routes/health';
import { jobStatusHandler, resetHandler, rollbackHandler, trainHandler, trustedEvalHandler } from './routes/jobs';
import { modelInfoHandler } from './routes/model-info';
import { trustedEvalInfoHandler } from './routes/trusted-eval';
import { archiveModelHandler, registerModelHandler } from './routes/registration';
import { expressSteps } from './pipeline/express-steps';
import { feedbackHandler, qualityHandler } from './routes/feedback';
import { automationInfoHandler, automationUpdateHandler } from './routes/automation';
import { driftHandler } from './routes/drift';
import { driftHistoryHandler } from './routes/drift-history';
import { qualitySeriesHandler } from './routes/quality-series';
import { createTokenHandler, listTokensHandler, revokeTokenHandler } from './routes/tokens';
import { activationsHandler } from './routes/activations';
import { historyHandler } from './routes/history';
import { modelHealthHandler, modelJobHandler } from './routes/model-aliases';
import { modelDetailHandler, modelListHandler } from './routes/models';
import { rootHandler } from './routes/root';
import { runCompareHandler, runSearchHandler } from './routes/runs';
import { versionDetailHandler, versionListHandler } from './routes/versions';
import { uiRouter } from './ui-route';
import { createWebhookHandler, deleteWebhookHandler, getWebhookHandler, listWebhooksHandler, redeliverWebhookHandler, rotateWebhookSecretHandler, updateWebhookHandler, webhookDeliveriesHandler } from './routes/webhooks';

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
  // The request pipeline (pipeline/request-pipeline.ts), shared with the predict lane: every
  // request gets an id and a log line; each route then admits its caller for what it does
  // (auth and rate limit) before its body is read.
  const { begin, guard, body } = expressSteps(deps.pipeline);
  app.use(begin);
  const read = guard('read', DEFAULT_MODEL);
  const train = guard('train', DEFAULT_MODEL);
  const admin = guard('admin', DEFAULT_MODEL);

  // Open: reveal no data.
  app.get('/', rootHandler());
  app.get('/health', healthHandler(deps));
  // Prometheus scrapes without a token: counts and durations, no data.
  app.get('/metrics', (_req, res, next) => {
    if (!deps.metrics) {
      next();
      return;
    }
    deps.metrics.render().then(({ contentType, body }) => {
      res.set('Content-Type', contentType).send(body);
    }, next);
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapiDoc());
  });
  // The UI fetches the document, so it shows the models served now, not those at start.
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerUrl: '/openapi.json' }));
  app.get('/jobs/:id', guard('read'), jobStatusHandler(deps));

  const model = express.Router({ mergeParams: true });
  model.post('/train', train, body, trainHandler(deps, resolve));
  model.get('/model/info', read, modelInfoHandler(deps, resolve));
  model.delete('/model/history', admin, resetHandler(deps, resolve));
  model.get('/model/trusted-eval', read, trustedEvalInfoHandler(deps, resolve));
  model.put('/model/trusted-eval', admin, body, trustedEvalHandler(deps, resolve, 'replace'));
  model.post('/model/trusted-eval', admin, body, trustedEvalHandler(deps, resolve, 'add'));
  app.use('/', model);
  app.use('/models/:model', model);
  app.post('/models/:model/rollback', admin, body, rollbackHandler(deps, resolve));
  app.post('/predict/compare', guard('predict'), body, compareHandler(deps));

  // The registry API, read-only part: the catalogue, each model's candidates, history and
  // activation timeline, and the app-wide paths under /models/:model (/jobs/:id, /health).
  app.get('/models', guard('read'), modelListHandler(deps));
  app.get('/models/:model', read, modelDetailHandler(deps, resolve));
  const registry = express.Router({ mergeParams: true });
  registry.get('/versions', read, versionListHandler(deps, resolve));
  registry.get('/versions/:version', read, versionDetailHandler(deps, resolve));
  registry.get('/history', read, historyHandler(deps, resolve));
  registry.get('/activations', read, activationsHandler(deps, resolve));
  registry.get('/jobs/:id', read, modelJobHandler(deps, resolve));
  registry.get('/health', modelHealthHandler(deps, resolve));
  app.use('/models/:model', registry);

  // Registration at run time and archiving: jobs on the registry queue.
  app.post('/models', guard('admin'), body, registerModelHandler(deps));
  app.delete('/models/:model', admin, archiveModelHandler(deps));

  // The feedback loop: labels for served predictions, live quality and drift, now and over time.
  app.post('/models/:model/feedback', guard('feedback'), body, feedbackHandler(deps, resolve));
  app.get('/models/:model/quality', read, qualityHandler(deps, resolve, deps.qualityWindowS));
  app.get('/models/:model/quality/series', read, qualitySeriesHandler(deps, resolve, deps.qualityWindowS));
  app.get('/models/:model/drift', read, driftHandler(deps, resolve));
  app.get('/models/:model/drift/history', read, driftHistoryHandler(deps, resolve));
  app.get('/models/:model/automation', read, automationInfoHandler(deps, resolve));
  app.put('/models/:model/automation', admin, body, automationUpdateHandler(deps, resolve));
  // Experiment tracking: every attempt that fitted a candidate is a run (routes/runs.ts).
  app.get('/models/:model/runs', read, runSearchHandler(deps, resolve));
  app.get('/runs/compare', guard('read'), runCompareHandler(deps));

  // Tokens made at run time (the environment's are configured, not managed here).
  app.post('/tokens', guard('admin'), body, createTokenHandler(deps));
  app.get('/tokens', guard('admin'), listTokensHandler(deps));
  app.delete('/tokens/:id', guard('admin'), revokeTokenHandler(deps));

  // Webhooks (admin): endpoints that receive signed events (routes/webhooks.ts); the trainer delivers.
  app.post('/webhooks', guard('admin'), body, createWebhookHandler(deps));
  app.get('/webhooks', guard('admin'), listWebhooksHandler(deps));
  app.get('/webhooks/:id', guard('admin'), getWebhookHandler(deps));
  app.patch('/webhooks/:id', guard('admin'), body, updateWebhookHandler(deps));
  app.delete('/webhooks/:id', guard('admin'), deleteWebhookHandler(deps));
  app.post('/webhooks/:id/rotate-secret', guard('admin'), rotateWebhookSecretHandler(deps));
  app.get('/webhooks/:id/deliveries', guard('admin'), webhookDeliveriesHandler(deps));
  app.post('/webhooks/:id/deliveries/:msgId/redeliver', guard('admin'), redeliverWebhookHandler(deps));

  // The operator's page (ui-route.ts): static files, open to anyone; its data comes from the
  // routes above with the token typed into it, so their guards still decide what it shows.
  app.use('/ui', uiRouter());

  app.use(notFoundHandler);
  app.use(errorMiddleware(deps.logger));
  return app;
}
