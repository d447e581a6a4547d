import { setHash, type LabeledSet } from '@ct/core';
import type { Worker } from 'node:worker_threads';
import { FitThreadClient } from '../src/fit-thread-client';
import { runStep } from '../src/run-step';
import { RowCache } from '../src/row-cache';
import type { StepTask } from '../src/step-task';
import { IRIS, irisRows } from './helpers';

// The client posts each segment's rows once per thread: a task after a new thread started
// must get them again, and the job comes out as if every row had been sent.

let client: FitThreadClient;
afterEach(() => client.close());

test('the segments a task names reach the thread, again after it restarted', async () => {
  client = new FitThreadClient();
  const boot = await client.run({ kind: 'bootstrap', spec: IRIS, algorithm: IRIS.algorithm, hyperparameters: IRIS.hyperparameters, data: irisRows(1, 120) });
  const segments = new Map<string, LabeledSet>([boot.batchTrain, boot.batchHoldout, irisRows(2, 10)].map((s) => [setHash(s), s]));
  const [training, trusted, growing] = [...segments.keys()] as [string, string, string];
  const task: StepTask = {
    kind: 'train',
    spec: IRIS,
    algorithm: IRIS.algorithm,
    hyperparameters: IRIS.hyperparameters,
    champion: { algorithm: IRIS.algorithm, params: boot.params, preprocessing: boot.preprocessing },
    accumulated: { segments: [training] },
    trusted: { segments: [trusted] },
    growing: { segments: [growing] },
    batch: irisRows(3, 10),
    fromScratch: false,
    policy: { name: 'any_improvement' },
  };
  const read: string[] = [];
  const reader = async (h: string) => {
    read.push(h);
    return segments.get(h) as LabeledSet;
  };
  const local = new RowCache();
  for (const [h, s] of segments) local.hold(h, s);
  const expected = { ...runStep(task, local), fitMs: 0 };
  expect({ ...(await client.run(task, undefined, reader)), fitMs: 0 }).toEqual(expected);
  // Held by the thread now; read through the store all the same (that is where damage shows).
  expect({ ...(await client.run(task, undefined, reader)), fitMs: 0 }).toEqual(expected);
  expect(read.sort()).toEqual([...segments.keys(), ...segments.keys()].sort());
  // The thread dies (as on an out-of-memory crash): the next task starts a new one, which has no segment yet.
  const worker = (client as unknown as { worker: Worker }).worker;
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  await worker.terminate();
  await exited;
  expect({ ...(await client.run(task, undefined, reader)), fitMs: 0 }).toEqual(expected);
  await expect(client.run(task)).rejects.toThrow(/reader of its segments/);
});
