/**
 * Runs one worker from the environment; SIGTERM/SIGINT drain and exit 0, and so does losing the
 * parent process (npm killed without passing the signal on: src/parent-watch.ts).
 */
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { watchParent } from './parent-watch.js';
import { WrongKeyError } from './store/canary.js';
import { startWorker } from './worker.js';

export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`secret-svc: configuration error: ${err.message}\n`);
      process.exit(err.exitCode); // 2, or a failed key command's own status
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const abort = new AbortController();
  let stopping: Promise<void> | undefined;
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  const shutdown = (signal: string) => {
    if (stopping) return;
    log.info({ signal }, 'draining');
    abort.abort();
    stopping = (worker ? worker.stop() : Promise.resolve()).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  watchParent(() => shutdown('parent exited'));
  try {
    worker = await startWorker(config, log, { signal: abort.signal });
  } catch (err) {
    if (stopping) return;
    const message = err instanceof Error ? err.message : String(err);
    log.fatal({ err: message }, err instanceof WrongKeyError ? 'wrong encryption key' : 'startup failed');
    process.stderr.write(`secret-svc: ${message}\n`);
    process.exit(1);
  }
  if (stopping) await worker.stop();
}

