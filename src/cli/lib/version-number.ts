/** A version number given on the command line (docs/protocol.md §9: a positive integer). */
import { UsageError } from './exit-codes.js';

export function versionNumber(text: string, what: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what} must be a positive integer version number (got "${text.slice(0, 20)}")`);
  }
  return Number(text);
}
