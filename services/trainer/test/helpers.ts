import { cleanupRedis, makeTempDir, removeDir, TEST_REDIS, uniquePrefix } from '@ct/testing';
import { Queue } from 'bullmq';
import { resolve } from 'node:path';

export { eventually, TEST_REDIS, TEST_REDIS_URL } from '@ct/testing';
export const DATASETS = resolve(__dirname, '../../../datasets');

/** A unique key prefix and a temp data dir; `cleanup` removes both. */
export async function sandbox(): Promise<{ prefix: string; dataDir: string; cleanup: () => Promise<void> }> {
  const prefix = uniquePrefix();
  const dataDir = await makeTempDir('ct-trainer-');
  return {
    prefix,
    dataDir,
    cleanup: async () => {
      await cleanupRedis(prefix);
      await removeDir(dataDir);
    },
  };
}

/** A producer queue on the test prefix (closed by the caller). */
export function producer(prefix: string, model = 'iris'): Queue {
  return new Queue(`train-${model}`, { connection: TEST_REDIS, prefix });
}
