import { resolve } from 'node:path';

/** The repository root: `scripts/dist/bench/` (compiled) and `scripts/src/bench/` are both three levels down. */
export const ROOT = resolve(__dirname, '../../..');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Nearest-rank percentile (q in [0, 100]) of a non-empty list. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((q / 100) * s.length));
  return s[Math.min(rank, s.length) - 1] as number;
}

/** A number with `digits` decimals and thousands separators; `—` for NaN/undefined. */
export function fmt(v: number | undefined | null, digits = 0): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Milliseconds with a precision that suits their size. */
export function fmtMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '—';
  if (ms >= 10_000) return `${fmt(ms / 1000, 1)} s`;
  if (ms >= 100) return `${fmt(ms, 0)} ms`;
  if (ms >= 10) return `${fmt(ms, 1)} ms`;
  return `${fmt(ms, 2)} ms`;
}

/** A ratio such as `2.31x`. */
export function fmtRatio(r: number | undefined | null): string {
  if (r === undefined || r === null || !Number.isFinite(r)) return '—';
  return `${r >= 10 ? fmt(r, 1) : fmt(r, 2)}x`;
}

export function fmtPct(r: number | undefined | null, digits = 1): string {
  if (r === undefined || r === null || !Number.isFinite(r)) return '—';
  return `${fmt(r * 100, digits)} %`;
}

/** One line on stdout, as the bench goes. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Renders a markdown table; `align` is one of l/r per column (default l). */
export function mdTable(header: string[], rows: string[][], align?: string): string {
  const a = header.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [header, a, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(esc)).join(' | ')} |`).join('\n');
}

/** One outcome of a target: what was aimed at, what was measured, and whether it was met (null: not measured). */
export interface TargetCheck {
  section: string;
  target: string;
  measured: string;
  met: boolean | null;
}
