import { randomFillSync } from 'node:crypto';

/** Random bytes drawn 4 KiB at a time: one syscall per 409 ids instead of one per id. */
const pool = Buffer.alloc(4096);
let offset = pool.length;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The id's first 15 characters, its time and version digit, made once per millisecond. */
let headAt = NaN;
let head = '';

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
  if (now !== headAt) {
    headAt = now;
    const ms = now.toString(16).padStart(12, '0');
    head = `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7`;
  }
  // One native call for the random digits; byte r's high nibble and byte r+2's two high bits
  // give way to the version and variant.
  const hex = pool.toString('hex', r, r + 10);
  const variant = HEX[0x80 | ((pool[r + 2] as number) & 0x3f)] as string;
  return `${head}${hex.slice(1, 4)}-${variant}${hex.slice(6, 8)}-${hex.slice(8)}`;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The Unix milliseconds a prediction id was made at, or undefined when it is not one of ours. */
export function predictionIdTime(id: string): number | undefined {
  if (!UUID_V7.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
