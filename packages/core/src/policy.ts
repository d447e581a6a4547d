import { z } from 'zod';

const floor = {
  /** Never activate a challenger whose accuracy is below this, whatever the comparison says. */
  min_accuracy: z.number().min(0).max(1).optional(),
};

const alpha = z.number().gt(0).lt(1).default(0.05);

/**
 * A promotion policy, chosen per request with a per-model default. The closed set of names
 * is part of the API; each is documented in the README with when to use it.
 */
export const policySchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('any_improvement'), ...floor }),
  z.strictObject({ name: z.literal('min_delta'), min_delta: z.number().min(0).max(1).default(0.01), ...floor }),
  z.strictObject({
    name: z.literal('per_class_f1'),
    /** The class whose F1 must improve: its index or its name. */
    class: z.union([z.number().int().min(0), z.string().min(1)]),
    /** Evaluation rows of that class needed before its F1 means anything. */
    min_support: z.number().int().min(1).default(5),
    ...floor,
  }),
  z.strictObject({ name: z.literal('significant'), alpha, ...floor }),
  z.strictObject({ name: z.literal('non_inferior'), alpha, ...floor }),
]);

/** A validated policy with its defaults filled in. */
export type Policy = z.output<typeof policySchema>;
/** A policy as a client may send it (defaults optional). */
export type PolicyInput = z.input<typeof policySchema>;
/** The policy names. */
export type PolicyName = Policy['name'];

/** The per-model default: a challenger at least as accurate as the champion goes live. */
export const DEFAULT_POLICY: Policy = Object.freeze({ name: 'any_improvement' });
