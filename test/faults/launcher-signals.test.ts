/**
 * Faults: `npm start` and signals, as a user sends them: SIGTERM or SIGINT to the process (the
 * launcher itself, or npm when run as `npm start`), or Ctrl-C in a terminal (SIGINT to the
 * whole foreground process group). Each stops the API, the trainer and a private Redis (after
 * the services), and the command exits 0. Under npm, the signals used to kill only the shell
 * between npm and the launcher, which left the stack serving and npm exiting 130 or 143.
 * Also: a cold and a warm start log no error-level line. Processes, ports and files are real;
 * each stack runs in a process group of its own, so a group signal never reaches jest.
 *
 * The launcher runs the setup (install and build) first: cheap when nothing changed since the
 * last build, as under `npm test`, which builds before the tests. The services load a
 * catalogue of iris alone, so each start bootstraps one model.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cleanupRedis, eventually, freePort, makeTempDir, portAnswers, removeDir, TEST_REDIS_URL, uniquePrefix } from '@ct/testing';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newAdminToken, ROOT } from './harness';

const prefix = uniquePrefix('ct-launcher');
const token = newAdminToken();
const dirs: string[] = [];
let catalogDir: string;

beforeAll(async () => {
  catalogDir = await makeTempDir('ct-launcher-catalog-');
  dirs.push(catalogDir);
  copyFileSync(join(ROOT, 'catalog', 'iris.json'), join(catalogDir, 'iris.json'));
});

afterAll(async () => {
  await cleanupRedis(prefix);
  for (const d of dirs) await removeDir(d);
});

interface Proc {
  pid: number;
  cmdline: string;
}

/** Every process below `root` right now (Linux /proc), with its command line. */
function descendants(root: number): Proc[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: fields after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: Proc[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      out.push({ pid: child, cmdline: cmdlineOf(child) ?? '' });
      visit(child);
    }
  };
  visit(root);
  return out;
}

function cmdlineOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return undefined; // exited, not yet reaped
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

/** Those of `procs` still running (the same pid with the same command line). */
const running = (procs: Proc[]): Proc[] => procs.filter((p) => cmdlineOf(p.pid) === p.cmdline);

interface Stack {
  proc: ChildProcess;
  port: number;
  dataDir: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The processes of the stack once it is ready: the launcher, trainer, API (and private Redis). */
  processes: Proc[];
}

/** Runs `node scripts/launch.mjs` or `npm start` until the stack is ready. */
async function startStack(how: 'node' | 'npm', opts: { dataDir?: string; redisUrl?: string } = {}): Promise<Stack> {
  const dataDir = opts.dataDir ?? (await makeTempDir('ct-launcher-'));
  if (!dirs.includes(dataDir)) dirs.push(dataDir);
  const port = await freePort();
  const env = {
    ...process.env,
    REDIS_URL: opts.redisUrl ?? TEST_REDIS_URL,
    CT_DATA_DIR: dataDir,
    CT_CATALOG_DIR: catalogDir,
    CT_ADMIN_TOKEN: token,
    PORT: String(port),
    CT_REDIS_PREFIX: prefix,
    LOG_LEVEL: 'info',
  };
  const [command, args] = how === 'node' ? [process.execPath, [join(ROOT, 'scripts/launch.mjs')]] : ['npm', ['start']];
  // A group of its own: as a terminal would have it, and a group signal reaches nothing else.
  const proc = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => proc.on('exit', (code, signal) => done({ code, signal })));
  await new Promise<void>((done, fail) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('stack ready')) done();
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => fail(new Error(`${how} exited (${code}) before ready:\n${out}`)));
  });
  return { proc, port, dataDir, output: () => out, exited, processes: descendants(proc.pid as number) };
}

/** Sends `signal` to the stack's root process, or to its whole group (Ctrl-C); expects everything to stop and exit 0. */
async function expectStops(stack: Stack, signal: NodeJS.Signals, target: 'process' | 'group'): Promise<void> {
  const pid = stack.proc.pid as number;
  try {
    process.kill(target === 'group' ? -pid : pid, signal);
    const result = await Promise.race([stack.exited, new Promise((done) => setTimeout(() => done('still running after 30 s'), 30_000).unref())]);
    expect({ result, output: result === 'still running after 30 s' ? stack.output().slice(-2000) : '' }).toEqual({ result: { code: 0, signal: null }, output: '' });
    await eventually(() => running(stack.processes).length === 0, 5000, `every process of the stack gone (${JSON.stringify(running(stack.processes))})`);
    expect(await portAnswers(stack.port)).toBe(false);
  } finally {
    // Whatever failed above, leave nothing running.
    for (const p of running([{ pid, cmdline: cmdlineOf(pid) ?? '' }, ...stack.processes])) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
}

const serviceNames = (procs: Proc[]): string[] =>
  procs
    .map((p) => /services\/(api|trainer)\/dist\/main\.js|redis-server/.exec(p.cmdline)?.[0])
    .filter((n): n is string => n !== undefined)
    .sort();

/** The error-level (50) and fatal (60) lines of pino's output. */
const errorLines = (text: string): string[] => text.split('\n').filter((line) => /"level":(5|6)0/.test(line));

test('node scripts/launch.mjs: SIGTERM stops a cold-started stack and SIGINT a warm-started one, exit code 0; neither start logs an error-level line', async () => {
  const cold = await startStack('node');
  expect(serviceNames(cold.processes)).toEqual(['services/api/dist/main.js', 'services/trainer/dist/main.js']);
  await expectStops(cold, 'SIGTERM', 'process');
  const warm = await startStack('node', { dataDir: cold.dataDir });
  expect(serviceNames(warm.processes)).toEqual(['services/api/dist/main.js', 'services/trainer/dist/main.js']);
  await expectStops(warm, 'SIGINT', 'process');
  const logs = ['api.log', 'trainer.log'].map((f) => readFileSync(join(cold.dataDir, 'logs', f), 'utf8')).join('');
  for (const text of [cold.output(), warm.output(), logs]) expect(errorLines(text)).toEqual([]);
  expect(logs).toContain('"msg":"api listening');
}, 150_000);

describe('npm start', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)('%s to npm stops the stack, npm exits 0', async (signal) => {
    const stack = await startStack('npm');
    expect(serviceNames(stack.processes)).toEqual(['services/api/dist/main.js', 'services/trainer/dist/main.js']);
    await expectStops(stack, signal, 'process');
  }, 90_000);

  test('Ctrl-C stops the services, then the private Redis, npm exits 0', async () => {
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const stack = await startStack('npm', { redisUrl: deadRedis });
    expect(stack.output()).toContain('starting a private redis-server');
    expect(serviceNames(stack.processes)).toEqual(['redis-server', 'services/api/dist/main.js', 'services/trainer/dist/main.js']);
    await expectStops(stack, 'SIGINT', 'group');
    // Redis heard only the launcher's SIGTERM, sent once the services had stopped: not the
    // terminal's SIGINT, which would have stopped it under the services' feet.
    const redisLog = readFileSync(join(stack.dataDir, 'logs', 'redis.log'), 'utf8');
    expect(redisLog).toContain('Received SIGTERM');
    expect(redisLog).not.toContain('Received SIGINT');
  }, 90_000);
});
