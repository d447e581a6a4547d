import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port';

/** A redis-server child of the test process (for outage tests: the shared one is never touched). */
export interface PrivateRedis {
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGKILLs the server and resolves when it has exited. Idempotent. */
  kill(): Promise<void>;
}

/** Starts `redis-server` on `port` (a free one by default), without persistence; resolves once it accepts connections. */
export async function startPrivateRedis(port?: number, timeoutMs = 10_000): Promise<PrivateRedis> {
  port ??= await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`redis-server did not start: ${out}`)), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`redis-server exited with ${code}: ${out}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (/Ready to accept connections/i.test(out)) {
        clearTimeout(timer);
        res();
      }
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
