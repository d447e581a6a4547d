/**
 * Why an artifact could not be used: the reader keeps its last good state and reports this.
 * `unsupported_format`: written by another release; `history_missing`: versions exist but the
 * history that says which one is live is gone; `inconsistent`: files that contradict each
 * other (a gap in the history, a version the history does not know).
 */
export type ArtifactErrorKind =
  | 'missing'
  | 'unreadable'
  | 'invalid_json'
  | 'invalid_schema'
  | 'checksum_mismatch'
  | 'unsupported_format'
  | 'history_missing'
  | 'inconsistent';

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

/**
 * A commit lost a race: another writer created history entry `seq` first. The loser's
 * candidate is discarded and the job is gated again against the new champion.
 */
export class CommitConflictError extends Error {
  override readonly name = 'CommitConflictError';
  constructor(readonly seq: number) {
    super(`history entry ${seq} was committed by another writer`);
  }
}
