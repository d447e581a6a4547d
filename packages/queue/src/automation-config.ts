import { z } from 'zod';

/**
 * The automatic actions an admin configures for a model (`PUT /models/:model/automation`),
 * each off when null. The trainer evaluates them every few seconds; each firing is a job on
 * the model's queue with its reason, never two at once for one model.
 */
export const automationConfigSchema = z
  .strictObject({
    /** Retrain once this many new labeled rows (feedback) have arrived. */
    retrain_after_rows: z.number().int().min(5).max(100_000).nullable().default(null),
    /** Retrain when live accuracy is below `bound` with confidence (Wilson upper end below it, at least `min_samples` labels). */
    retrain_below_accuracy: z
      .strictObject({
        bound: z.number().gt(0).lt(1),
        min_samples: z.number().int().min(10).max(1_000_000).default(50),
        confidence: z.number().min(0.8).max(0.999).default(0.95),
      })
      .nullable()
      .default(null),
    /** Roll back a newly promoted version significantly worse on feedback than its predecessor (one-sided two-proportion test). */
    auto_rollback: z
      .strictObject({
        alpha: z.number().min(0.001).max(0.2).default(0.05),
        min_samples: z.number().int().min(10).max(1_000_000).default(50),
      })
      .nullable()
      .default(null),
  })
  .meta({ id: 'automation_config' });

/** A model's automatic actions. */
export type AutomationConfig = z.infer<typeof automationConfigSchema>;

/** Why an automatic job was queued: the rule, its sentence with the numbers, and the numbers. */
export const triggerSchema = z.strictObject({
  code: z.enum(['enough_new_rows', 'accuracy_below_bound', 'worse_than_predecessor']),
  reason: z.string().max(1000),
  details: z.record(z.string(), z.unknown()),
});

/** Why an automatic job was queued. */
export type Trigger = z.infer<typeof triggerSchema>;
