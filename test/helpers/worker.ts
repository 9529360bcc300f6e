/** A worker inside the test process (for most integration tests) with its own config. */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startWorker, type Worker, type WorkerOptions } from '../../src/worker.js';

export function testEnv(o: { natsUrl: string; redisUrl: string; issuers: string[]; key?: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    NATS_URL: o.natsUrl,
    REDIS_URL: o.redisUrl,
    SECRET_SVC_ISSUERS: o.issuers.join(','),
    SECRET_SVC_ENCRYPTION_KEY: o.key ?? randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    ...o.extra,
  };
}

export async function startTestWorker(env: Record<string, string>): Promise<Worker & { config: Config }> {
  const config = loadConfig(env);
  const worker = await startWorker(config, createLogger(config.logLevel));
  return Object.assign(worker, { config });
}

/** A worker whose log lines (warn and above, parsed) the test reads. */
export async function startLoggedWorker(env: Record<string, string>, opts: WorkerOptions = {}): Promise<Worker & { config: Config; logged: Record<string, unknown>[] }> {
  const config = loadConfig(env);
  const logged: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => { logged.push(JSON.parse(line) as Record<string, unknown>); } });
  const worker = await startWorker(config, log, opts);
  return Object.assign(worker, { config, logged });
}
