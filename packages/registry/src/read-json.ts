import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ArtifactError } from './artifact-error';

/**
 * Reads and validates a JSON file. Every artifact read goes through here: files on the shared
 * volume are data from another process and are checked before use.
 */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
  return parseJsonFile(path, await readText(path), schema);
}

/** {@link readJsonFile} on text already read (from any ArtifactStore); `path` names it in errors. */
export function parseJsonFile<S extends z.ZodType>(path: string, text: string, schema: S): z.output<S> {
  const parsed = schema.safeParse(parseJsonText(path, text));
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ArtifactError('invalid_schema', path, `${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** A file's text; a missing or unreadable file is an ArtifactError naming it. */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ArtifactError(code === 'ENOENT' ? 'missing' : 'unreadable', path, code ?? String(err));
  }
}

/** Parses JSON text read from `path`; invalid JSON is an ArtifactError naming the file. */
export function parseJsonText(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ArtifactError('invalid_json', path, (err as Error).message);
  }
}
