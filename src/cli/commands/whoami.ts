/** `secret-svc whoami`: who the worker says you are. */
import type { Command } from 'commander';
import { withClient } from '../context.js';
import { out } from '../io.js';

export function register(program: Command): void {
  program
    .command('whoami')
    .summary('who the worker says you are')
    .description('print your slug, admin flag, issuer and expiry as JSON, as the worker sees them')
    .action(async (_o: unknown, cmd: Command) => {
      const me = await withClient(cmd, (c) => c.whoami());
      out(`${JSON.stringify(me, null, 2)}\n`);
    });
}
