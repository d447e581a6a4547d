import { randomFillSync } from 'node:crypto';

/** Random bytes drawn 4 KiB at a time: one syscall per 512 ids instead of one per id. */
const pool = Buffer.alloc(4096);
let offset = pool.length;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A new prediction id: a UUID version 7 (RFC 9562), 48 bits of Unix milliseconds then 74
 * random bits. The time in it tells an expired id (410) from one never issued (404) without
 * storing anything, and ids sort by when they were made.
 */
export function newPredictionId(now: number = Date.now()): string {
  if (offset + 10 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = offset;
  offset += 10;
  const ms = now.toString(16).padStart(12, '0');
  const h = (i: number): string => HEX[pool[r + i] as number] as string;
  const ver = HEX[0x70 | ((pool[r] as number) & 0x0f)] as string;
  const variant = HEX[0x80 | ((pool[r + 2] as number) & 0x3f)] as string;
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-${ver}${h(1)}-${variant}${h(3)}-${h(4)}${h(5)}${h(6)}${h(7)}${h(8)}${h(9)}`;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds a prediction id was made at, or undefined when it is not one of ours. */
export function predictionIdTime(id: string): number | undefined {
  if (!UUID_V7.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
