import { irisSpec } from './iris';
import type { ModelSpec } from './model-spec';

/** Every model the stack serves, by name. Later models are added here. */
export const modelSpecs: Readonly<Record<string, ModelSpec>> = Object.freeze({ iris: irisSpec });

/** The model used by the lab-compatible paths (`/predict`, `/train`, `/model/info`). */
export const DEFAULT_MODEL = 'iris';

/** The spec of `name`, or undefined for a model the stack does not know. */
export function getModelSpec(name: string): ModelSpec | undefined {
  return Object.prototype.hasOwnProperty.call(modelSpecs, name) ? modelSpecs[name] : undefined;
}
