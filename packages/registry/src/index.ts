/**
 * @ct/registry: the artifact store on a directory. Atomic writes, validated reads, the
 * version history as a commit log, the active pointer, accumulated data and evaluation set.
 */
export * from './artifact';
export * from './artifact-error';
export * from './atomic-write';
export * from './model-store';
export * from './read-json';
export * from './records';
