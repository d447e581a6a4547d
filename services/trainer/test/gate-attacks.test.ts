/**
 * Issue 7, part 1, "A batch grades itself": a batch must never be judged on rows it supplied,
 * and no per-request policy may switch off the model's own protection.
 *
 * The attack is the most common data slip there is: labels shifted by one class (a 1-based
 * encoding sent to a 0-based model). Today a batch of 10 or more rows gives a 20 % slice to the
 * evaluation set of its own decision, so the batch's wrong labels grade the model fitted on
 * them, and the larger the batch the surer the gate is that the poisoned challenger is better.
 * These tests drive the real Trainer through its BullMQ queue on the real Redis, like an API
 * request does, and check what matters to a user: the job is rejected and the live model still
 * classifies the 150 clean iris rows exactly as before. Clean batches (30 and 1,000 rows) must
 * still go live, so a fix cannot pass by rejecting everything.
 */
import { policySchema, predictLabels, type LabeledSet } from '@ct/core';
import { loadClassifier, ModelStore } from '@ct/registry';
import { QueueEvents, type Queue } from 'bullmq';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Trainer } from '../src/trainer';
import { DATASETS, eventually, irisRows, producer, sandbox, TEST_REDIS, TEST_REDIS_URL, trainData, IRIS as IRIS_SPEC } from './helpers';

const logger = pino({ level: 'silent' });

/** The only result fields these tests rely on (the rest of the result is free to change). */
interface GateResult {
  status: 'activated' | 'rejected';
  model_version: string;
  active_version: string;
  violations: { code: string }[];
}

/** What a user sees of the live model: its version and its accuracy on the 150 clean iris rows. */
interface LiveModel {
  version: string;
  accuracy: number;
}

const SPECIES = ['setosa', 'versicolor', 'virginica'];

/** The 150 rows of the bundled iris CSV: the yardstick for "the live model is unchanged". */
function loadIris(): LabeledSet {
  const lines = readFileSync(join(DATASETS, 'iris.csv'), 'utf8').trim().split(/\r?\n/);
  // Fail loudly if the file's layout changes, rather than measure against misread rows.
  expect(lines[0]).toBe('sepal_length,sepal_width,petal_length,petal_width,species');
  const set: LabeledSet = { x: [], y: [] };
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const label = SPECIES.indexOf(cells[4] ?? '');
    if (label < 0) throw new Error(`iris.csv: unknown species in "${line}"`);
    set.x.push(cells.slice(0, 4).map(Number));
    set.y.push(label);
  }
  expect(set.y).toHaveLength(150);
  return set;
}

const IRIS = loadIris();

/** A trainer on its own Redis prefix and data directory, bootstrapped, with a producer queue. */
interface Stack {
  store: ModelStore;
  /** Queues one train job and waits for its result (rejects if the job fails). */
  train: (samples: LabeledSet, extra?: Record<string, unknown>) => Promise<GateResult>;
  /** The active version and its accuracy on the 150 clean iris rows, read from disk. */
  live: () => Promise<LiveModel>;
}

/**
 * Runs `fn` against a fresh stack: a new sandbox, so each scenario starts from the bootstrap
 * version alone and one scenario's damage cannot leak into another's numbers.
 */
async function withStack(fn: (stack: Stack) => Promise<void>): Promise<void> {
  const box = await sandbox();
  const trainer = new Trainer({ redisUrl: TEST_REDIS_URL, prefix: box.prefix, dataDir: box.dataDir, datasetsDir: DATASETS, specs: [IRIS_SPEC], lockDurationMs: 5000, shutdownTimeoutMs: 5000, logger });
  const queue: Queue = producer(box.prefix);
  const events = new QueueEvents('train-iris', { connection: TEST_REDIS, prefix: box.prefix });
  try {
    // Subscribed before any job is added, so no completion event can be missed.
    await events.waitUntilReady();
    const store = new ModelStore(box.dataDir, 'iris');
    await trainer.start();
    await eventually(() => store.readActive(), 20_000, 'bootstrap');
    const stack: Stack = {
      store,
      train: async (samples, extra = {}) => {
        const job = await queue.add('train', trainData(samples, extra));
        return (await job.waitUntilFinished(events, 60_000)) as GateResult;
      },
      live: async () => {
        const artifact = await store.readActive();
        if (!artifact) throw new Error('no active model');
        const predicted = predictLabels(loadClassifier(artifact), IRIS.x);
        const correct = IRIS.y.filter((label, i) => predicted[i] === label).length;
        return { version: artifact.version, accuracy: correct / IRIS.y.length };
      },
    };
    await fn(stack);
  } finally {
    await trainer.close();
    await events.close();
    await queue.close();
    await box.cleanup();
  }
}

/** Each attack size gets its own seed, so the sizes are independent samples. */
const ATTACK_SIZES = [60, 200, 1_000, 10_000];
const attack = (n: number): LabeledSet => irisRows(1_000 + n, n, true);
const clean = (n: number): LabeledSet => irisRows(2_000 + n, n, false);

describe('a batch cannot grade itself (issue 7, part 1)', () => {
  test.each(ATTACK_SIZES)(
    '%i label-shifted rows under the default policy, on a fresh stack: rejected, live model unchanged',
    async (n) => {
      await withStack(async (stack) => {
        const before = await stack.live();
        // Guards the yardstick itself: a misread CSV or class order would make "unchanged" vacuous.
        expect(before.accuracy).toBeGreaterThan(0.9);
        const result = await stack.train(attack(n));
        // One comparison of everything a user would see, so a failure shows all the numbers.
        expect({ status: result.status, active_version: result.active_version, live: await stack.live() }).toEqual({
          status: 'rejected',
          active_version: before.version,
          live: before,
        });
      });
    },
    90_000,
  );

  test('the four attacks one after another on one stack are all rejected; clean 30- and 1,000-row batches still go live after', async () => {
    await withStack(async (stack) => {
      const before = await stack.live();
      const outcomes: { rows: number; status: string; live: LiveModel }[] = [];
      for (const n of ATTACK_SIZES) {
        const result = await stack.train(attack(n));
        outcomes.push({ rows: n, status: result.status, live: await stack.live() });
      }
      // All steps in one comparison: the failure message is the whole trajectory of the live model.
      expect(outcomes).toEqual(ATTACK_SIZES.map((rows) => ({ rows, status: 'rejected', live: before })));

      // The damage must not stick: clean data is still accepted after the attacks.
      for (const n of [30, 1_000]) {
        const result = await stack.train(clean(n));
        expect({ rows: n, status: result.status }).toEqual({ rows: n, status: 'activated' });
        expect((await stack.live()).version).toBe(result.model_version);
      }
    });
  }, 120_000);

  test('clean batches of 30 and 1,000 rows, incremental, on a fresh stack: each activated', async () => {
    await withStack(async (stack) => {
      for (const n of [30, 1_000]) {
        const result = await stack.train(clean(n));
        expect({ rows: n, status: result.status }).toEqual({ rows: n, status: 'activated' });
        expect(result.active_version).toBe(result.model_version);
        expect((await stack.live()).version).toBe(result.model_version);
      }
    });
  }, 90_000);
});

describe('no request can weaken the gate (issue 7, part 1, non_inferior)', () => {
  test('5 mislabeled rows from scratch under non_inferior with the smallest allowed alpha: rejected by the guardrail, live model unchanged', async () => {
    await withStack(async (stack) => {
      const before = await stack.live();
      const result = await stack.train(attack(5), { retrain_from_scratch: true, policy: { name: 'non_inferior', alpha: 0.001 } });
      expect({ status: result.status, live: await stack.live() }).toEqual({ status: 'rejected', live: before });
      // The code's name is the fix's choice; what matters is that the decision says why.
      expect(result.violations.length).toBeGreaterThan(0);
    });
  }, 90_000);

  test('the same attack with alpha 1e-300 sent straight to the queue never goes live', async () => {
    await withStack(async (stack) => {
      const before = await stack.live();
      // Either way is safe: the payload is refused (alpha out of range) or the gate rejects it.
      const outcome = await stack
        .train(attack(5), { retrain_from_scratch: true, policy: { name: 'non_inferior', alpha: 1e-300 } })
        .then(
          (result) => result.status,
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            // Only a refusal of the policy counts; any other failure is a bug, not a defence.
            expect(message).toMatch(/alpha|policy|payload/i);
            return 'refused';
          },
        );
      expect({ outcome, live: await stack.live() }).toEqual({ outcome: expect.stringMatching(/^(rejected|refused)$/), live: before });
    });
  }, 90_000);

  test('policySchema bounds alpha: 1e-300 is refused, 0.001 is accepted', () => {
    // A request cannot make "significantly worse" unreachable by asking for an absurd alpha.
    expect(policySchema.safeParse({ name: 'non_inferior', alpha: 1e-300 }).success).toBe(false);
    expect(policySchema.safeParse({ name: 'non_inferior', alpha: 0.001 }).success).toBe(true);
  });
});
