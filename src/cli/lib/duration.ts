/** Durations for --ttl: 90s, 45m, 12h, 30d, 2w, or plain seconds. */
import { UsageError } from './exit-codes.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

export function parseDuration(text: string): number {
  const m = /^(\d+)([smhdw]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`invalid duration "${text}" (examples: 3600, 90m, 12h, 30d, 2w)`);
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] || 's']!;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new UsageError(`invalid duration "${text}"`);
  return seconds;
}
