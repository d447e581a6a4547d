import { z } from 'zod';

/**
 * A model's guardrails: conditions on the trusted evaluation rows that every candidate must
 * meet, whatever policy a request chooses. They live in the model's configuration, never in
 * a request, so that no caller can switch them off.
 */
export const guardrailsSchema = z.strictObject({
  /**
   * McNemar's exact test on the trusted rows: a challenger worse than the champion with
   * p < alpha is refused. Bounded so that the test can neither be switched off (a tiny
   * alpha) nor made to refuse ties by chance (a large one).
   */
  alpha: z.number().min(0.001).max(0.2),
  /** Lowest accuracy on the trusted rows a challenger may have. */
  min_accuracy: z.number().min(0).max(1),
});

/** A model's guardrails. */
export type Guardrails = z.infer<typeof guardrailsSchema>;
