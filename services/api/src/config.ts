import { MIN_TOKEN_LENGTH, type Role } from '@ct/auth';
import { parseServiceEnv, sharedEnvShape, webhookEnvShape } from '@ct/queue';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

// Services run from `services/api/{src,dist}`; the repository root is two levels up in both.
const repoRoot = resolve(__dirname, '../../..');

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** An empty variable counts as unset: compose passes `${CT_ADMIN_TOKEN:-}` through as "". */
function emptyIsUnset<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === '' ? undefined : v), schema);
}

const tokenVariable = emptyIsUnset(
  z
    .string()
    .trim()
    .min(MIN_TOKEN_LENGTH, `at least ${MIN_TOKEN_LENGTH} characters`)
    .regex(/^[\x21-\x7e]+$/, 'visible ASCII only')
    .optional(),
);
const fileVariable = emptyIsUnset(z.string().min(1).optional());

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
  /** Whether `/metrics` is served (and requests and predictions counted for it). */
  CT_METRICS: bool.default(true),
  /** SIGTERM: how long in-flight requests get before the server closes anyway. */
  CT_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** The prediction log rotates past this size or age, and keeps this many rotated files. */
  CT_PREDICTION_LOG_MAX_BYTES: z.coerce.number().int().min(4096).default(64 * 1024 * 1024),
  CT_PREDICTION_LOG_MAX_AGE_MS: z.coerce.number().int().min(1000).default(24 * 3600 * 1000),
  CT_PREDICTION_LOG_MAX_FILES: z.coerce.number().int().min(1).max(1000).default(8),
  /** HMAC key for token digests; by default made on first start under `<data>/secrets/`. */
  CT_TOKEN_SECRET: emptyIsUnset(z.string().min(32).optional()),
  /** A role's token, or a file holding it (`_FILE`: compose's and Kubernetes' secrets). */
  CT_ADMIN_TOKEN: tokenVariable,
  CT_ADMIN_TOKEN_FILE: fileVariable,
  CT_TRAINER_TOKEN: tokenVariable,
  CT_TRAINER_TOKEN_FILE: fileVariable,
  CT_CLIENT_TOKEN: tokenVariable,
  CT_CLIENT_TOKEN_FILE: fileVariable,
  /** Whether `/predict` needs a token (`required`) or is open to anyone (`open`). */
  CT_AUTH_PREDICT: z.enum(['open', 'required']).default('open'),
  /** Whether the catalogue, history and jobs need a token (`required`) or are open (`open`). */
  CT_AUTH_READ: z.enum(['open', 'required']).default('required'),
  /** Requests per second per caller (token, or address when anonymous); 0 turns a limit off. */
  CT_RATE_PREDICT: z.coerce.number().min(0).default(1000),
  CT_RATE_READ: z.coerce.number().min(0).default(100),
  CT_RATE_TRAIN: z.coerce.number().min(0).default(20),
  CT_RATE_ADMIN: z.coerce.number().min(0).default(10),
  /** Most jobs queued or running on one model, and of those, from one caller. */
  CT_MAX_QUEUED_PER_MODEL: z.coerce.number().int().min(1).default(100),
  CT_MAX_QUEUED_PER_CALLER: z.coerce.number().int().min(1).default(10),
  /** Whether each prediction is indexed in Redis for feedback, live quality and drift. */
  CT_FEEDBACK_INDEX: bool.default(true),
  /** How long a prediction can get feedback (its input is kept in Redis that long). */
  CT_FEEDBACK_RETENTION_S: z.coerce.number().int().min(60).max(90 * 86_400).default(86_400),
  /** The default sliding window of live quality. */
  CT_QUALITY_WINDOW_S: z.coerce.number().int().min(60).default(3600),
  /** Tries of each webhook delivery: a redelivery queued here gets as many as the trainer's deliveries. */
  CT_WEBHOOK_ATTEMPTS: webhookEnvShape().CT_WEBHOOK_ATTEMPTS,
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
  /** Prometheus metrics on `/metrics` (CT_METRICS). */
  readonly metrics: boolean;
  readonly shutdownTimeoutMs: number;
  readonly predictionLogRotation: { maxBytes: number; maxAgeMs: number; maxFiles: number };
  readonly tokenSecret: string | undefined;
  /** Tokens defined in the environment (or files it names), one per role at most. */
  readonly tokens: readonly { role: Role; token: string }[];
  readonly authPredict: 'open' | 'required';
  readonly authRead: 'open' | 'required';
  readonly rates: { predict: number; read: number; train: number; admin: number };
  readonly maxQueuedPerModel: number;
  readonly maxQueuedPerCaller: number;
  /** Predictions indexed for feedback (CT_FEEDBACK_INDEX). */
  readonly feedbackIndex: boolean;
  readonly feedbackRetentionS: number;
  readonly qualityWindowS: number;
  /** Tries of each webhook redelivery (CT_WEBHOOK_ATTEMPTS, shared with the trainer). */
  readonly webhookAttempts: number;
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
    metrics: e.CT_METRICS,
    shutdownTimeoutMs: e.CT_SHUTDOWN_TIMEOUT_MS,
    predictionLogRotation: { maxBytes: e.CT_PREDICTION_LOG_MAX_BYTES, maxAgeMs: e.CT_PREDICTION_LOG_MAX_AGE_MS, maxFiles: e.CT_PREDICTION_LOG_MAX_FILES },
    tokenSecret: e.CT_TOKEN_SECRET,
    tokens: (['admin', 'trainer', 'client'] as const).flatMap((role) => {
      const token = tokenOf(e as unknown as Record<string, string | undefined>, role);
      return token === undefined ? [] : [{ role, token }];
    }),
    authPredict: e.CT_AUTH_PREDICT,
    authRead: e.CT_AUTH_READ,
    rates: { predict: e.CT_RATE_PREDICT, read: e.CT_RATE_READ, train: e.CT_RATE_TRAIN, admin: e.CT_RATE_ADMIN },
    maxQueuedPerModel: e.CT_MAX_QUEUED_PER_MODEL,
    maxQueuedPerCaller: e.CT_MAX_QUEUED_PER_CALLER,
    feedbackIndex: e.CT_FEEDBACK_INDEX,
    feedbackRetentionS: e.CT_FEEDBACK_RETENTION_S,
    qualityWindowS: e.CT_QUALITY_WINDOW_S,
    webhookAttempts: e.CT_WEBHOOK_ATTEMPTS,
  });
}

/** A role's token from `CT_<ROLE>_TOKEN`, or read from the file `CT_<ROLE>_TOKEN_FILE` names; both set is a mistake. */
function tokenOf(e: Record<string, string | undefined>, role: Role): string | undefined {
  const name = `CT_${role.toUpperCase()}_TOKEN`;
  const direct = e[name];
  const file = e[`${name}_FILE`];
  if (direct !== undefined && file !== undefined) throw new Error(`invalid API configuration:\n  ${name} and ${name}_FILE are both set: keep one`);
  if (file === undefined) return direct;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(`invalid API configuration:\n  ${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (text.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(text)) throw new Error(`invalid API configuration:\n  ${name}_FILE: ${file} must hold one token of at least ${MIN_TOKEN_LENGTH} visible ASCII characters`);
  return text;
}
