/**
 * The Redis keys of the feedback loop, shared by the API (which writes predictions and
 * feedback) and the trainer (which reads the tallies and takes the pending rows). One place,
 * so the two never disagree on a name.
 */
export const feedbackKeys = (prefix: string) => ({
  /**
   * Hash of the predictions served in one second (field: prediction id), with a TTL of the
   * retention window: one key and one write per second, not per row. The second is in the id
   * (a UUIDv7), so a lookup goes straight to its hash.
   */
  predictions: (second: number) => `${prefix}:fb:pred:${second}`,
  /** The label given to a prediction, by id (same TTL). */
  label: (id: string) => `${prefix}:fb:label:${id}`,
  /** Hash of minute buckets' counters for one version: `pred:<k>` predictions of class k, `n`, `correct`, `n:<k>`, `correct:<k>` labels. */
  tally: (model: string, version: string, minute: number) => `${prefix}:fb:tally:${model}:${version}:${minute}`,
  /** Hash of one version's label counters since it first served (`n`, `correct`): what the automatic rollback compares. */
  tallyTotal: (model: string, version: string) => `${prefix}:fb:total:${model}:${version}`,
  /** Sorted set of the versions of a model that served predictions, scored by the last minute they did. */
  versions: (model: string) => `${prefix}:fb:versions:${model}`,
  /** Hash, prediction id -> labeled row not yet used for training. */
  pending: (model: string) => `${prefix}:fb:pending:${model}`,
  /** List of the latest inputs a version served (newest first, capped), for drift. */
  inputs: (model: string, version: string) => `${prefix}:fb:inputs:${model}:${version}`,
  /** The automatic actions an admin configured for a model (JSON). */
  automation: (model: string) => `${prefix}:auto:config:${model}`,
  /** The automation's lock of a model: never two automatic actions of one model at once. */
  automationLock: (model: string) => `${prefix}:auto:lock:${model}`,
  /** The id of a model's latest automatic job, to wait for it before the next one. */
  automationJob: (model: string) => `${prefix}:auto:job:${model}`,
  /**
   * Hash of a model's drift alerts: `version`, the active version whose drift was alerted (absent
   * while none is: the alert is armed), and `episode`, how many alerts there were (each one's
   * message id is derived from it). Shared by the trainers, so an alert is sent once, not once each.
   */
  driftAlert: (model: string) => `${prefix}:drift:alert:${model}`,
  /** List of a model's drift points, newest first, capped and expiring (drift-history.ts). */
  driftHistory: (model: string) => `${prefix}:drift:history:${model}`,
  /**
   * Claim of one minute's drift point (SET NX, expiring): of several trainers checking in that
   * minute, the one that sets it records the point.
   */
  driftHistoryClaim: (model: string, minute: number) => `${prefix}:drift:history:claim:${model}:${minute}`,
});

/** Minutes since the epoch: the tally bucket of a time in ms. */
export const minuteOf = (ms: number): number => Math.floor(ms / 60_000);

/** Latest inputs kept per version for drift. */
export const RECENT_INPUTS = 1000;
