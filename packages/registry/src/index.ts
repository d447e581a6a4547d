/**
 * @ct/registry: the artifact store, on a directory by default ({@link ArtifactStore}). Atomic and exclusive writes, validated and
 * checksummed reads, the history as an append-only log, content-addressed data segments,
 * the active pointer.
 */
export * from './accepted-jobs';
export * from './artifact';
export * from './artifact-error';
export * from './artifact-store';
export * from './atomic-write';
export * from './exclusive-create';
export * from './history-log';
export * from './model-store';
export * from './read-json';
export * from './records';
export * from './sealed';
export * from './segment-store';
export * from './stale-temps';
export * from './rebuild-history';
export * from './catalog';
export * from './registered-models';
export * from './segment-list';
