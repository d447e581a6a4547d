/**
 * Static checks of the container setup: docker/Dockerfile (always) and compose.yaml (through
 * `docker-compose config`, when docker-compose is installed). No Docker engine is needed.
 *
 * Run: npx jest test/compose.test.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { loadConfig as loadTrainerConfig } from '../services/trainer/src/config';
import { loadConfig as loadApiConfig } from '../services/api/src/config';

const ROOT = join(__dirname, '..');
const DOCKERFILE = 'docker/Dockerfile';
const COMPOSE = 'compose.yaml';

// ---------------------------------------------------------------------------------------
// A tiny YAML reader for what `docker-compose config` prints (PyYAML `safe_dump` for 1.x,
// go-yaml for v2): block mappings and sequences, plain and quoted scalars, `{}` / `[]`.
// Everything else (anchors, tags, block scalars, flow collections with content) throws,
// so an output this does not understand fails the test instead of passing it.
// ---------------------------------------------------------------------------------------

type Yaml = string | null | Yaml[] | { [key: string]: Yaml };
type YamlMap = { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseYaml(source: string): Yaml {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    const text = raw.replace(/\s+$/, '');
    if (text.trim() === '' || text.trim().startsWith('#') || text === '---') return;
    if (/\t/.test(text.match(/^\s*/)?.[0] ?? '')) throw new Error(`yaml line ${i + 1}: tab indentation`);
    lines.push({ indent: text.length - text.trimStart().length, text: text.trimStart(), no: i + 1 });
  });
  let pos = 0;
  const fail = (line: Line | undefined, why: string): never => {
    throw new Error(`yaml line ${line?.no ?? 'EOF'}: ${why}: ${line?.text ?? ''}`);
  };
  const isSeqItem = (t: string) => t === '-' || t.startsWith('- ');
  // `key: value` or `key:`; keys are plain or quoted, values may contain ': ' themselves.
  const splitKey = (line: Line): [string, string] | undefined => {
    const t = line.text;
    let key: string;
    let rest: string;
    if (t.startsWith('"') || t.startsWith("'")) {
      const end = findQuoteEnd(t, 0);
      if (end < 0) return undefined;
      const k = scalar(t.slice(0, end + 1), line);
      if (typeof k !== 'string') return undefined;
      key = k;
      rest = t.slice(end + 1);
      if (!rest.startsWith(':')) return undefined;
      rest = rest.slice(1);
    } else {
      const m = /^([^\s"'{[\]}#,&*!|>%@`-][^:]*?|-[^\s:][^:]*?):(?:\s|$)/.exec(t);
      if (!m) return undefined;
      key = m[1] as string;
      rest = t.slice(m[0].length);
    }
    return [key, rest.trim()];
  };

  function findQuoteEnd(t: string, start: number): number {
    const q = t[start];
    for (let i = start + 1; i < t.length; i++) {
      if (q === '"' && t[i] === '\\') i++;
      else if (t[i] === q) {
        if (q === "'" && t[i + 1] === "'") i++;
        else return i;
      }
    }
    return -1;
  }

  function scalar(text: string, line: Line): Yaml {
    const t = text.trim();
    if (t === '{}') return {};
    if (t === '[]') return [];
    if (t === '~' || t === 'null') return null;
    if (t.startsWith('"')) {
      if (!t.endsWith('"') || t.length < 2) fail(line, 'unterminated double-quoted scalar');
      return JSON.parse(t.replace(/\\'/g, "'")) as string;
    }
    if (t.startsWith("'")) {
      if (!t.endsWith("'") || t.length < 2) fail(line, 'unterminated single-quoted scalar');
      return t.slice(1, -1).replace(/''/g, "'");
    }
    if (/^[&*!|>{[]/.test(t)) fail(line, 'unsupported YAML construct');
    return t;
  }

  // A scalar may continue on deeper-indented lines (PyYAML folds long plain scalars).
  function scalarWithContinuation(first: string, line: Line, parentIndent: number): Yaml {
    let text = first;
    while (pos < lines.length && (lines[pos] as Line).indent > parentIndent) {
      text += ` ${(lines[pos] as Line).text}`;
      pos++;
    }
    return scalar(text, line);
  }

  function parseNode(minIndent: number): Yaml {
    const line = lines[pos];
    if (!line || line.indent < minIndent) return null;
    if (isSeqItem(line.text)) return parseSeq(line.indent);
    if (splitKey(line)) return parseMap(line.indent);
    pos++;
    return scalarWithContinuation(line.text, line, line.indent - 1);
  }

  function parseMap(indent: number): YamlMap {
    const out: YamlMap = {};
    while (pos < lines.length) {
      const line = lines[pos] as Line;
      if (line.indent < indent) break;
      if (line.indent > indent) fail(line, 'unexpected indentation');
      if (isSeqItem(line.text)) break;
      const kv = splitKey(line) ?? fail(line, 'expected "key: value"');
      const [key, rest] = kv;
      pos++;
      if (key in out) fail(line, `duplicate key ${key}`);
      if (rest === '') {
        const next = lines[pos];
        if (next && next.indent > indent) out[key] = parseNode(next.indent);
        else if (next && next.indent === indent && isSeqItem(next.text)) out[key] = parseSeq(indent);
        else out[key] = null;
      } else {
        out[key] = scalarWithContinuation(rest, line, indent);
      }
    }
    return out;
  }

  function parseSeq(indent: number): Yaml[] {
    const out: Yaml[] = [];
    while (pos < lines.length) {
      const line = lines[pos] as Line;
      if (line.indent !== indent || !isSeqItem(line.text)) {
        if (line.indent > indent) fail(line, 'unexpected indentation');
        break;
      }
      const rest = line.text === '-' ? '' : line.text.slice(2).trimStart();
      if (rest === '') {
        pos++;
        out.push(parseNode(indent + 1));
        continue;
      }
      // `- key: value` opens a mapping whose keys sit at the column after "- ".
      const inner: Line = { indent: line.indent + (line.text.length - rest.length), text: rest, no: line.no };
      if (isSeqItem(rest)) fail(line, 'nested inline sequence');
      if (splitKey(inner)) {
        lines[pos] = inner;
        out.push(parseMap(inner.indent));
      } else {
        pos++;
        out.push(scalarWithContinuation(rest, line, indent));
      }
    }
    return out;
  }

  const doc = parseNode(0);
  if (pos < lines.length) fail(lines[pos], 'trailing content');
  return doc;
}

// ---------------------------------------------------------------------------------------
// Helpers over the parsed compose model (1.x short syntax and v2 long syntax).
// ---------------------------------------------------------------------------------------

const asMap = (v: Yaml | undefined, what: string): YamlMap => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
};
const asList = (v: Yaml | undefined, what: string): Yaml[] => {
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list, got ${JSON.stringify(v)}`);
  return v;
};
/** A scalar as text (null as ''); a mapping or list where a scalar belongs throws. */
const str = (v: Yaml | undefined, what = 'value'): string => {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') throw new Error(`${what}: expected a scalar, got ${JSON.stringify(v)}`);
  return v;
};

/** Go/compose duration ("30s", "1m30s", "1m", "500ms") in milliseconds. */
export function durationMs(value: Yaml | undefined): number {
  const text = str(value, 'duration').trim();
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a duration: ${JSON.stringify(value)}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (unit[p[2] as string] as number), 0);
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

function mounts(service: YamlMap, name: string): Mount[] {
  return asList(service.volumes ?? [], `${name}.volumes`).map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode = 'rw'] = v.split(':');
      return { source, target, readOnly: mode.split(',').includes('ro') };
    }
    const m = asMap(v, `${name}.volumes[]`);
    return { source: str(m.source), target: str(m.target), readOnly: m.read_only === 'true' };
  });
}

function environment(service: YamlMap): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => str(e, 'environment[]').split(/=(.*)/s).slice(0, 2) as [string, string]));
  }
  return Object.fromEntries(Object.entries(asMap(env, 'environment')).map(([k, v]) => [k, str(v, k)]));
}

function commandWords(v: Yaml | undefined): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map((w) => str(w, 'command word')) : str(v, 'command').split(/\s+/);
}

// ---------------------------------------------------------------------------------------
// (a) compose.yaml, resolved by docker-compose itself.
// ---------------------------------------------------------------------------------------

const composeProbe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
const haveCompose = !composeProbe.error && composeProbe.status === 0;
const describeCompose = haveCompose ? describe : describe.skip;
const composeTitle = haveCompose
  ? `compose.yaml (docker-compose config, ${composeProbe.stdout.split('\n')[0]?.trim()})`
  : 'compose.yaml: SKIPPED, docker-compose is not on the PATH (install it to run these checks)';

describeCompose(composeTitle, () => {
  let config: YamlMap;
  let services: YamlMap;
  const svc = (name: string): YamlMap => asMap(services[name], `services.${name}`);

  beforeAll(() => {
    // No interpolation from the caller's environment: the file's own defaults are checked.
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^(CT_|LOG_LEVEL$|COMPOSE_)/.test(k)) delete env[k];
    const r = spawnSync('docker-compose', ['-f', COMPOSE, 'config'], { cwd: ROOT, encoding: 'utf8', env });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`docker-compose config exited ${r.status}:\n${r.stderr}`);
    config = asMap(parseYaml(r.stdout), 'config');
    services = asMap(config.services, 'services');
  });

  test('defines redis, api and trainer (and prometheus behind the monitoring profile), and the six named volumes', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'prometheus', 'redis', 'trainer']);
    expect(svc('prometheus').profiles).toEqual(['monitoring']);
    expect(String(JSON.stringify(svc('prometheus').volumes))).toContain('prometheus.yml');
    expect(asMap(svc('trainer').environment, 'trainer.environment').CT_METRICS_PORT).toBe('9464');
    expect(Object.keys(asMap(config.volumes, 'volumes')).sort()).toEqual(['accepted-jobs', 'inbox', 'models', 'redis-data', 'results', 'secrets']);
  });

  test('api: tokens pass through the environment (empty when unset), its secrets live in their own volume', () => {
    const api = svc('api');
    const env = asMap(api.environment, 'api.environment');
    for (const name of ['CT_ADMIN_TOKEN', 'CT_TRAINER_TOKEN', 'CT_CLIENT_TOKEN', 'CT_TOKEN_SECRET']) expect(name in env).toBe(true);
    // The api's own parser accepts what compose passes when nothing is set.
    const parsed = loadApiConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')])));
    expect(parsed.tokens).toEqual([]);
    expect(JSON.stringify(api.volumes)).toMatch(/secrets.*\/data\/secrets/);
  });

  test('compose.yaml has no top-level name: (docker-compose 1.29 refuses it)', () => {
    const raw = readFileSync(join(ROOT, COMPOSE), 'utf8');
    expect(raw).not.toMatch(/^name\s*:/m);
  });

  test('redis: AOF on, noeviction, its own volume, redis-cli ping healthcheck', () => {
    const redis = svc('redis');
    expect(str(redis.image)).toMatch(/^redis:7(\b|$)/);
    const cmd = commandWords(redis.command);
    expect(cmd[cmd.indexOf('--appendonly') + 1]).toBe('yes');
    expect(cmd).toContain('--appendonly');
    expect(cmd[cmd.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    expect(cmd).toContain('--maxmemory-policy');
    expect(mounts(redis, 'redis')).toContainEqual({ source: 'redis-data', target: '/data', readOnly: false });
    const test = commandWords(asMap(redis.healthcheck, 'redis.healthcheck').test);
    expect(test.slice(-2)).toEqual(['redis-cli', 'ping']);
  });

  test('api: models volume read-only, results read-write, port 8000, /health healthcheck', () => {
    const api = svc('api');
    const m = mounts(api, 'api');
    expect(m).toContainEqual({ source: 'models', target: '/data/models', readOnly: true });
    expect(m).toContainEqual({ source: 'results', target: '/data/results', readOnly: false });
    const ports = asList(api.ports, 'api.ports').map((p) => (typeof p === 'string' ? p : `${str(asMap(p, 'port').published)}:${str(asMap(p, 'port').target)}`));
    expect(ports).toContain('8000:8000');
    const hc = asMap(api.healthcheck, 'api.healthcheck');
    const test = commandWords(hc.test);
    expect(test[0]).toBe('CMD');
    expect(test[1]).toBe('node');
    expect(test.join(' ')).toContain('/health');
    expect(hc.disable).toBeUndefined();
  });

  test('trainer: models volume read-write; only the trainer writes models/; its watched folder on the inbox volume', () => {
    expect(mounts(svc('trainer'), 'trainer')).toContainEqual({ source: 'models', target: '/data/models', readOnly: false });
    expect(mounts(svc('trainer'), 'trainer')).toContainEqual({ source: 'inbox', target: '/data/inbox', readOnly: false });
    for (const name of Object.keys(services).filter((n) => n !== 'trainer')) {
      for (const mount of mounts(svc(name), name).filter((x) => x.source === 'models')) expect(mount.readOnly).toBe(true);
    }
  });

  test('api and trainer share the accepted-jobs volume read-write (the api records what it accepts, the trainer queues it again after a Redis loss)', () => {
    for (const name of ['api', 'trainer']) expect(mounts(svc(name), name)).toContainEqual({ source: 'accepted-jobs', target: '/data/accepted-jobs', readOnly: false });
  });

  test('api and trainer talk to the compose redis with an explicit prefix, from the Dockerfile targets', () => {
    for (const name of ['api', 'trainer']) {
      const env = environment(svc(name));
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.CT_REDIS_PREFIX).toMatch(/^[A-Za-z0-9_-]+$/);
      const build = asMap(svc(name).build, `${name}.build`);
      expect(str(build.dockerfile)).toMatch(/(^|\/)docker\/Dockerfile$/);
      expect(build.target).toBe(name);
    }
    expect(environment(svc('api')).HOST ?? '0.0.0.0').toBe('0.0.0.0');
  });

  test('depends_on: redis healthy for both services, trainer started for the api', () => {
    const cond = (name: string, dep: string) => asMap(asMap(svc(name).depends_on, `${name}.depends_on`)[dep], `${name}.depends_on.${dep}`).condition;
    expect(cond('api', 'redis')).toBe('service_healthy');
    expect(cond('trainer', 'redis')).toBe('service_healthy');
    expect(cond('api', 'trainer')).toBe('service_started');
  });

  test("trainer stop_grace_period exceeds the worker's CT_SHUTDOWN_TIMEOUT_MS", () => {
    const trainer = svc('trainer');
    // The value the trainer will really use: its own config parser, fed the compose env.
    const shutdownMs = loadTrainerConfig(environment(trainer)).shutdownTimeoutMs;
    expect(shutdownMs).toBeGreaterThan(0);
    expect(trainer.stop_grace_period).toBeDefined();
    expect(durationMs(trainer.stop_grace_period)).toBeGreaterThan(shutdownMs);
  });
});

// ---------------------------------------------------------------------------------------
// (b) docker/Dockerfile, always (no Docker needed).
// ---------------------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (buf === '' && /^\s*#/.test(line)) return; // comment / parser directive
    if (buf !== '' && /^\s*#/.test(line)) return; // comments inside a continued instruction
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(line)) {
      buf += `${line.replace(/\\\s*$/, '')} `;
      return;
    }
    buf += line;
    const full = buf.trim();
    buf = '';
    if (full === '') return;
    const m = /^(\w+)\s+([\s\S]*)$/.exec(full);
    if (!m) throw new Error(`Dockerfile line ${start}: cannot parse ${full}`);
    const op = (m[1] as string).toUpperCase();
    const rest = (m[2] as string).trim();
    if (op === 'ARG' && stages.length === 0) {
      const [k, v = ''] = rest.split(/=(.*)/s);
      args[(k as string).trim()] = v.trim();
      return;
    }
    if (op === 'FROM') {
      const words = rest.split(/\s+/).filter((w) => !w.startsWith('--'));
      const base = (words[0] as string).replace(/\$\{?(\w+)\}?/g, (_, k: string) => args[k] ?? '');
      const as = words.findIndex((w) => w.toLowerCase() === 'as');
      stages.push({ base, name: as >= 0 ? words[as + 1] : undefined, instructions: [] });
      return;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile line ${start}: ${op} before FROM`);
    stage.instructions.push({ op, args: rest, line: start });
  });
  if (buf.trim() !== '') throw new Error('Dockerfile ends inside a continued line');
  return { args, stages };
}

/** Exec form (JSON array) or shell form, as words. */
function words(args: string): { exec: boolean; words: string[] } {
  if (args.startsWith('[')) return { exec: true, words: JSON.parse(args) as string[] };
  return { exec: false, words: args.split(/\s+/) };
}

/** COPY/ADD: flags, sources, destination. */
function copyParts(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([\w-]+)(?:=(\S+))?\s+/.exec(rest); m; m = /^--([\w-]+)(?:=(\S+))?\s+/.exec(rest)) {
    flags[m[1] as string] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  return { flags, sources: parts.slice(0, -1), dest: parts[parts.length - 1] as string };
}

/** .dockerignore as Docker applies it: last matching pattern wins, `!` re-includes. */
export function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i] as string;
        if (c === '*' && pattern[i + 1] === '*') {
          re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pattern[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path: string) => {
    const clean = posix.normalize(path).replace(/^\.?\/+|\/+$/g, '');
    // A path is excluded when it, or a directory above it, matches.
    const prefixes = clean.split('/').map((_, i, all) => all.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.negate;
    return excluded;
  };
}

/** Repo paths a COPY source names (supports `*` and `?` in the last segment). */
function expandSource(source: string): string[] {
  const clean = posix.normalize(source).replace(/^\.?\/+/, '').replace(/\/+$/, '') || '.';
  if (!/[*?[]/.test(clean)) return existsSync(join(ROOT, clean)) ? [clean] : [];
  const dir = posix.dirname(clean);
  if (/[*?[]/.test(dir)) throw new Error(`wildcards in directories are not supported by this check: ${source}`);
  const re = new RegExp(`^${posix.basename(clean).replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir))
    .filter((f) => re.test(f))
    .map((f) => (dir === '.' ? f : `${dir}/${f}`));
}

describe('docker/Dockerfile', () => {
  const text = readFileSync(join(ROOT, DOCKERFILE), 'utf8');
  const { stages } = parseDockerfile(text);
  const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name as string, s]));
  const ignored = existsSync(join(ROOT, '.dockerignore')) ? dockerignoreMatcher(readFileSync(join(ROOT, '.dockerignore'), 'utf8')) : () => false;

  /** The stage and the stages it is built FROM, nearest first. */
  const chain = (stage: Stage): Stage[] => {
    const out: Stage[] = [];
    for (let s: Stage | undefined = stage; s && !out.includes(s); s = byName.get(s.base)) out.push(s);
    return out;
  };
  /** Last value of an instruction along the FROM chain (CMD, ENTRYPOINT, USER, HEALTHCHECK). */
  const effective = (stage: Stage, op: string): Instruction | undefined => {
    for (const s of chain(stage)) {
      const found = s.instructions.filter((i) => i.op === op);
      if (found.length) return found[found.length - 1];
    }
    return undefined;
  };
  const effectiveEnv = (stage: Stage): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const s of chain(stage).reverse()) {
      for (const i of s.instructions.filter((x) => x.op === 'ENV')) {
        const pairs = i.args.includes('=') ? i.args.split(/\s+/).map((p) => p.split(/=(.*)/s)) : [i.args.split(/\s+(.*)/s)];
        for (const [k, v] of pairs) env[k as string] = (v ?? '').replace(/^"(.*)"$/, '$1');
      }
    }
    return env;
  };
  /** The images that run something: stages with a CMD or ENTRYPOINT of their own. */
  const runnable = stages.filter((s) => s.instructions.some((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT'));

  test('parses into stages, and has a runnable stage per service', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const started = runnable.map((s) => words((effective(s, 'CMD') as Instruction).args).words.join(' '));
    for (const svc of ['api', 'trainer']) expect(started).toContain(`node services/${svc}/dist/main.js`);
  });

  test('every services/*/dist/*.js in CMD/ENTRYPOINT/HEALTHCHECK compiles from a real services/*/src/*.ts', () => {
    const referenced = new Set<string>();
    for (const s of stages) {
      for (const i of s.instructions.filter((x) => ['CMD', 'ENTRYPOINT', 'HEALTHCHECK'].includes(x.op))) {
        for (const m of i.args.matchAll(/services\/[\w.-]+\/dist\/[\w./-]+\.js/g)) referenced.add(m[0]);
      }
    }
    expect(referenced.size).toBeGreaterThan(0);
    const missing = [...referenced].filter((js) => !existsSync(join(ROOT, js.replace('/dist/', '/src/').replace(/\.js$/, '.ts'))));
    expect(missing).toEqual([]);
    // The trainer also loads its fit thread by path from dist/ at run time.
    expect(existsSync(join(ROOT, 'services/trainer/src/fit-thread.ts'))).toBe(true);
  });

  test('every COPY/ADD source from the build context exists in the repo and is not .dockerignored', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const s of stages) {
      for (const i of s.instructions.filter((x) => x.op === 'COPY' || x.op === 'ADD')) {
        const { flags, sources } = copyParts(i.args);
        if (flags.from) {
          // From another stage: that stage must exist (an image reference would contain ':' or '/').
          if (!/[:/]/.test(flags.from) && !byName.has(flags.from)) problems.push(`line ${i.line}: --from=${flags.from} names no stage`);
          continue;
        }
        for (const src of sources) {
          checked++;
          if (/^https?:\/\//.test(src)) continue;
          const found = expandSource(src);
          if (found.length === 0) problems.push(`line ${i.line}: ${src} does not exist in the repo`);
          for (const f of found) if (f !== '.' && ignored(f)) problems.push(`line ${i.line}: ${f} is excluded by .dockerignore`);
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  test('the images run node directly, as a non-root user, listening on 0.0.0.0', () => {
    expect(runnable.length).toBeGreaterThan(0);
    for (const s of runnable) {
      const label = s.name ?? s.base;
      const entry = effective(s, 'ENTRYPOINT');
      const cmd = effective(s, 'CMD') as Instruction;
      // Exec form, first word node: node is PID 1 and gets SIGTERM itself (no sh, npm or pnpm
      // in between to swallow it).
      const run = words((entry ?? cmd).args);
      expect({ stage: label, exec: run.exec, program: run.words[0] }).toEqual({ stage: label, exec: true, program: 'node' });
      expect(words(cmd.args).words.filter((w) => /^(npm|npx|pnpm|yarn|sh|bash)$/.test(w))).toEqual([]);
      const user = effective(s, 'USER');
      expect(user).toBeDefined();
      expect(String(user?.args)).not.toMatch(/^(root|0)(:|$)/);
      const env = effectiveEnv(s);
      expect({ stage: label, HOST: env.HOST, NODE_ENV: env.NODE_ENV, CT_DATA_DIR: env.CT_DATA_DIR }).toEqual({
        stage: label,
        HOST: '0.0.0.0',
        NODE_ENV: 'production',
        CT_DATA_DIR: '/data',
      });
    }
  });

  test('the api image has a HEALTHCHECK on /health that uses node (no curl in slim images)', () => {
    const api = runnable.find((s) => words((effective(s, 'CMD') as Instruction).args).words.includes('services/api/dist/main.js'));
    expect(api).toBeDefined();
    const hc = effective(api as Stage, 'HEALTHCHECK');
    expect(hc?.args).toMatch(/CMD \["node",/);
    expect(hc?.args).toContain('/health');
    expect(hc?.args).not.toMatch(/\b(curl|wget)\b/);
  });

  test('build stage pins pnpm 10.34.9 from npm, installs from the frozen lockfile and prunes to --prod', () => {
    const pinned = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { packageManager: string }).packageManager;
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args)).join('\n');
    expect(runs).toContain(`npm install -g ${pinned}`);
    expect(runs).not.toMatch(/corepack/);
    expect(runs).toMatch(/pnpm install [^\n]*--frozen-lockfile/);
    expect(runs).toMatch(/pnpm install [^\n]*--prod[^\n]*--frozen-lockfile/);
    for (const s of stages) expect(s.base).toMatch(/^(node:20-bookworm-slim|[\w-]+)$/);
  });
});

// The parser and matcher above are small; pin their behaviour on the shapes they must read.
describe('test helpers', () => {
  test('parseYaml reads PyYAML block style, quoting and folded plain scalars', () => {
    const doc = parseYaml(
      [
        'services:',
        '  a:',
        '    command:',
        '    - redis-server',
        '    - "yes"',
        "    - 'it''s'",
        '    env:',
        "      X: '10'",
        '      Y: a long plain',
        '        scalar folded',
        '    ports:',
        '    - published: 8000',
        '      target: 8000',
        'volumes:',
        '  v: {}',
        "version: '3.9'",
      ].join('\n'),
    );
    expect(doc).toEqual({
      services: { a: { command: ['redis-server', 'yes', "it's"], env: { X: '10', Y: 'a long plain scalar folded' }, ports: [{ published: '8000', target: '8000' }] } },
      volumes: { v: {} },
      version: '3.9',
    });
    expect(() => parseYaml('a: &x 1\nb: *x')).toThrow(/unsupported/);
  });

  test('durationMs', () => {
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('1m')).toBe(60_000);
    expect(durationMs('500ms')).toBe(500);
    expect(() => durationMs('30')).toThrow();
  });

  test('dockerignoreMatcher', () => {
    const ignored = dockerignoreMatcher('**/node_modules\n*.md\ndocs\n**/test\n!docs/keep.md\n');
    expect(ignored('node_modules')).toBe(true);
    expect(ignored('services/api/node_modules/x')).toBe(true);
    expect(ignored('README.md')).toBe(true);
    expect(ignored('datasets/README.md')).toBe(false);
    expect(ignored('services/api/test/a.test.ts')).toBe(true);
    expect(ignored('docs/a.md')).toBe(true);
    expect(ignored('docs/keep.md')).toBe(false);
    expect(ignored('services/api/src/main.ts')).toBe(false);
  });

  test('the Dockerfile and compose file exist where the stack expects them', () => {
    expect(statSync(join(ROOT, DOCKERFILE)).isFile()).toBe(true);
    expect(existsSync(join(ROOT, COMPOSE))).toBe(true);
  });
});
