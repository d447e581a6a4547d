/** Why an artifact could not be used: the reader keeps its last good state and reports this. */
export type ArtifactErrorKind = 'missing' | 'unreadable' | 'invalid_json' | 'invalid_schema' | 'checksum_mismatch';

/** An artifact on disk that is absent, torn, tampered with or of an unknown format. */
export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
  constructor(
    readonly kind: ArtifactErrorKind,
    readonly path: string,
    /** What is wrong, without the path (safe to show a client). */
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}
