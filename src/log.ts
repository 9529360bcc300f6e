/** JSON-lines logging (pino), configured here only. Log lines carry slugs, ops, keys and statuses, never a value. */
import { hostname } from 'node:os';
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** `stderr` for commands whose standard output is for the user (`secret-svc dev`). */
export function createLogger(level: string, to: 'stdout' | 'stderr' = 'stdout'): Logger {
  const options = { level, base: { svc: 'secret-svc', pid: process.pid, host: hostname() }, timestamp: pino.stdTimeFunctions.isoTime };
  return to === 'stdout' ? pino(options) : pino(options, pino.destination(2));
}
