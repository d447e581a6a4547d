import {
  getAlgorithm,
  modelNameSchema,
  sha256Canonical,
  versionId,
  VERSION_PATTERN,
  type TrainedClassifier,
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
 * Rebuilds a classifier from a verified artifact: the algorithm is looked up by name and its
 * parameters validated by its schema. A model is data; nothing in it is ever executed.
 */
export function loadClassifier(a: Artifact): TrainedClassifier {
  const algorithm = getAlgorithm(a.body.algorithm);
  if (!algorithm) throw new Error(`unknown algorithm ${a.body.algorithm}`);
  const params = algorithm.paramsSchema.parse(a.body.params);
  const model = algorithm.load(params);
  if (model.nClasses !== a.body.classes.length || model.nFeatures !== a.body.features.length) {
    throw new Error('parameters do not match the declared classes and features');
  }
  return model;
}
