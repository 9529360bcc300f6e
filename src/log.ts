/** JSON-lines logging (pino). Log lines carry slugs, ops, keys and statuses, never a value. */
import { hostname } from 'node:os';
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export function createLogger(level: string): Logger {
  return pino({ level, base: { svc: 'secret-svc', pid: process.pid, host: hostname() }, timestamp: pino.stdTimeFunctions.isoTime });
}
