import { readFileSync } from 'node:fs';
import os from 'node:os';

/** What the figures were measured on. */
export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  os: string;
  loadAvg: string;
}

/** CPU model (from /proc/cpuinfo where there is one), logical cores, RAM, Node, OS. */
export function describeMachine(): Machine {
  let cpu = os.cpus()[0]?.model?.trim() ?? 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(info) ?? /^(?:Hardware|cpu model|Model)\s*:\s*(.+)$/m.exec(info);
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(rel)?.[1];
    if (pretty) osName = `${pretty} (${os.type()} ${os.release()}, ${os.arch()})`;
  } catch {
    // no os-release
  }
  return {
    cpu,
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    ramGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    os: osName,
    loadAvg: os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' '),
  };
}

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ: 100 on every mainstream Linux). */
const USER_HZ = 100;

/** CPU seconds (user + system) used so far by a process, or undefined where /proc is absent. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces, in parentheses).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / USER_HZ : undefined;
  } catch {
    return undefined;
  }
}
