import { z } from 'zod';

const floor = {
  /** Never activate a challenger whose accuracy is below this, whatever the comparison says. */
  min_accuracy: z.number().min(0).max(1).optional(),
};

// The bounds keep a request's policy meaningful: an alpha of 1e-300 would switch the test off
// and one near 1 would make it a coin toss. The model's guardrails hold whatever is chosen.
const alpha = z.number().min(0.001).max(0.2).default(0.05);

/**
 * A promotion policy, chosen per request with a per-model default. The closed set of names
 * is part of the API; each is documented in the README with when to use it. A policy only
 * adds conditions: the model's guardrails on the trusted rows apply to every decision.
 */
export const policySchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('any_improvement'), ...floor }),
  z.strictObject({ name: z.literal('min_delta'), min_delta: z.number().min(0).max(0.5).default(0.01), ...floor }),
  z.strictObject({
    name: z.literal('per_class_f1'),
    /** The class whose F1 must improve: its index or its name. */
    class: z.union([z.number().int().min(0), z.string().min(1)]),
    /** Evaluation rows of that class needed before its F1 means anything. */
    min_support: z.number().int().min(1).max(1000).default(5),
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
