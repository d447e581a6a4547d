import { sha256Canonical } from '@ct/core';
import { z } from 'zod';
import { ArtifactError } from './artifact-error';
import { parseJsonText, readText } from './read-json';

/** Format of the records this release writes (history entries, version data, segments). */
export const RECORD_FORMAT = 2;

/** The kinds of sealed record on the volume. */
export type SealedKind = 'history_entry' | 'version_data' | 'segment' | 'segment_list' | 'model_registration' | 'model_archive';

/**
 * A record on disk: its body with the sha256 of the body's canonical JSON, so that a reader
 * tells a damaged or hand-edited file from a good one before using it.
 */
export interface Sealed<T> {
  format_version: typeof RECORD_FORMAT;
  kind: SealedKind;
  checksum: string;
  body: T;
}

/** Wraps `body` with its checksum. */
export function seal<T>(kind: SealedKind, body: T): Sealed<T> {
  return { format_version: RECORD_FORMAT, kind, checksum: sha256Canonical(body), body };
}

/** The JSON text of a sealed record, as written to disk. */
export function sealedText<T>(kind: SealedKind, body: T): string {
  return `${JSON.stringify(seal(kind, body))}\n`;
}

const envelopeSchema = z.strictObject({
  format_version: z.number().int(),
  kind: z.string(),
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  body: z.unknown(),
});

/**
 * Reads a sealed record: JSON, the envelope, the format, the kind, the checksum over the
 * body as stored, then the body's own schema. Any failure is an ArtifactError naming the file.
 */
export async function readSealed<S extends z.ZodType>(path: string, kind: SealedKind, bodySchema: S): Promise<z.output<S>> {
  return parseSealed(path, await readText(path), kind, bodySchema);
}

/** {@link readSealed} on text already read. */
export function parseSealed<S extends z.ZodType>(path: string, text: string, kind: SealedKind, bodySchema: S): z.output<S> {
  const json = parseJsonText(path, text);
  const env = envelopeSchema.safeParse(json);
  if (!env.success) throw new ArtifactError('invalid_schema', path, 'not a sealed record (format_version, kind, checksum, body)');
  if (env.data.format_version !== RECORD_FORMAT) {
    throw new ArtifactError('unsupported_format', path, `format_version ${env.data.format_version}; this release reads ${RECORD_FORMAT}`);
  }
  if (env.data.kind !== kind) throw new ArtifactError('invalid_schema', path, `a ${env.data.kind} record where a ${kind} was expected`);
  if (sha256Canonical(env.data.body) !== env.data.checksum) throw new ArtifactError('checksum_mismatch', path, 'checksum does not match the body');
  const parsed = bodySchema.safeParse(env.data.body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ArtifactError('invalid_schema', path, `body.${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
