/**
 * Small random values (nonces) cut from blocks of CSPRNG output: one randomBytes call per
 * request or reply cost ~5% of a worker's or client's CPU. Each block is a new buffer and
 * every value a distinct slice of it, so no bytes are ever handed out twice.
 */
import { randomBytes } from 'node:crypto';

const BLOCK_BYTES = 16 * 1024;
let block = Buffer.alloc(0);
let used = 0;

/** `n` fresh random bytes (a view into a block that is never reused). */
export function randomSlice(n: number): Buffer {
  if (used + n > block.length) {
    block = randomBytes(Math.max(BLOCK_BYTES, n));
    used = 0;
  }
  const slice = block.subarray(used, used + n);
  used += n;
  return slice;
}
