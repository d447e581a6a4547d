import { checkBootstrapSet, CsvError, dataReportOf, modelNameSchema, readSpecCsv, sha256Canonical, TrainingDataError, type ModelSpec } from '@ct/core';
import { registryJobId, type RegistryJobData, type RegistryJobResult } from '@ct/queue';
import { parseRegisteredSpec, SpecError, writeFileAtomic } from '@ct/registry';
import type { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

/** A file younger than this may still be being copied in: it waits for a later poll. */
const SETTLE_MS = 1000;
/** How long a spec waits for its CSV to arrive before it is rejected for lacking one. */
const CSV_GRACE_MS = 30_000;

/** What the inbox needs from the trainer. */
export interface InboxDeps {
  dataDir: string;
  /** The registry queue: an accepted file becomes a `register` job there, like `POST /models`. */
  queue: Queue<RegistryJobData, RegistryJobResult>;
  /** Why a name cannot be registered (see whyNameTaken), or undefined. */
  whyTaken: (model: string) => Promise<string | undefined>;
  logger: Logger;
}

/** What is wrong with an inbox file, as `.error.txt` says it. */
interface Rejection {
  /** The file at fault, relative to the data directory. */
  file: string;
  /** Where in its JSON (`features[2].levels`), when the spec is at fault. */
  path: string;
  problem: string;
}

const missingFile = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The penguin lab's way of adding a model: `CT_DATA_DIR/inbox/<name>.json` (a spec) with its
 * CSV next to it (`<name>.csv`, or the spec's `dataset.file`). Each poll validates what
 * settled there (the spec with parseRegisteredSpec, the CSV with readSpecCsv onto it, the name free)
 * and queues a `register` job on the registry queue, the same job as `POST /models`. Its id is
 * derived from the files' contents, so every trainer polling the same folder queues the same
 * job, and a later poll finds it: completed, the files go to `inbox/done/`; failed, to
 * `inbox/rejected/`. A bad file goes to `inbox/rejected/` at once, with `<name>.error.txt`
 * next to it naming the file, the JSON path and the problem. Nothing is held in memory between
 * polls: a trainer that dies mid-way leaves the files where the next poll picks them up.
 */
export class Inbox {
  readonly dir: string;

  constructor(private readonly deps: InboxDeps) {
    this.dir = join(deps.dataDir, 'inbox');
  }

  /** Looks at every spec file of the folder once. Never throws: a failure is logged and retried next poll. */
  async poll(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.dir, { withFileTypes: true }))
        .filter((e) => e.isFile() && e.name.endsWith('.json') && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (!missingFile(err)) this.deps.logger.warn({ err: (err as Error).message }, 'inbox: cannot read the folder');
      return;
    }
    for (const name of names) {
      try {
        await this.take(name);
      } catch (err) {
        this.deps.logger.warn({ file: `inbox/${name}`, err: (err as Error).message }, 'inbox: file not processed; retrying at the next poll');
      }
    }
  }

  /** Age of `path` in ms, or undefined when it is gone (another trainer moved it). */
  private async age(path: string): Promise<number | undefined> {
    try {
      return Date.now() - (await stat(path)).mtimeMs;
    } catch (err) {
      if (missingFile(err)) return undefined;
      throw err;
    }
  }

  private async take(fileName: string): Promise<void> {
    const stem = fileName.slice(0, -'.json'.length);
    const rel = `inbox/${fileName}`;
    const specAge = await this.age(join(this.dir, fileName));
    if (specAge === undefined || specAge < SETTLE_MS) return;
    let specText: string;
    try {
      specText = await readFile(join(this.dir, fileName), 'utf8');
    } catch (err) {
      if (missingFile(err)) return;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(specText);
    } catch (err) {
      return this.reject(fileName, [`${stem}.csv`], { file: rel, path: '', problem: `not valid JSON: ${(err as Error).message}` });
    }
    if (!modelNameSchema.safeParse(stem).success) {
      return this.reject(fileName, [`${stem}.csv`], { file: rel, path: '', problem: 'the file must be named <model name>.json, the name lower-case letters, digits and -, starting with a letter (at most 40)' });
    }
    let spec: ModelSpec;
    try {
      spec = parseRegisteredSpec(json, rel);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      return this.reject(fileName, [`${stem}.csv`], { file: rel, path: err.jsonPath, problem: err.problem });
    }
    const csvNames = [...new Set([`${stem}.csv`, spec.dataset.file])];
    if (spec.name !== stem) return this.reject(fileName, csvNames, { file: rel, path: 'name', problem: `the spec of model ${spec.name} must be named ${spec.name}.json` });
    let csvName: string | undefined;
    for (const name of csvNames) {
      const a = await this.age(join(this.dir, name));
      if (a === undefined) continue;
      if (a < SETTLE_MS) return;
      csvName = name;
      break;
    }
    if (!csvName) {
      if (specAge < CSV_GRACE_MS) return; // it may still be on its way
      return this.reject(fileName, [], { file: rel, path: 'dataset.file', problem: `no data next to it: expected ${csvNames.map((n) => `inbox/${n}`).join(' or ')}` });
    }
    const csvText = await readFile(join(this.dir, csvName), 'utf8');
    const files = [fileName, csvName];
    // Named by the contents: every trainer polling this folder queues the same job, once.
    const jobId = registryJobId(spec.name, 'register', `i${createHash('sha256').update(specText).update('\0').update(csvText).digest('hex').slice(0, 32)}`);
    const existing = await this.deps.queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state === 'completed') await this.move(files, 'done');
      else if (state === 'failed') await this.reject(fileName, [csvName], { file: rel, path: '', problem: `registration failed: ${existing.failedReason}` });
      return; // queued or running: looked at again at the next poll
    }
    const taken = await this.deps.whyTaken(spec.name);
    if (taken) return this.reject(fileName, [csvName], { file: rel, path: 'name', problem: taken });
    let read;
    try {
      read = readSpecCsv(csvText, spec);
      checkBootstrapSet(read.set, { classes: spec.target.classes, features: spec.features, evalFraction: spec.eval_fraction, seed: spec.seed });
    } catch (err) {
      if (!(err instanceof CsvError) && !(err instanceof TrainingDataError)) throw err;
      return this.reject(fileName, [csvName], { file: `inbox/${csvName}`, path: '', problem: err.message });
    }
    await this.deps.queue.add(
      'register',
      {
        kind: 'register',
        model: spec.name,
        request_id: null,
        body_hash: sha256Canonical({ spec: specText, csv: csvText }),
        spec,
        data: read.set,
        data_report: dataReportOf(read),
        source: 'inbox',
        file: rel,
      },
      { jobId },
    );
    this.deps.logger.info({ file: rel, csv: `inbox/${csvName}`, job_id: jobId, rows: read.set.y.length }, 'inbox: registration queued');
  }

  /** Moves `files` (names in the inbox) into `inbox/<to>/`; one already moved by another trainer is skipped. */
  private async move(files: readonly string[], to: 'done' | 'rejected'): Promise<void> {
    const dir = join(this.dir, to);
    await mkdir(dir, { recursive: true });
    for (const f of files) {
      await rename(join(this.dir, f), join(dir, f)).catch((err: unknown) => {
        if (!missingFile(err)) throw err;
      });
    }
    if (to === 'done') this.deps.logger.info({ files: files.map((f) => `inbox/${to}/${f}`) }, 'inbox: model registered');
  }

  /** Writes `rejected/<stem>.error.txt`, then moves the spec and whichever of `csvNames` exist into `rejected/`. */
  private async reject(fileName: string, csvNames: readonly string[], why: Rejection): Promise<void> {
    const stem = fileName.slice(0, -'.json'.length);
    const dir = join(this.dir, 'rejected');
    const text = [
      `${why.file}${why.path ? ` at ${why.path}` : ''}: ${why.problem}`,
      '',
      `file: ${why.file}`,
      `path: ${why.path || '(the whole file)'}`,
      `problem: ${why.problem}`,
      `rejected at: ${new Date().toISOString()}`,
      '',
    ].join('\n');
    await writeFileAtomic(join(dir, `${stem}.error.txt`), text);
    await this.move([fileName, ...csvNames], 'rejected');
    this.deps.logger.warn({ file: `inbox/${fileName}`, path: why.path, problem: why.problem }, 'inbox: file rejected');
  }
}
