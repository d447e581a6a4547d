import { z } from 'zod';

/**
 * The delivery settings' defaults: the {@link Webhooks} and {@link WebhookDelivery} options'
 * and the `CT_WEBHOOK_*` variables', so the two never disagree. With these, a message is tried
 * 12 times over 1.4 to 2.8 hours (11 delays of 5 s doubling, each jittered to 50-100 %).
 */
export const WEBHOOK_DEFAULTS = {
  /** How long one attempt may take, headers included. */
  timeoutMs: 15_000,
  /** Tries per delivery, the first included. */
  attempts: 12,
  /** The delay before the first retry; it doubles each retry... */
  backoffBaseMs: 5000,
  /** ...up to this. */
  backoffMaxMs: 2 * 3600_000,
  /** Attempts kept in each endpoint's delivery log. */
  logLength: 500,
} as const;

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * The `CT_WEBHOOK_*` variables (the README's configuration table), for a service to spread
 * into its own config schema, as {@link sharedEnvShape}: the trainer delivers, so it reads them
 * all; the API queues redeliveries, so it reads `CT_WEBHOOK_ATTEMPTS`. Nothing here reads the
 * environment.
 */
export function webhookEnvShape() {
  return {
    CT_WEBHOOK_TIMEOUT_MS: int(100, 600_000, WEBHOOK_DEFAULTS.timeoutMs),
    CT_WEBHOOK_ATTEMPTS: int(1, 100, WEBHOOK_DEFAULTS.attempts),
    CT_WEBHOOK_BACKOFF_BASE_MS: int(1, 86_400_000, WEBHOOK_DEFAULTS.backoffBaseMs),
    CT_WEBHOOK_BACKOFF_MAX_MS: int(1, 7 * 86_400_000, WEBHOOK_DEFAULTS.backoffMaxMs),
    CT_WEBHOOK_LOG_LENGTH: int(1, 100_000, WEBHOOK_DEFAULTS.logLength),
  };
}

