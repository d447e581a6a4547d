import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandWorks, run } from './procs';

// HTTP load generation: wrk with an embedded Lua script when wrk is on the PATH, else
// autocannon (a dependency of @ct/scripts) in this process.

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers outside 2xx. */
  non2xx: number;
  /** Connect, read, write errors and timeouts. */
  socketErrors: number;
  requests: number;
  seconds: number;
}

export interface LoadTool {
  name: string;
  version: string;
  /**
   * POSTs `body` to `path` for `seconds` on every connection; `headers` (such as
   * `Authorization`) go with every request, next to `Content-Type: application/json`. With
   * `pauseMs`, each connection waits that long between an answer and its next request (wrk's
   * `delay()`; autocannon: at most 1000 / pauseMs requests a second per connection), so the
   * load offered is about the same for any server fast enough to keep up with it.
   */
  run(baseUrl: string, path: string, body: string, seconds: number, headers?: Readonly<Record<string, string>>, pauseMs?: number): Promise<LoadResult>;
}

// POSTs one JSON body on every request; counts non-2xx answers exactly (wrk's own counter
// only sees status > 399) with one counter per thread, summed in done(); prints one line.
const WRK_LUA = (path: string, body: string, headers: Readonly<Record<string, string>>, pauseMs: number) => `
wrk.method = "POST"
wrk.path = ${luaString(path)}
wrk.body = ${luaString(body)}
wrk.headers["Content-Type"] = "application/json"
${Object.entries(headers)
  .map(([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`)
  .join('\n')}
${pauseMs > 0 ? `function delay() return ${Math.round(pauseMs)} end\n` : ''}
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

bad_status = 0
function response(status, headers, body)
  if status < 200 or status > 299 then bad_status = bad_status + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad_status") or 0) end
  local e = summary.errors
  io.write(string.format("CTBENCH rps=%.3f p50_us=%.1f p99_us=%.1f non2xx=%d sock=%d requests=%d secs=%.3f\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    bad, e.connect + e.read + e.write + e.timeout, summary.requests, summary.duration / 1e6))
end
`;

/** A Lua string literal (long brackets cannot hold every string; escape instead). */
function luaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function wrkTool(version: string, dir: string, connections: number, threads: number): LoadTool {
  return {
    name: 'wrk',
    version,
    async run(baseUrl, path, body, seconds, headers = {}, pauseMs = 0) {
      const script = join(dir, `wrk-${Date.now()}.lua`);
      // Mode 0600: the script may hold a bearer token (the dir is removed at the end).
      writeFileSync(script, WRK_LUA(path, body, headers, pauseMs), { mode: 0o600 });
      const r = await run('wrk', [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '--latency', '-s', script, baseUrl], {}, (seconds + 30) * 1000);
      const line = r.stdout.split('\n').find((l) => l.startsWith('CTBENCH '));
      if (r.code !== 0 || !line) throw new Error(`wrk failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
      const f = Object.fromEntries(line.slice(8).split(' ').map((kv) => kv.split('=') as [string, string]));
      return {
        rps: Number(f.rps),
        p50Ms: Number(f.p50_us) / 1000,
        p99Ms: Number(f.p99_us) / 1000,
        non2xx: Number(f.non2xx),
        socketErrors: Number(f.sock),
        requests: Number(f.requests),
        seconds: Number(f.secs),
      };
    },
  };
}

/** The subset of autocannon's result used here. */
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

function autocannonTool(connections: number): LoadTool {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require('autocannon') as Autocannon;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const version = (require('autocannon/package.json') as { version: string }).version;
  return {
    name: 'autocannon',
    version,
    async run(baseUrl, path, body, seconds, headers = {}, pauseMs = 0) {
      const r = await autocannon({
        url: new URL(path, baseUrl).href,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        connections,
        duration: seconds,
        timeout: 10,
        ...(pauseMs > 0 ? { connectionRate: Math.max(1, Math.floor(1000 / pauseMs)) } : {}),
      });
      return {
        rps: r.requests.total / r.duration,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        non2xx: r.non2xx,
        socketErrors: r.errors + r.timeouts,
        requests: r.requests.total,
        seconds: r.duration,
      };
    },
  };
}

/** wrk if it runs, else autocannon. */
export async function pickLoadTool(dir: string, connections: number, threads: number): Promise<LoadTool> {
  const probe = await commandWorks('wrk', ['--version']);
  if (probe) {
    const text = `${probe.stdout}${probe.stderr}`;
    const version = /wrk\s+(\S+)/.exec(text)?.[1] ?? 'unknown';
    return wrkTool(version, dir, connections, threads);
  }
  return autocannonTool(connections);
}
