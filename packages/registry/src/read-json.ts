import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ArtifactError } from './artifact-error';

/**
 * Reads and validates a JSON file. Every artifact read goes through here: files on the shared
 * volume are data from another process and are checked before use.
 */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ArtifactError(code === 'ENOENT' ? 'missing' : 'unreadable', path, code ?? String(err));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError('invalid_json', path, (err as Error).message);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ArtifactError('invalid_schema', path, `${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
