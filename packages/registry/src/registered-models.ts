import { dataReportSchema, modelNameSchema, type ModelSpec } from '@ct/core';
import { join } from 'node:path';
import { z } from 'zod';
import { ArtifactError } from './artifact-error';
import { DirectoryStore, storeKey, type ArtifactStore } from './artifact-store';
import { parseModelSpec, SpecError } from './catalog';
import { ModelStore } from './model-store';
import { parseSealed, sealedText } from './sealed';

/**
 * Models registered at run time and archived models, on the data volume next to their
 * artifacts, so that every replica learns them from the same files:
 *
 * - `models/<model>/spec.json`: a registered model's spec and where its bootstrap rows are
 *   (a segment of the model), created once, exclusively, by the trainer's registration job;
 * - `models/<model>/archived.json`: the model is archived (built-in or registered): no replica
 *   serves or trains it any more; its history and versions stay.
 *
 * Both are sealed records (checksummed), written once and never changed.
 */

const hash = z.string().regex(/^[0-9a-f]{64}$/);

/** `models/<model>/spec.json`. */
export const registrationSchema = z.strictObject({
  /** The spec as validated at registration (defaults filled); validated again on every read. */
  spec: z.record(z.string(), z.unknown()),
  /** The rows the model is bootstrapped from (a segment of the model), and how they were read. */
  bootstrap: z.strictObject({ segment: hash, report: dataReportSchema }),
  registered_at: z.iso.datetime(),
  /** `api`: `POST /models`; `inbox`: a file dropped into the watched folder. */
  source: z.enum(['api', 'inbox']),
  /** The inbox file it came from (relative to the data directory), for an inbox registration. */
  file: z.string().nullable(),
  request_id: z.string().nullable(),
  /** Who asked: the caller's token name, role and id (never the token); null for the watched folder. Absent in records written before tokens. */
  actor: z.strictObject({ name: z.string(), role: z.enum(['admin', 'trainer', 'client']).nullable(), token_id: z.string().nullable() }).nullable().optional(),
  job_id: z.string(),
});

/** A registration as stored. */
export type Registration = z.infer<typeof registrationSchema>;

/** A registration read back, its spec validated. */
export type RegisteredModel = Omit<Registration, 'spec'> & { spec: ModelSpec };

/** `models/<model>/archived.json`: who archived the model, when and why. */
export const archiveRecordSchema = z.strictObject({
  model: modelNameSchema,
  archived_at: z.iso.datetime(),
  request_id: z.string().nullable(),
  /** Who asked: the caller's token name, role and id (never the token); null for the watched folder. Absent in records written before tokens. */
  actor: z.strictObject({ name: z.string(), role: z.enum(['admin', 'trainer', 'client']).nullable(), token_id: z.string().nullable() }).nullable().optional(),
  job_id: z.string(),
  reason: z.string().max(500).nullable(),
});

/** An archive marker. */
export type ArchiveRecord = z.infer<typeof archiveRecordSchema>;

/**
 * {@link parseModelSpec} for a spec registered with its data (`POST /models`, the inbox):
 * `dataset` may be left out, since it names a built-in model's bundled CSV and a registered
 * model's rows come with it; it defaults to `{ "file": "<name>.csv" }`.
 */
export function parseRegisteredSpec(json: unknown, source: string): ModelSpec {
  const obj = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  const name = modelNameSchema.safeParse(obj?.name);
  if (obj && obj.dataset === undefined && name.success) return parseModelSpec({ ...obj, dataset: { file: `${name.data}.csv` } }, source);
  return parseModelSpec(json, source);
}

/** Path of a registered model's spec record. */
export const registrationPath = (root: string, model: string): string => join(root, 'models', model, 'spec.json');

/** Path of a model's archive marker. */
export const archivePath = (root: string, model: string): string => join(root, 'models', model, 'archived.json');

const registrationKey = (model: string): string => storeKey('models', model, 'spec.json');
const archiveKey = (model: string): string => storeKey('models', model, 'archived.json');

/**
 * The functions below take the data directory (a {@link DirectoryStore} on it, as every
 * service passes) or any {@link ArtifactStore}.
 */
export type StoreRoot = string | ArtifactStore;

const asStore = (root: StoreRoot): ArtifactStore => (typeof root === 'string' ? new DirectoryStore(root) : root);

async function readOptional<S extends z.ZodType>(store: ArtifactStore, key: string, kind: 'model_registration' | 'model_archive', schema: S): Promise<z.output<S> | undefined> {
  const text = await store.read(key);
  if (text === undefined) return undefined;
  return parseSealed(store.locate(key), text, kind, schema);
}

/**
 * The registration of `model`, or undefined when it was never registered (a built-in model,
 * or none). A damaged record, or a spec that no longer validates (an algorithm removed since),
 * is an ArtifactError naming the file.
 */
export async function readRegistration(root: StoreRoot, model: string): Promise<RegisteredModel | undefined> {
  const store = asStore(root);
  const path = store.locate(registrationKey(model));
  const record = await readOptional(store, registrationKey(model), 'model_registration', registrationSchema);
  if (!record) return undefined;
  let spec: ModelSpec;
  try {
    spec = parseModelSpec(record.spec, path);
  } catch (err) {
    if (err instanceof SpecError) throw new ArtifactError('invalid_schema', path, `spec${err.jsonPath ? `.${err.jsonPath}` : ''}: ${err.problem}`);
    throw err;
  }
  if (spec.name !== model) throw new ArtifactError('inconsistent', path, `holds the spec of model ${spec.name}`);
  return { ...record, spec };
}

/**
 * Writes `models/<model>/spec.json` if no registration of that name exists: exclusive, so of
 * two registrations of one name (on any replica or host) exactly one wins. Returns false when
 * the name was taken.
 */
export function createRegistration(root: StoreRoot, registration: Registration & { spec: ModelSpec }): Promise<boolean> {
  const parsed = registrationSchema.parse(registration);
  return asStore(root).createExclusive(registrationKey(registration.spec.name), sealedText('model_registration', parsed));
}

/** The archive marker of `model`, or undefined when it is not archived. */
export function readArchive(root: StoreRoot, model: string): Promise<ArchiveRecord | undefined> {
  return readOptional(asStore(root), archiveKey(model), 'model_archive', archiveRecordSchema);
}

/** Marks `record.model` archived, once: false when it already was. */
export function createArchive(root: StoreRoot, record: ArchiveRecord): Promise<boolean> {
  return asStore(root).createExclusive(archiveKey(record.model), sealedText('model_archive', archiveRecordSchema.parse(record)));
}

/** The model folders under `models/` (names that are valid model names), sorted. */
export async function listModelDirs(root: StoreRoot): Promise<string[]> {
  // Folders only (a trailing `/` in the store's listing): a stray file is not a model.
  return (await asStore(root).list('models'))
    .filter((n) => n.endsWith('/'))
    .map((n) => n.slice(0, -1))
    .filter((n) => modelNameSchema.safeParse(n).success)
    .sort();
}

/**
 * Why `model` cannot be registered, or undefined when the name is free: a built-in model's
 * (one of `builtIn`), a registered one's (archived or not), or a folder that already holds a
 * history or versions (which a new model must never be bootstrapped over). Reads the volume,
 * so it also sees registrations a process has not picked up yet.
 */
export async function whyModelNameTaken(root: StoreRoot, builtIn: readonly string[], model: string): Promise<string | undefined> {
  if (builtIn.includes(model)) return `model ${model} already exists (built-in, in the catalogue)`;
  let registeredAt: string | undefined;
  try {
    registeredAt = (await readRegistration(root, model))?.registered_at;
  } catch (err) {
    if (!(err instanceof ArtifactError)) throw err;
    registeredAt = 'at an unknown time (its spec.json is damaged)';
  }
  if (registeredAt !== undefined) {
    const archived = await readArchive(root, model).catch(() => undefined);
    return `model ${model} already exists (registered ${registeredAt}${archived ? `, archived ${archived.archived_at}` : ''})`;
  }
  const store = new ModelStore(root, model);
  const head = await store.history.head().catch(() => 'damaged');
  if (head !== undefined || (await store.listVersions()).length > 0) return `models/${model} already holds a history or versions; a new model is never bootstrapped over them`;
  return undefined;
}
