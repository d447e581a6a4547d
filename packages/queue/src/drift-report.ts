import { driftOfFeature, driftOfModel, type FeatureDrift, type LabeledSet, type ModelDrift, type ModelSpec, type RawValue } from '@ct/core';
import type { Redis } from 'ioredis';
import { feedbackKeys, RECENT_INPUTS } from './feedback-keys';

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
 * The version's latest inputs (up to {@link RECENT_INPUTS}, newest first, kept by the API's
 * prediction index) against `reference` (its training rows), feature by feature with
 * Evidently's rules (core feature-drift.ts), and for the whole model (core model-drift.ts).
 * The one implementation behind `GET /models/:m/drift`, the API's drift gauges and the
 * trainer's `drift.alert` webhook event; it only reads Redis, the math is core's.
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

/**
 * A number JSON can carry, else null: a category never seen in training gives an infinite
 * chi-square, which JSON has no word for (`drifted` still says what it means).
 */
export const finiteOrNull = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);

/**
 * Versions' training rows (the drift reference), each read once: a version's rows never
 * change. Bounded, since served versions change rarely and retired ones should not pile up;
 * a failed read is forgotten, so the next call reads again.
 */
export class DriftReferences {
  private readonly rows = new Map<string, Promise<LabeledSet>>();

  /**
   * @param load - Reads a version's training rows (a ModelStore's `trainingRows`).
   * @param max - Most versions kept at once.
   */
  constructor(
    private readonly load: (model: string, version: string) => Promise<LabeledSet>,
    private readonly max = 64,
  ) {}

  /** `version`'s training rows, from memory after the first read. */
  get(model: string, version: string): Promise<LabeledSet> {
    const key = `${model}\n${version}`;
    let rows = this.rows.get(key);
    if (!rows) {
      if (this.rows.size >= this.max) this.rows.clear();
      rows = this.load(model, version);
      this.rows.set(key, rows);
      rows.catch(() => this.rows.get(key) === rows && this.rows.delete(key));
    }
    return rows;
  }
}
