import { ArtifactError, ModelStore, rebuildHistory } from '@ct/registry';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** Usage line of `cli rebuild-history`. */
export const REBUILD_USAGE = 'cli rebuild-history --model NAME [--data-dir DIR]   (DIR: $CT_DATA_DIR, else ./data)';

/**
 * `cli rebuild-history`: rebuilds a model's lost history from its `versions/` folder (each
 * version holds the entry that recorded it) and points the active file at the last live
 * version. Safe while the stack runs: entries are created exclusively, and trainers refuse
 * jobs until the history is back. Returns the lines to print; throws an Error with a message
 * for the user on bad input or damage.
 */
export async function rebuildHistoryCommand(args: string[]): Promise<string[]> {
  const { values } = parseArgs({ args, options: { model: { type: 'string' }, 'data-dir': { type: 'string' } }, strict: true, allowPositionals: false });
  const model = values.model;
  if (!model || !/^[a-z][a-z0-9-]{0,39}$/.test(model)) throw new Error(`--model NAME is required (a model name such as iris)\nusage: ${REBUILD_USAGE}`);
  const dataDir = resolve(values['data-dir'] ?? process.env.CT_DATA_DIR ?? join(__dirname, '..', '..', 'data'));
  const store = new ModelStore(dataDir, model);
  if (!existsSync(store.dir)) throw new Error(`no model folder at ${store.dir}`);
  try {
    const report = await rebuildHistory(store);
    return [
      ...report.entries.map((e) => `entry ${e.seq}: ${e.version} ${e.status}`),
      `rebuilt ${report.entries.length} entries from ${join(store.dir, 'versions')}; active version ${report.active}`,
      'resets and trusted-set changes are not versions and were not restored; queue a reset if the model had been reset since its last candidate',
    ];
  } catch (err) {
    if (err instanceof ArtifactError) throw new Error(`${err.path}: ${err.reason}`);
    throw err;
  }
}
