import { z } from 'zod';

// Log levels a service accepts in `LOG_LEVEL` (pino's).
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The settings every service reads the same way (the README's configuration table): where
 * Redis is, the key prefix shared by queues and channels, the data volume and the log level.
 * A service spreads this into its own zod object next to its own variables, so a stack's
 * processes can never disagree on what a variable means. The caller passes its default data
 * directory (each service resolves it from its own location); nothing here reads the environment.
 */
export function sharedEnvShape(defaultDataDir: string) {
  return {
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
    CT_DATA_DIR: z.string().min(1).default(defaultDataDir),
    CT_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('ct'),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  };
}

/**
 * Parses `env` with a service's schema, or throws an Error listing every bad variable, one a
 * line, for the service's `main` to print before it exits.
 */
export function parseServiceEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv, service: string): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new Error(`invalid ${service} configuration:\n${lines.join('\n')}`);
}
