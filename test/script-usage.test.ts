import { spawnSync } from 'node:child_process';
import { freePort } from '@ct/testing';
import { join, resolve } from 'node:path';

// The scripts a user runs first: `--help` prints usage and exits 0 (through npm too), and the
// demo run while no stack is up says what to do instead of "fetch failed" or a stack trace.
// The demo's default URL follows PORT, as `npm start` does.

const ROOT = resolve(__dirname, '..');
const STACK = /\n\s+at\s|\bat\s+\S+\s+\(.*:\d+:\d+\)/;

const run = (command: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });

describe.each([
  ['cli', 'scripts/dist/cli.js', ['cli fit ', 'cli synth ', 'cli --help']],
  ['demo', 'scripts/dist/demo.js', ['npm run demo', '--url URL', '--reset', 'PORT']],
])('%s --help', (name, script, expected) => {
  it('prints usage on stdout and exits 0', () => {
    for (const flag of ['--help', '-h']) {
      const r = run(process.execPath, [join(ROOT, script), flag]);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toMatch(/^usage:/);
      for (const text of expected) expect(r.stdout).toContain(text);
    }
  });

  it(`npm run ${name} -- --help exits 0`, () => {
    const r = run('npm', ['run', '--silent', name, '--', '--help']);
    expect({ status: r.status, stdout: r.stdout.slice(0, 6) }).toEqual({ status: 0, stdout: 'usage:' });
  });
});

test('cli COMMAND --help prints the usage too; a bad command still exits 2', () => {
  const help = run(process.execPath, [join(ROOT, 'scripts/dist/cli.js'), 'fit', '--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('cli fit ');
  const bad = run(process.execPath, [join(ROOT, 'scripts/dist/cli.js'), 'nope']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('unknown command "nope"');
});

test('demo with a bad option: the usage, exit code 2', () => {
  const r = run(process.execPath, [join(ROOT, 'scripts/dist/demo.js'), '--bogus']);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("Unknown option '--bogus'");
  expect(r.stderr).toContain('usage:');
});

test('demo against a stopped stack: says to start it or pass --url, exits 1, no stack trace; the default URL follows PORT', async () => {
  const port = await freePort(); // nothing listens there
  const r = run(process.execPath, [join(ROOT, 'scripts/dist/demo.js')], { PORT: String(port) });
  expect(r.status).toBe(1);
  const out = r.stdout + r.stderr;
  expect(out).toContain(`http://127.0.0.1:${port}/health`);
  expect(r.stderr).toContain('npm start');
  expect(r.stderr).toContain('--url');
  expect(out).not.toMatch(STACK);
});
