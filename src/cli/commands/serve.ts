/** `secret-svc serve`: the worker, configured from the environment (what `npm start` runs). */
import type { Command } from 'commander';
import { keepRunning } from '../lib/process-exit.js';

export function register(program: Command): void {
  program
    .command('serve')
    .summary('run a worker configured from the environment (npm start)')
    .description('run a worker configured from the environment (NATS_URL, REDIS_URL, SECRET_SVC_*; see the README)')
    .action(async () => {
      // Loaded only here so client commands do not load the worker (Redis, pino).
      keepRunning();
      const { serve } = await import('../../serve.js');
      await serve();
    });
}
