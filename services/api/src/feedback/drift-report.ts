import { driftOfFeature, driftOfModel, type FeatureDrift, type LabeledSet, type ModelDrift, type ModelSpec, type RawValue } from '@ct/core';
import { feedbackKeys, RECENT_INPUTS } from '@ct/queue';
import type { Redis } from 'ioredis';

/** The drift of one version's latest inputs against its training rows. */
export interface DriftReport {
  model: string;
  version: string;
  reference: { rows: number; source: string };
  current: { rows: number; source: string };
  features: FeatureDrift[];
  /** Features that could not be compared (missing from every row on one side). */
  skipped: { feature: string; reason: string }[];
  /** Null while the version has served nothing, or nothing could be compared. */
  drift: ModelDrift | null;
}

/**
 * The version's latest inputs (up to 1,000, newest first, kept by the prediction index)
 * against `reference` (its training rows), feature by feature with Evidently's rules (core
 * feature-drift.ts), and for the whole model. Shared by `GET /models/:m/drift` and the
 * drift metrics.
 */
export async function driftReport(redis: Redis, prefix: string, spec: ModelSpec, version: string, reference: LabeledSet): Promise<DriftReport> {
  const recent = await redis.lrange(feedbackKeys(prefix).inputs(spec.name, version), 0, RECENT_INPUTS - 1);
  const current = recent.map((r) => JSON.parse(r) as RawValue[]);
  const features: FeatureDrift[] = [];
  const skipped: { feature: string; reason: string }[] = [];
  if (current.length > 0) {
    spec.features.forEach((f, j) => {
      const kind = f.type === 'categorical' ? 'categorical' : 'numeric';
      try {
        features.push(driftOfFeature(f.name, kind, reference.x.map((row) => row[j] ?? null), current.map((row) => row[j] ?? null)));
      } catch (err) {
        skipped.push({ feature: f.name, reason: (err as Error).message });
      }
    });
  }
  return {
    model: spec.name,
    version,
    reference: { rows: reference.x.length, source: "the version's training rows" },
    current: { rows: current.length, source: `the latest ${RECENT_INPUTS} inputs the version served, at most` },
    features,
    skipped,
    drift: features.length > 0 ? driftOfModel(features) : null,
  };
}
