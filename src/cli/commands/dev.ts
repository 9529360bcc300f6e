/** `secret-svc dev`: keys, NATS, Redis and a worker for local use, in one command. */
import { Option, type Command } from 'commander';
import { LOG_LEVELS } from '../../log-levels.js';
import { keepRunning } from '../lib/process-exit.js';

export interface DevFlags {
  dir: string;
  redisUrl?: string;
  startServers?: boolean;
  redisPrefix: string;
  logLevel: string;
  printWorkerEnv?: boolean;
}

export const DEFAULT_DEV_DIR = '.secret-svc';

export function register(program: Command): void {
  program
    .command('dev')
    .summary('run a local dev service: keys, NATS, Redis and a worker in one command')
    .description('run a local service for development: creates (once) a dev issuer key, an admin key and credential, an ' +
      'encryption key and a service key (signs session handshakes) under --dir; uses NATS on nats://127.0.0.1:4222 and Redis on redis://127.0.0.1:6379 when they ' +
      'answer, otherwise starts nats-server and redis-server from PATH on free ports (Redis data kept under --dir); ' +
      'starts a worker and prints the environment lines and example commands. Ctrl-C stops everything it started. ' +
      'The keyring, as for a worker: SECRET_SVC_ENCRYPTION_KEYS (_KEYS_FILE, _KEY_COMMAND, SECRET_SVC_ENCRYPTION_KEY / _FILE) ' +
      'when set, else DIR/encryption.keys (one key a line, the first seals) when it exists, else DIR/encryption.key.')
    .option('--dir <dir>', 'where the dev keys (and the data of a Redis it starts) live', DEFAULT_DEV_DIR)
    .option('--redis-url <url>', 'use this Redis (it must answer) instead of the default or one of its own')
    .option('--start-servers', 'start nats-server/redis-server even if the defaults answer (those not given by URL)')
    .option('--redis-prefix <prefix>', 'Redis key prefix of the dev data', 'secret-svc:')
    .addOption(new Option('--log-level <level>', 'worker log level (logs go to stderr)').choices(LOG_LEVELS).default('info'))
    .option('--print-worker-env', "print the environment of the dev service last started with this --dir (export lines, for " +
      '`eval`): a second worker (`npm start`) and `keys status` / `keys rewrap` need it; then exit')
    .action(async (o: DevFlags, cmd: Command) => {
      if (o.printWorkerEnv) {
        const { printWorkerEnv } = await import('../dev/worker-env.js');
        return printWorkerEnv(o.dir);
      }
      keepRunning();
      const { runDevSequence } = await import('../dev/dev-sequence.js');
      await runDevSequence(o, cmd.optsWithGlobals<{ natsUrl?: string }>().natsUrl);
    });
}
