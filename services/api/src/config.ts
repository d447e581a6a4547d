import { parseServiceEnv, sharedEnvShape } from '@ct/queue';
import { resolve } from 'node:path';
import { z } from 'zod';

// Services run from `services/api/{src,dist}`; the repository root is two levels up in both.
const repoRoot = resolve(__dirname, '../../..');

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ...sharedEnvShape(resolve(repoRoot, 'data')),
  /** The built-in model specs, one JSON file a model. */
  CT_CATALOG_DIR: z.string().min(1).default(resolve(repoRoot, 'catalog')),
  /** Fallback poll of the active files, in case an activation message is missed. */
  CT_RELOAD_INTERVAL_MS: z.coerce.number().int().min(100).default(2000),
  /** Whether each prediction is appended to `results/predictions.log`. */
  CT_PREDICTION_LOG: bool.default(true),
  /** SIGTERM: how long in-flight requests get before the server closes anyway. */
  CT_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
});

/** The API's settings, parsed once from the environment. */
export interface ApiConfig {
  readonly port: number;
  readonly host: string;
  readonly redisUrl: string;
  readonly dataDir: string;
  readonly catalogDir: string;
  readonly redisPrefix: string;
  readonly logLevel: string;
  readonly reloadIntervalMs: number;
  readonly predictionLog: boolean;
  readonly shutdownTimeoutMs: number;
}

/**
 * Parses the environment into a frozen config, or throws an Error listing every bad
 * variable; `main` prints it and exits before anything starts.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const e = parseServiceEnv(schema, env, 'API');
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    dataDir: resolve(e.CT_DATA_DIR),
    catalogDir: resolve(e.CT_CATALOG_DIR),
    redisPrefix: e.CT_REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    reloadIntervalMs: e.CT_RELOAD_INTERVAL_MS,
    predictionLog: e.CT_PREDICTION_LOG,
    shutdownTimeoutMs: e.CT_SHUTDOWN_TIMEOUT_MS,
  });
}
