import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { say, sleep } from './util';

// Everything the bench starts or creates is registered here, so that a normal end, an error
// and Ctrl-C all leave nothing behind: child processes, temp dirs, Redis keys.

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
/** Async clean-ups (Redis keys), run after every child has exited. */
const finalizers: { name: string; run: () => Promise<void> }[] = [];

/** Spawns a child process and registers it for clean-up. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** Whether the child has exited (with a code or by a signal). */
export const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** Resolves when the child has exited (at once if it already has). */
function waitExit(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (exited(child)) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!exited(child)) child.kill('SIGKILL');
  }, graceMs);
  await waitExit(child);
  clearTimeout(timer);
}

/** A new private temp dir, removed at the end. */
export function makeTempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ct-bench-${tag}-`));
  tempDirs.add(dir);
  return dir;
}

/** Registers an async clean-up to run after the children have stopped (e.g. deleting Redis keys). */
export function onCleanup(name: string, run: () => Promise<void>): void {
  finalizers.push({ name, run });
}

let cleaning: Promise<void> | undefined;

/** Stops every child, runs the finalizers, removes the temp dirs. Idempotent. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stopChild(c)));
    for (const f of finalizers.splice(0)) {
      try {
        await f.run();
      } catch (err) {
        say(`clean-up "${f.name}" failed: ${(err as Error).message}`);
      }
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    tempDirs.clear();
  })();
  return cleaning;
}

/** Ctrl-C / SIGTERM: clean up, then exit 130/143; a last synchronous sweep on any exit. */
export function installSignalHandlers(): void {
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    process.once(signal, () => {
      say(`\n${signal}: stopping child processes and removing temp files...`);
      // A second signal while cleaning up: force.
      process.once(signal, () => process.exit(code));
      void cleanupAll().finally(() => process.exit(code));
    });
  };
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
  process.once('exit', () => {
    for (const c of children) if (!exited(c)) c.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** A free TCP port on 127.0.0.1 (bound then released; good enough on a loopback bench). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output (tracked, so Ctrl-C stops it too). */
export function run(command: string, args: string[], options: SpawnOptions = {}, timeoutMs = 30 * 60_000): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawnTracked(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** Whether `command` runs (e.g. `wrk --version`); false if it is not on the PATH. */
export async function commandWorks(command: string, args: string[]): Promise<RunResult | undefined> {
  try {
    return await run(command, args, {}, 20_000);
  } catch {
    return undefined;
  }
}

/** Thrown by a probe of {@link waitFor} to give up at once (other errors mean "not yet"). */
export class FatalWait extends Error {}

/** Polls `probe` until it returns a value, the child exits, or the deadline passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, child: ChildProcess | undefined, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && exited(child)) throw new Error(`${what}: the process exited (${child.signalCode ?? `code ${child.exitCode}`})`);
    let v: T | undefined;
    try {
      v = await probe();
    } catch (err) {
      if (err instanceof FatalWait) throw new Error(`${what}: ${err.message}`);
      v = undefined;
    }
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
    await sleep(intervalMs);
  }
}
