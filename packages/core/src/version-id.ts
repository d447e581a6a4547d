/** `v<N>.0-<6 hex>`: N counts candidates fitted for the model, the hex is the artifact hash's prefix. */
export const VERSION_PATTERN = /^v([1-9][0-9]*)\.0-([0-9a-f]{6})$/;

/** Builds the version id of the `n`-th candidate of a model from its artifact hash. */
export function versionId(n: number, artifactHash: string): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`version number must be a positive integer, got ${n}`);
  if (!/^[0-9a-f]{6,}$/.test(artifactHash)) throw new RangeError('artifact hash must be hex');
  return `v${n}.0-${artifactHash.slice(0, 6)}`;
}

/** The sequence number of a version id, or undefined when `id` is not one. */
export function versionNumber(id: string): number | undefined {
  const m = VERSION_PATTERN.exec(id);
  return m ? Number(m[1]) : undefined;
}
