import type { ModelSpec } from '@ct/core';
import { modelSchemas } from './api-schemas';
import type { ModelContext } from './app-deps';
import { compileRowReader } from './row-reader';

/** What requests to a model need of its spec, built once when the model is first served. */
export function modelContext(spec: ModelSpec): ModelContext {
  return {
    spec,
    schemas: modelSchemas(spec),
    readRow: compileRowReader(spec),
    classNamesJson: spec.target.classes.map((c) => JSON.stringify(c)),
  };
}
