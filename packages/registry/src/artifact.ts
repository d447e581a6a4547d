import {
  encodedWidth,
  getAlgorithm,
  modelNameSchema,
  preprocessingSchema,
  sha256Canonical,
  versionId,
  VERSION_PATTERN,
  type VersionModel,
} from '@ct/core';
import { z } from 'zod';

/** Format of the files this release writes; readers accept this and older ones they know. */
export const FORMAT_VERSION = 1;

const fitSchema = z.strictObject({
  iterations: z.number().int().nonnegative(),
  converged: z.boolean(),
  final_loss: z.number().nullable(),
});

/** The hashed part of a model artifact: everything that defines the model, nothing about when. */
export const artifactBodySchema = z.strictObject({
  model: modelNameSchema,
  algorithm: z.string(),
  classes: z.array(z.string()).min(2),
  features: z.array(z.string()).min(1),
  hyperparameters: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  /**
   * The preprocessing fitted with the model (fill values, one-hot levels, standardization).
   * Absent when it would change nothing (numbers only, nothing filled or scaled): such
   * artifacts hash as they did before preprocessing existed.
   */
  preprocessing: preprocessingSchema.optional(),
  /** Validated by the algorithm's own schema when the model is loaded. */
  params: z.unknown(),
  training: z.strictObject({
    data_hash: z.string().regex(/^[0-9a-f]{64}$/),
    n_samples: z.number().int().nonnegative(),
    fit: fitSchema,
  }),
});

/** The hashed part of a model artifact. */
export type ArtifactBody = z.infer<typeof artifactBodySchema>;

/** `versions/<v>/model.json` and `model_active.json`. */
export const artifactSchema = z.strictObject({
  format_version: z.literal(FORMAT_VERSION),
  version: z.string().regex(VERSION_PATTERN),
  created_at: z.iso.datetime(),
  /** sha256 of the canonical JSON of `body`; its first 6 hex digits end the version id. */
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  body: artifactBodySchema,
});

/** A model artifact as stored on disk. */
export type Artifact = z.infer<typeof artifactSchema>;

/**
 * Builds the artifact of the `n`-th candidate. The version id depends only on `n` and the
 * body, so a deterministic fit gives the same id on every machine and every re-run.
 */
export function buildArtifact(n: number, body: ArtifactBody, createdAt: Date = new Date()): Artifact {
  const checksum = sha256Canonical(body);
  return {
    format_version: FORMAT_VERSION,
    version: versionId(n, checksum),
    created_at: createdAt.toISOString(),
    checksum,
    body,
  };
}

/** Whether the stored checksum matches the body and the version id matches the checksum. */
export function verifyArtifact(a: Artifact): string | undefined {
  const sum = sha256Canonical(a.body);
  if (sum !== a.checksum) return 'checksum does not match the body';
  if (!a.version.endsWith(`-${sum.slice(0, 6)}`)) return 'version id does not match the checksum';
  return undefined;
}

/**
 * Rebuilds a version's model from a verified artifact: the algorithm is looked up by name and
 * its parameters validated by its schema; the preprocessing comes with it. A model is data;
 * nothing in it is ever executed.
 */
export function loadClassifier(a: Artifact): VersionModel {
  const algorithm = getAlgorithm(a.body.algorithm);
  if (!algorithm) throw new Error(`unknown algorithm ${a.body.algorithm}`);
  const params = algorithm.paramsSchema.parse(a.body.params);
  const classifier = algorithm.load(params);
  const preprocessing = a.body.preprocessing ?? null;
  if (preprocessing && preprocessing.features.map((f) => f.name).join(',') !== a.body.features.join(',')) {
    throw new Error('the preprocessing does not match the declared features');
  }
  const width = preprocessing ? encodedWidth(preprocessing) : a.body.features.length;
  if (classifier.nClasses !== a.body.classes.length || classifier.nFeatures !== width) {
    throw new Error('parameters do not match the declared classes and features');
  }
  return { preprocessing, classifier, nFeatures: a.body.features.length };
}
