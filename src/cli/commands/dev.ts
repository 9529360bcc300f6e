/** `secret-svc dev`: keys, NATS, Redis and a worker for local use, in one command. */
import type { Command } from 'commander';
import { keepRunning } from '../lifecycle.js';

export interface DevFlags {
  dir: string;
  redisUrl?: string;
  startServers?: boolean;
  redisPrefix: string;
  logLevel: string;
}

export function register(program: Command): void {
  program
    .command('dev')
    .summary('run a local dev service: keys, NATS, Redis and a worker in one command')
    .description('run a local service for development: creates (once) a dev issuer key, an admin key and credential, an ' +
      'encryption key and a service key (signs session handshakes) under --dir; uses NATS on nats://127.0.0.1:4222 and Redis on redis://127.0.0.1:6379 when they ' +
      'answer, otherwise starts nats-server and redis-server from PATH on free ports (Redis data kept under --dir); ' +
      'starts a worker and prints the environment lines and example commands. Ctrl-C stops everything it started.')
    .option('--dir <dir>', 'where the dev keys (and the data of a Redis it starts) live', '.secret-svc')
    .option('--redis-url <url>', 'use this Redis (it must answer) instead of the default or one of its own')
    .option('--start-servers', 'start nats-server/redis-server even if the defaults answer (those not given by URL)')
    .option('--redis-prefix <prefix>', 'Redis key prefix of the dev data', 'secret-svc:')
    .option('--log-level <level>', 'worker log level (logs go to stderr)', 'info')
    .action(async (o: DevFlags, cmd: Command) => {
      keepRunning();
      const { runDev } = await import('../dev/run.js');
      await runDev(o, cmd.optsWithGlobals<{ natsUrl?: string }>().natsUrl);
    });
}
