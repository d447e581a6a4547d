// Installs dependencies and builds the workspace: the first thing `npm start` and `npm test`
// do. Plain Node (no dependencies), since it runs before anything is installed. Cheap when
// everything is up to date: pnpm checks its lockfile and tsc builds incrementally.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = '10.34.9';

function run(cmd, args, what) {
  // Child output goes to stderr: stdout belongs to the command that runs after setup (the CLI's JSON line).
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 2, 2], env: { ...process.env, npm_config_yes: 'true' } });
  if (r.error || r.status !== 0) {
    console.error(`setup: ${what} failed (${r.error?.message ?? `exit code ${r.status}`}): ${cmd} ${args.join(' ')}`);
    process.exit(1);
  }
}

/** The pnpm command: the global one when it is the pinned version, else through npx. */
export function pnpmCommand() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout.trim() === PNPM_VERSION) return ['pnpm', []];
  return ['npx', ['--yes', `pnpm@${PNPM_VERSION}`]];
}

const STAMP = join(ROOT, 'node_modules', '.ct-setup-stamp');

/** Hash of the names, sizes and mtimes of every input of install and build. */
function inputsStamp() {
  const hash = createHash('sha256');
  const visit = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (/\.(ts|json|mjs|yaml)$/.test(e.name)) {
        const st = statSync(p);
        hash.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  for (const dir of ['packages', 'services', 'scripts']) visit(join(ROOT, dir));
  for (const f of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'tsconfig.base.json']) {
    const p = join(ROOT, f);
    if (existsSync(p)) hash.update(`${p}\0${readFileSync(p)}\n`);
  }
  return hash.digest('hex');
}

/** Installs and builds, unless nothing changed since the last successful run. */
export function setup() {
  const [major] = process.versions.node.split('.').map(Number);
  if (major < 20) {
    console.error(`setup: Node ${process.versions.node} is too old; Node 20 or later is required.`);
    process.exit(1);
  }
  const stamp = inputsStamp();
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp) return;
  const [pnpm, pre] = pnpmCommand();
  const fresh = !existsSync(join(ROOT, 'node_modules', '.modules.yaml'));
  if (fresh) console.error('setup: first run: installing dependencies with pnpm (about a minute)...');
  run(pnpm, [...pre, 'install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent'], 'dependency install');
  const built = existsSync(join(ROOT, 'services', 'api', 'dist', 'main.js'));
  if (!built) console.error('setup: building the workspace (TypeScript)...');
  run(pnpm, [...pre, '-r', '--silent', 'run', 'build'], 'build');
  writeFileSync(STAMP, stamp);
  if (fresh || !built) console.error('setup: done.');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) setup();
