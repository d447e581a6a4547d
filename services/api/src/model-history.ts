import type { ModelSpec } from '@ct/core';
import { ArtifactError, type HistoryEntry, type ModelStore } from '@ct/registry';
import type { AppDeps } from './app-deps';
import { ApiError } from './errors/api-error';

/** The API's read side of `spec`'s artifacts (one store per model, kept by the cache). */
export function storeOf(deps: AppDeps, spec: ModelSpec): ModelStore {
  const store = deps.cache.store(spec.name);
  if (!store) throw new ApiError('not_found', `unknown model ${spec.name}`);
  return store;
}

/**
 * Every entry of `spec`'s history, oldest first (none before the bootstrap). A history the
 * API cannot read is a 503 pointing at `/health`, which says what is wrong with it; the
 * served version is unaffected.
 */
export async function readEntries(deps: AppDeps, spec: ModelSpec): Promise<HistoryEntry[]> {
  try {
    return (await storeOf(deps, spec).readHistory()).entries;
  } catch (err) {
    if (err instanceof ArtifactError) {
      throw new ApiError('model_not_ready', `the history of ${spec.name} cannot be read (${err.kind}); see /health`, [], { 'Retry-After': '5' });
    }
    throw err;
  }
}
