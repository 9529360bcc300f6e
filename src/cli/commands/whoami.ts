/** `secret-svc whoami`: who the worker says you are, plus the jti of your own credential. */
import type { Command } from 'commander';
import { tryParseCredential } from '@secret-svc/protocol';
import { cliIdentity, withClient } from '../lib/client-config.js';
import { out } from '../lib/io.js';

/** The jti of a credential, read locally (the whoami reply does not carry it); null if none. */
export function jtiOf(credential: string): string | null {
  return tryParseCredential(credential)?.claims.jti ?? null;
}

export function register(program: Command): void {
  program
    .command('whoami')
    .summary('who the worker says you are')
    .description('print your slug, admin flag, issuer and expiry as JSON, as the worker sees them, and the jti of your credential (read locally)')
    .action(async (_o: unknown, cmd: Command) => {
      const { credential } = cliIdentity(cmd);
      const me = await withClient(cmd, (c) => c.whoami());
      out(`${JSON.stringify({ ...me, jti: jtiOf(credential) }, null, 2)}\n`);
    });
}
