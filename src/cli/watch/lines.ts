/** How `secret-svc watch` prints a batch: one line per change, one for a reset; or JSON lines. */
import type { WatchBatch } from '@secret-svc/client';

/** `<time> <op> <key> v<version> rev <rev>`; a reset: `<now> reset rev <rev> …`. */
export function batchLines(batch: WatchBatch, json: boolean, now: Date = new Date()): string {
  if (batch.reset) {
    return json
      ? `${JSON.stringify({ at: now.toISOString(), reset: true, rev: batch.rev })}\n`
      : `${now.toISOString()} reset rev ${batch.rev} (changes were missed: re-read what you hold)\n`;
  }
  return batch.changes.map((c) => (json
    ? `${JSON.stringify(c)}\n`
    : `${c.at} ${c.op} ${c.key}${c.version === undefined ? '' : ` v${c.version}`} rev ${c.rev}\n`)).join('');
}
